package org.cloe4j.infer;

import java.util.List;

import org.cloe4j.data.Modality;

/**
 * How much the experts agreed, per modality of the set that was segmented: {@code u} (global agreement), {@code v}
 * (agreement inside the region map) and {@code w} (the gate's fusion weight), means over the windows. {@code u} and
 * {@code v} are NaN when only one modality was given.
 */
public record Reliability(List<Modality> modalities, double[] u, double[] v, double[] w) {
    public Reliability {
        modalities = List.copyOf(modalities);
    }
}
