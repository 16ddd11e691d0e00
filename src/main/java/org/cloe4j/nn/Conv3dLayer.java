package org.cloe4j.nn;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Parameter;
import org.cloe4j.graph.Value;
import org.cloe4j.tensor.Shape;

/** A 3D convolution with bias, Kaiming-normal weights (LeakyReLU gain) and PyTorch's default bias init. */
public final class Conv3dLayer {
    private final Parameter weight;
    private final Parameter bias;
    private final ConvSpec spec;

    public Conv3dLayer(ParameterStore store, String name, int in, int out, ConvSpec spec, float slope) {
        int fanIn = in * spec.k() * spec.k() * spec.k();
        this.weight = store.kaiming(name + ".weight", Shape.ncdhw(out, in, spec.k(), spec.k(), spec.k()), fanIn, slope);
        this.bias = store.uniform(name + ".bias", Shape.of(out), 1.0 / Math.sqrt(fanIn));
        this.spec = spec;
    }

    public Value apply(GraphBuilder g, Value x) {
        return g.conv3d(x, g.param(weight), g.param(bias), spec);
    }
}
