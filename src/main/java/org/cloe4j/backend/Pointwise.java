package org.cloe4j.backend;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.cloe4j.tensor.Tensor;

/**
 * The unary element-wise functions y = f(x; a) (activations), each with its gradient, in one place: a constant here is
 * the whole CPU implementation of one function, forward and derivative. The backends run every constant through one
 * op pair ({@link Backend#pointwise}, {@link Backend#pointwiseBackward}), the CUDA backend through one kernel pair
 * ({@code cloe_pointwise_fwd/bwd} in {@code kernels/activation.cu}) whose switch has a {@code case} for each
 * {@link #code()}, and the graph through one op ({@code Ops.Unary}) whose gradient rule is {@link #backward}.
 *
 * <p>Adding a function: a constant here (a new, unused code; its forward, its derivative, what the derivative
 * reads), its two cases in {@code kernels/activation.cu} (label = the code, the constant's name in a comment), its
 * reference in the test sources' {@code PointwiseCases} (the gradient, graph-rule and CUDA parity tests iterate over
 * every constant; a constant without a reference does not compile there) and, optionally, a named method in
 * {@code GraphBuilder} ({@code GraphBuilder.pointwise} takes any constant). {@code PointwiseKernelCodesTest} fails
 * when the kernel's cases and the codes here disagree.
 *
 * <p>The derivative may read the forward's input x, its output y, or both ({@link #readsInput()},
 * {@link #readsOutput()}); the graph runtime keeps alive only what it reads, and the backends accept null for the
 * other.
 */
public enum Pointwise {

    /** y = x > 0 ? x : a·x (a = 0: ReLU). The derivative reads x; at x = 0 it is a (PyTorch's choice). */
    LEAKY_RELU(0, "leakyRelu", true, false, true) {
        @Override
        public float forward(float x, float a) {
            return x > 0 ? x : a * x;
        }

        @Override
        public float backward(float x, float y, float gy, float a) {
            return x > 0 ? gy : a * gy;
        }

        @Override
        public void forward(float[] xs, float[] ys, int lo, int hi, float a) {
            int i = lo;
            for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, xs, i);
                v.blend(v.mul(a), v.compare(VectorOperators.LE, 0f)).intoArray(ys, i);
            }
            for (; i < hi; i++) ys[i] = xs[i] > 0 ? xs[i] : a * xs[i];
        }

        @Override
        public void backward(float[] xs, float[] ys, float[] g, float[] out, int lo, int hi, float a) {
            int i = lo;
            for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, g, i);
                v.blend(v.mul(a), FloatVector.fromArray(F, xs, i).compare(VectorOperators.LE, 0f)).intoArray(out, i);
            }
            for (; i < hi; i++) out[i] = xs[i] > 0 ? g[i] : a * g[i];
        }
    },

    /** y = 1 / (1 + e^−x), in double then rounded once. The derivative reads y: y·(1 − y). */
    SIGMOID(1, "sigmoid", false, true, false) {
        @Override
        public float forward(float x, float a) {
            return (float) (1.0 / (1.0 + Math.exp(-x)));
        }

        @Override
        public float backward(float x, float y, float gy, float a) {
            return gy * y * (1f - y);
        }
    },

    /**
     * SiLU (swish): y = x·σ(x) = x / (1 + e^−x), in double then rounded once. The derivative reads x:
     * σ(x)·(1 + x·(1 − σ(x))).
     */
    SILU(2, "silu", true, false, false) {
        @Override
        public float forward(float x, float a) {
            return (float) (x / (1.0 + Math.exp(-x)));
        }

        @Override
        public float backward(float x, float y, float gy, float a) {
            double s = 1.0 / (1.0 + Math.exp(-x));
            return (float) (gy * (s * (1.0 + x * (1.0 - s))));
        }
    };

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private final int code;
    private final String opName;
    private final boolean readsInput;
    private final boolean readsOutput;
    private final boolean hasParameter;

    Pointwise(int code, String opName, boolean readsInput, boolean readsOutput, boolean hasParameter) {
        this.code = code;
        this.opName = opName;
        this.readsInput = readsInput;
        this.readsOutput = readsOutput;
        this.hasParameter = hasParameter;
    }

    /** The {@code case} label of this function in {@code kernels/activation.cu}; never reused. */
    public int code() {
        return code;
    }

    /** The name in messages, graph op names and profiles (e.g. {@code leakyRelu}). */
    public String opName() {
        return opName;
    }

    /** Whether the derivative reads the forward's input x. */
    public boolean readsInput() {
        return readsInput;
    }

    /** Whether the derivative reads the forward's output y. */
    public boolean readsOutput() {
        return readsOutput;
    }

    /** Whether the parameter a means anything (for the others it must be 0). */
    public boolean hasParameter() {
        return hasParameter;
    }

    /** f(x; a) of one element: the CPU implementation. */
    public abstract float forward(float x, float a);

    /**
     * gx = gy · f'(x; a) of one element, from the forward's input x and output y (each 0 when this function does not
     * read it).
     */
    public abstract float backward(float x, float y, float gy, float a);

    /** {@code ys[i] = f(xs[i]; a)} for i in [lo, hi); a constant may override it with a vectorised loop. */
    public void forward(float[] xs, float[] ys, int lo, int hi, float a) {
        for (int i = lo; i < hi; i++) ys[i] = forward(xs[i], a);
    }

    /**
     * {@code out[i] = gy[i] · f'(xs[i]; a)} for i in [lo, hi); {@code xs} or {@code ys} is null when this function does
     * not read it. A constant may override it with a vectorised loop.
     */
    public void backward(float[] xs, float[] ys, float[] g, float[] out, int lo, int hi, float a) {
        for (int i = lo; i < hi; i++) out[i] = backward(xs == null ? 0f : xs[i], ys == null ? 0f : ys[i], g[i], a);
    }

    /** The shape checks of {@link Backend#pointwise}, the same words on every backend. */
    public void checkForward(float a, Tensor x, Tensor y) {
        checkParameter(a);
        ShapeChecks.sameShape(opName, x, y);
    }

    /**
     * The checks of {@link Backend#pointwiseBackward}: the tensors the derivative reads are present and every present
     * one has gy's shape.
     */
    public void checkBackward(float a, Tensor x, Tensor y, Tensor gy, Tensor gx) {
        String op = opName + " backward";
        checkParameter(a);
        if (readsInput && x == null) throw new IllegalArgumentException(op + ": needs the forward's input x (got null)");
        if (readsOutput && y == null) throw new IllegalArgumentException(op + ": needs the forward's output y (got null)");
        if (x != null) ShapeChecks.sameShape(op, x, gy);
        if (y != null) ShapeChecks.sameShape(op, y, gy);
        ShapeChecks.sameShape(op, gy, gx);
    }

    /** A parameter given to a function that has none is a mistake (for example a slope meant for another op). */
    public void checkParameter(float a) {
        if (!hasParameter && a != 0f) {
            throw new IllegalArgumentException(opName + ": takes no parameter, got " + a);
        }
        if (!Float.isFinite(a)) throw new IllegalArgumentException(opName + ": parameter must be finite, got " + a);
    }
}
