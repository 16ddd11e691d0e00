package org.cloe4j.graph;

import org.cloe4j.backend.Backend;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * One operation of a graph: how its output shape follows from its inputs', how to compute it on a backend, and its
 * gradient rule. The set is closed ({@link Ops} holds every one): {@code OpRuleGradTest} lists the permitted
 * subclasses and runs each rule, as {@link Ops} ships it, through the graph runtime against central differences of a
 * double-precision reference, and fails when an op has no case.
 */
public sealed interface Op permits Ops.Conv3d, Ops.Upsample2x, Ops.InstanceNorm, Ops.NormLeakyRelu, Ops.Unary, Ops.Scale, Ops.Add,
        Ops.Mul, Ops.SumTo, Ops.SoftmaxChannels, Ops.Concat, Ops.Dense, Ops.MaskedSoftmax, Ops.PairwiseCosine, Ops.WeightedSum, Ops.WeightedCrossEntropy, Ops.SoftDice, Ops.BinaryCrossEntropy,
        Ops.Reshape, Ops.StopGradient {

    Shape[] NO_SHAPES = new Shape[0];

    /** Name used in messages. */
    String name();

    /** The output shape; throws an IllegalArgumentException naming the op and the shapes when they do not fit. */
    Shape outputShape(Shape[] in);

    /** Extra tensors the forward writes for the backward (e.g. instance-norm statistics). */
    default Shape[] auxShapes(Shape[] in) {
        return NO_SHAPES;
    }

    void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out);

    /**
     * Writes the gradient of every input {@code i} with {@code gIn[i] != null} (the runtime allocates those) from
     * the output's gradient {@code gOut}; {@code out} is null unless {@link #savesOutput()}, and {@code in} entries
     * are null unless {@link #savesInputs()}.
     */
    void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor gOut, Tensor[] gIn);

    /** Whether the backward reads the forward's inputs (they are then kept alive until it runs). */
    default boolean savesInputs() {
        return true;
    }

    /** Whether the backward reads the forward's output. */
    default boolean savesOutput() {
        return false;
    }

    /** Whether a gradient can flow into input {@code i} (false for targets, masks and stopped values). */
    default boolean differentiable(int i) {
        return true;
    }
}
