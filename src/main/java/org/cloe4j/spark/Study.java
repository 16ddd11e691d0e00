package org.cloe4j.spark;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One study of a cohort as the driver lists it: its id, its sequence files (modality name to file, and the volume
 * inside a 4D file), and a problem already known when listing (e.g. a study id unusable as a folder name), which
 * turns the study into an error row without touching its files.
 */
public record Study(String id, LinkedHashMap<String, Source> sequences, String problem) implements Serializable {

    /** A sequence: a NIfTI file and the volume inside it (0 for 3D files; the channel of an MSD 4D image). */
    public record Source(String file, int volume) implements Serializable {
    }

    public Study {
        sequences = new LinkedHashMap<>(sequences);
    }

    static Study of(String id, Map<String, Source> sequences) {
        return new Study(id, new LinkedHashMap<>(sequences), null);
    }

    static Study broken(String id, Map<String, Source> sequences, String problem) {
        return new Study(id, new LinkedHashMap<>(sequences), problem);
    }
}
