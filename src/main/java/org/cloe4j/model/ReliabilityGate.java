package org.cloe4j.model;

import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;
import org.cloe4j.nn.DenseLayer;
import org.cloe4j.nn.ParameterStore;

/** G: the MLP (2 → 16 → 1, LeakyReLU) shared by all modalities, mapping (u_m, v_m) to a gate logit g_m. */
final class ReliabilityGate {
    static final int HIDDEN = 16;
    private final DenseLayer fc1;
    private final DenseLayer fc2;
    private final float slope;

    ReliabilityGate(ParameterStore ps, String name, float slope) {
        fc1 = new DenseLayer(ps, name + ".fc1", 2, HIDDEN);
        fc2 = new DenseLayer(ps, name + ".fc2", HIDDEN, 1);
        this.slope = slope;
    }

    /** Logits [M,1] from scores [M,2]. */
    Value apply(GraphBuilder g, Value scores) {
        return fc2.apply(g, g.leakyRelu(fc1.apply(g, scores), slope));
    }
}
