package org.cloe4j.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.Pointwise;
import org.cloe4j.tensor.Shape;

/**
 * Records ops into a graph. Shapes are checked as each op is added, so a mistake fails where it is made, naming the
 * op and the shapes. The builder's order is a valid topological order. Not thread-safe; the built graph is.
 */
public final class GraphBuilder {
    final List<Value> values = new ArrayList<>();
    final List<Value.Node> nodes = new ArrayList<>();
    private final Map<Parameter, Value> params = new HashMap<>();
    private final Map<String, Value> inputs = new HashMap<>();

    /** A tensor bound when the graph runs, by name. */
    public Value input(String name, Shape shape) {
        if (inputs.containsKey(name)) throw new IllegalArgumentException("graph input '" + name + "' declared twice");
        Value v = new Value(values.size(), Value.Kind.INPUT, shape, name, null, null);
        values.add(v);
        inputs.put(name, v);
        return v;
    }

    /** A constant tensor fixed when the graph is built (masks, pair weights); each run uploads it. */
    public Value constant(String name, Shape shape, float[] data) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("constant '" + name + "': " + data.length + " values for shape " + shape);
        }
        Value v = new Value(values.size(), Value.Kind.CONSTANT, shape, name, null, null);
        v.constant = data.clone();
        values.add(v);
        return v;
    }

    /** A parameter; the same parameter used twice is one value (its gradients add up). */
    public Value param(Parameter p) {
        return params.computeIfAbsent(p, k -> {
            Value v = new Value(values.size(), Value.Kind.PARAMETER, k.shape(), k.name(), k, null);
            values.add(v);
            return v;
        });
    }

    /** Applies {@code op} to {@code in} and returns its output. */
    public Value apply(Op op, Value... in) {
        Shape[] shapes = new Shape[in.length];
        for (int i = 0; i < in.length; i++) shapes[i] = in[i].shape;
        Shape out = op.outputShape(shapes);
        Value.Node node = new Value.Node(nodes.size(), op, in.clone());
        nodes.add(node);
        Value v = new Value(values.size(), Value.Kind.OP, out, null, null, node);
        node.output(v);
        values.add(v);
        return v;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the op set, by name

    public Value conv3d(Value x, Value w, Value bias, ConvSpec spec) {
        return bias == null ? apply(new Ops.Conv3d(spec), x, w) : apply(new Ops.Conv3d(spec), x, w, bias);
    }

    public Value upsample2x(Value x) {
        return apply(new Ops.Upsample2x(), x);
    }

    public Value instanceNorm(Value x, float eps) {
        return apply(new Ops.InstanceNorm(eps), x);
    }

    public Value instanceNorm(Value x, Value gamma, Value beta, float eps) {
        return apply(new Ops.InstanceNorm(eps), x, gamma, beta);
    }

    /** leakyRelu(instanceNorm(x, eps), slope) as one op (no affine): see {@link Ops.NormLeakyRelu}. */
    public Value instanceNormLeakyRelu(Value x, float eps, float slope) {
        return apply(new Ops.NormLeakyRelu(eps, slope), x);
    }

    /** leakyRelu(instanceNorm(x, eps), slope) + residual as one op: see {@link Ops.NormLeakyRelu}. */
    public Value instanceNormLeakyRelu(Value x, Value residual, float eps, float slope) {
        return apply(new Ops.NormLeakyRelu(eps, slope), x, residual);
    }

    /** y = f(x) for every element, for any pointwise function without a parameter. */
    public Value pointwise(Pointwise f, Value x) {
        return pointwise(f, 0f, x);
    }

    /** y = f(x; a) for every element (a: the function's parameter, e.g. leaky ReLU's slope). */
    public Value pointwise(Pointwise f, float a, Value x) {
        return apply(new Ops.Unary(f, a), x);
    }

    public Value leakyRelu(Value x, float slope) {
        return pointwise(Pointwise.LEAKY_RELU, slope, x);
    }

    public Value sigmoid(Value x) {
        return pointwise(Pointwise.SIGMOID, x);
    }

    /** SiLU (swish): x·sigmoid(x). */
    public Value silu(Value x) {
        return pointwise(Pointwise.SILU, x);
    }

    public Value scale(Value x, float factor) {
        return apply(new Ops.Scale(factor), x);
    }

    public Value add(Value a, Value b) {
        return apply(new Ops.Add(), a, b);
    }

    public Value mul(Value a, Value b) {
        return apply(new Ops.Mul(), a, b);
    }

    public Value sumTo(Value x, Shape shape) {
        return apply(new Ops.SumTo(shape), x);
    }

    /** Sum of every element, as a tensor of x's rank with all sizes 1. */
    public Value sum(Value x) {
        int[] ones = new int[x.shape.rank()];
        Arrays.fill(ones, 1);
        return sumTo(x, Shape.of(ones));
    }

    /** Mean of every element. */
    public Value mean(Value x) {
        return scale(sum(x), (float) (1.0 / x.shape.size()));
    }

    public Value softmaxChannels(Value x) {
        return apply(new Ops.SoftmaxChannels(), x);
    }

    public Value concat(Value... xs) {
        List<Integer> channels = new ArrayList<>();
        for (Value x : xs) channels.add(x.shape.rank() == 5 ? x.shape.c() : -1);
        return apply(new Ops.Concat(channels), xs);
    }

    public Value dense(Value x, Value w, Value b) {
        return b == null ? apply(new Ops.Dense(), x, w) : apply(new Ops.Dense(), x, w, b);
    }

    public Value maskedSoftmax(Value logits, Value mask) {
        return apply(new Ops.MaskedSoftmax(), logits, mask);
    }

    /** [M,M] cosine similarities of the maps (inside {@code region} when it is not null). */
    public Value pairwiseCosine(List<Value> maps, Value region) {
        Value[] in = maps.toArray(new Value[maps.size() + (region == null ? 0 : 1)]);
        if (region != null) in[maps.size()] = region;
        return apply(new Ops.PairwiseCosine(region != null), in);
    }

    /** Σ_m w[m] · maps[m]. */
    public Value weightedSum(List<Value> maps, Value weights) {
        Value[] in = maps.toArray(new Value[maps.size() + 1]);
        in[maps.size()] = weights;
        return apply(new Ops.WeightedSum(), in);
    }

    public Value weightedCrossEntropy(Value p, Value target) {
        return apply(new Ops.WeightedCrossEntropy(), p, target);
    }

    /** Cross-entropy with class weights max(1 − share, floor): floor 0 is RFNet's, 1 plain cross-entropy. */
    public Value weightedCrossEntropy(Value p, Value target, float floor) {
        return apply(new Ops.WeightedCrossEntropy(floor), p, target);
    }

    public Value softDice(Value p, Value target) {
        return apply(new Ops.SoftDice(), p, target);
    }

    /** Soft Dice with smoothing s: (2I + s) / (P + T + s) per class. */
    public Value softDice(Value p, Value target, float smooth) {
        return apply(new Ops.SoftDice(smooth), p, target);
    }

    public Value binaryCrossEntropy(Value p, Value target) {
        return apply(new Ops.BinaryCrossEntropy(), p, target);
    }

    public Value reshape(Value x, Shape shape) {
        return apply(new Ops.Reshape(shape), x);
    }

    public Value stopGradient(Value x) {
        return apply(new Ops.StopGradient(), x);
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** A graph for inference: no gradients, buffers freed as soon as they are dead. */
    public Graph build(Value... outputs) {
        return new Graph(this, null, List.of(outputs));
    }

    /** A graph whose {@link Graph.Run#backward()} differentiates {@code loss} (a scalar) into every parameter. */
    public Graph buildTraining(Value loss, Value... outputs) {
        if (loss.shape.size() != 1) throw new IllegalArgumentException("loss must be a scalar, got " + loss.shape);
        return new Graph(this, loss, List.of(outputs));
    }
}
