package org.cloe4j.data;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

import java.util.List;
import java.util.Locale;

/**
 * One MRI sequence (or other input channel), identified by a lower-case name. The set and order of a cohort's
 * modalities come from the {@link Cohort}; the constants cover the BraTS sequences and MSD prostate.
 *
 * In JSON a modality is its name (a config's {@code "modalities": ["flair", ...]}).
 *
 * @param name lower-case identifier, e.g. {@code "flair"}
 */
public record Modality(@JsonValue String name) {

    public static final Modality FLAIR = new Modality("flair");
    public static final Modality T1CE = new Modality("t1ce");
    public static final Modality T1 = new Modality("t1");
    public static final Modality T2 = new Modality("t2");
    public static final Modality ADC = new Modality("adc");

    /** BraTS channel order (RFNet's): FLAIR, T1ce, T1, T2. */
    public static final List<Modality> BRATS = List.of(FLAIR, T1CE, T1, T2);
    /** MSD Task05 prostate channel order: T2, ADC. */
    public static final List<Modality> PROSTATE = List.of(T2, ADC);

    public Modality {
        if (name == null || name.isBlank()) throw new IllegalArgumentException("modality name must not be blank");
        name = name.strip().toLowerCase(Locale.ROOT);
    }

    /** The modality called {@code name} (case-insensitive), e.g. {@code Modality.of("FLAIR")}. */
    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static Modality of(String name) {
        return new Modality(name);
    }

    /** Display name as the papers write it (FLAIR, T1ce, T1, T2, ADC; others upper-case). */
    public String displayName() {
        return switch (name) {
            case "flair" -> "FLAIR";
            case "t1ce" -> "T1ce";
            default -> name.toUpperCase(Locale.ROOT);
        };
    }

    @Override
    public String toString() {
        return name;
    }
}
