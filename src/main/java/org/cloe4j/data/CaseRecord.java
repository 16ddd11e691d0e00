package org.cloe4j.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One case of a cohort on disk: its id, where each modality's image is, and where its label map is (if any).
 *
 * @param id       case identifier, e.g. {@code BraTS20_Training_001}
 * @param images   where each modality is, in the cohort's channel order
 * @param label    the segmentation file, or null for an unlabelled case
 * @param scheme   how the label file's values map to classes
 */
public record CaseRecord(String id, Map<Modality, ImageSource> images, Path label, LabelScheme scheme) {

    /**
     * Where one modality's voxels are: a 3D file ({@code volume} = 0) or one volume of a 4D file (MSD layout).
     *
     * @param file   the NIfTI file
     * @param volume index of the 3D volume inside the file
     */
    public record ImageSource(Path file, int volume) {
        public ImageSource {
            if (volume < 0) throw new IllegalArgumentException("volume index must be >= 0: " + volume);
        }
    }

    public CaseRecord {
        images = Collections.unmodifiableMap(new LinkedHashMap<>(images));
    }

    /** The modalities this case has, in channel order. */
    public List<Modality> modalities() {
        return List.copyOf(images.keySet());
    }

    /** Whether a label file is known. */
    public boolean hasLabel() {
        return label != null;
    }

    /** Every file this case reads (images, then label), without repetition: what a cache checks for changes. */
    public List<Path> files() {
        List<Path> out = new ArrayList<>();
        for (ImageSource s : images.values()) if (!out.contains(s.file())) out.add(s.file());
        if (label != null) out.add(label);
        return out;
    }
}
