package org.cloe4j.model;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;
import org.cloe4j.nn.Conv3dLayer;
import org.cloe4j.nn.ConvBlock;
import org.cloe4j.nn.ParameterStore;

/** π: the learned tumour region r = sigmoid(conv1³(conv1(mean_m e1^(m)))) in [0,1], one channel. */
final class RegionHead {
    private final ConvBlock hidden;
    private final Conv3dLayer out;

    RegionHead(ParameterStore ps, String name, int base, float slope) {
        hidden = new ConvBlock(ps, name + ".pi1", base, base / 2, ConvSpec.pointwise(), slope);
        out = new Conv3dLayer(ps, name + ".pi2", base / 2, 1, ConvSpec.pointwise(), 1f);
    }

    Value apply(GraphBuilder g, Value meanE1) {
        return g.sigmoid(out.apply(g, hidden.apply(g, meanE1)));
    }
}
