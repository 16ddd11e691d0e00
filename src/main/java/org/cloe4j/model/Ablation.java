package org.cloe4j.model;

/** The parts of CLoE that can be switched off for the ablation study (docs/MODEL.md). */
public enum Ablation {
    /** No global consistency loss L_MEC. */
    NO_MEC,
    /** No regional consistency loss L_REC. */
    NO_REC,
    /**
     * No learned gate: fusion weights are the parameter-free reliability softmax_A(u_m + v_m). (Uniform weights would make this ablation the same computation as {@link #NO_WEIGHTED_FUSION}.)
     */
    NO_GATE,
    /** No reliability weighting: features are fused by their plain mean over the available modalities. */
    NO_WEIGHTED_FUSION;

    public String cliName() {
        return name().toLowerCase().replace('_', '-');
    }

    public static Ablation parse(String s) {
        for (Ablation a : values()) if (a.cliName().equalsIgnoreCase(s) || a.name().equalsIgnoreCase(s)) return a;
        throw new IllegalArgumentException("unknown ablation '" + s + "' (known: no-mec, no-rec, no-gate, no-weighted-fusion)");
    }
}
