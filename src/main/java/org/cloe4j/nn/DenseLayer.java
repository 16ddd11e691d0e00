package org.cloe4j.nn;

import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Parameter;
import org.cloe4j.graph.Value;
import org.cloe4j.tensor.Shape;

/** A fully connected layer y = x·Wᵀ + b, initialised as PyTorch's nn.Linear (uniform ±1/sqrt(in)). */
public final class DenseLayer {
    private final Parameter weight;
    private final Parameter bias;

    public DenseLayer(ParameterStore store, String name, int in, int out) {
        double bound = 1.0 / Math.sqrt(in);
        this.weight = store.uniform(name + ".weight", Shape.of(out, in), bound);
        this.bias = store.uniform(name + ".bias", Shape.of(out), bound);
    }

    public Value apply(GraphBuilder g, Value x) {
        return g.dense(x, g.param(weight), g.param(bias));
    }
}
