package org.cloe4j.nn;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;

/**
 * CLoE's block: Conv3d (bias) → InstanceNorm3d (eps 1e-5, no affine) → LeakyReLU(slope), the norm and the activation
 * (and a residual add) as one fused graph op.
 */
public final class ConvBlock {
    public static final float EPS = 1e-5f;
    private final Conv3dLayer conv;
    private final float slope;

    public ConvBlock(ParameterStore store, String name, int in, int out, ConvSpec spec, float slope) {
        this.conv = new Conv3dLayer(store, name + ".conv", in, out, spec, slope);
        this.slope = slope;
    }

    public Value apply(GraphBuilder g, Value x) {
        return g.instanceNormLeakyRelu(conv.apply(g, x), EPS, slope);
    }

    /**
     * The block's output plus {@code residual} (x's shape after the conv), the add fused into the norm's pass: equal
     * to {@code g.add(residual, apply(g, x))}.
     */
    public Value apply(GraphBuilder g, Value x, Value residual) {
        return g.instanceNormLeakyRelu(conv.apply(g, x), residual, EPS, slope);
    }
}
