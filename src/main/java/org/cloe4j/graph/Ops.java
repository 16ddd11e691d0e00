package org.cloe4j.graph;

import org.cloe4j.backend.Backend;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.Pointwise;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * Every graph op. Each forwards to the backend op of the same name ({@link Unary}: to {@code pointwise}, for any
 * {@link Pointwise} function) and states its gradient rule.
 */
public final class Ops {
    private Ops() {
    }

    static IllegalArgumentException bad(String op, String what, Shape[] in) {
        return new IllegalArgumentException(op + ": " + what + " (inputs " + java.util.Arrays.toString(in) + ")");
    }

    static void arity(String op, Shape[] in, int min, int max) {
        if (in.length < min || in.length > max) throw bad(op, "expects " + min + ".." + max + " inputs", in);
    }

    static void rank(String op, Shape[] in, int i, int rank) {
        if (in[i].rank() != rank) throw bad(op, "input " + i + " must have rank " + rank, in);
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** Inputs: x [N,Ci,D,H,W], w [Co,Ci,k,k,k], optional bias [Co]. */
    public record Conv3d(ConvSpec spec) implements Op {
        public String name() {
            return "conv3d";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 2, 3);
            Shape out = spec.outputShape(in[0], in[1]);
            if (in.length == 3 && !in[2].equals(Shape.of(in[1].dim(0)))) throw bad(name(), "bias must be [Co]", in);
            return out;
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.conv3d(in[0], in[1], in.length > 2 ? in[2] : null, out, spec);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            if (gIn[0] != null) be.conv3dBackwardData(g, in[1], gIn[0], spec);
            if (gIn[1] != null || gIn.length > 2 && gIn[2] != null) {
                Tensor gw = gIn[1] != null ? gIn[1] : be.allocate(in[1].shape());
                be.conv3dBackwardWeight(in[0], g, gw, gIn.length > 2 ? gIn[2] : null, spec);
                if (gIn[1] == null) be.release(gw);
            }
        }
    }

    /** Trilinear x2, align_corners = true. */
    public record Upsample2x() implements Op {
        public String name() {
            return "upsample2x";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 1);
            rank(name(), in, 0, 5);
            Shape s = in[0];
            return Shape.ncdhw(s.n(), s.c(), 2 * s.d(), 2 * s.h(), 2 * s.w());
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.upsample2x(in[0], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.upsample2xBackward(g, gIn[0]);
        }

        public boolean savesInputs() {
            return false;
        }
    }

    /** Inputs: x, optional gamma [C] and beta [C]. Aux: mean and rstd [N,C]. */
    public record InstanceNorm(float eps) implements Op {
        public String name() {
            return "instanceNorm";
        }

        public Shape outputShape(Shape[] in) {
            if (in.length != 1 && in.length != 3) throw bad(name(), "expects x or (x, gamma, beta)", in);
            rank(name(), in, 0, 5);
            if (in.length == 3 && (!in[1].equals(Shape.of(in[0].c())) || !in[2].equals(Shape.of(in[0].c())))) {
                throw bad(name(), "gamma and beta must be [C]", in);
            }
            return in[0];
        }

        public Shape[] auxShapes(Shape[] in) {
            Shape st = Shape.of(in[0].n(), in[0].c());
            return new Shape[]{st, st};
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.instanceNorm(in[0], in.length > 1 ? in[1] : null, in.length > 2 ? in[2] : null, out, aux[0], aux[1], eps);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            Tensor gx = gIn[0] != null ? gIn[0] : be.allocate(in[0].shape());
            be.instanceNormBackward(in[0], g, aux[0], aux[1], in.length > 1 ? in[1] : null, gx,
                    gIn.length > 1 ? gIn[1] : null, gIn.length > 2 ? gIn[2] : null);
            if (gIn[0] == null) be.release(gx);
        }
    }

    /**
     * CLoE's block after its conv, fused: y = leakyRelu(instanceNorm(x), slope), plus {@code residual} when given
     * (inputs: x, optional residual of x's shape; aux: mean and rstd [N,C]). Equal to the composition of
     * {@link InstanceNorm}, {@link Unary} leaky ReLU and {@link Add} (the backend's {@code instanceNormLeakyRelu}), without
     * their intermediate tensors. The backward recomputes the normalised x into a temporary (same statistics, so the
     * same values) and runs leaky ReLU's and the norm's backward; the residual's gradient is the output's.
     */
    public record NormLeakyRelu(float eps, float slope) implements Op {
        public NormLeakyRelu {
            Pointwise.LEAKY_RELU.checkParameter(slope);
        }

        public String name() {
            return "instanceNormLeakyRelu";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 2);
            rank(name(), in, 0, 5);
            if (in.length == 2 && !in[1].equals(in[0])) throw bad(name(), "the residual must have x's shape", in);
            return in[0];
        }

        public Shape[] auxShapes(Shape[] in) {
            Shape st = Shape.of(in[0].n(), in[0].c());
            return new Shape[]{st, st};
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.instanceNormLeakyRelu(in[0], in.length > 1 ? in[1] : null, out, aux[0], aux[1], eps, slope);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            if (gIn.length > 1 && gIn[1] != null) be.copy(g, gIn[1]);
            if (gIn[0] == null) return;
            Shape s = in[0].shape();
            Tensor z = be.allocate(s);
            Tensor m = be.allocate(aux[0].shape());
            Tensor r = be.allocate(aux[1].shape());
            be.instanceNorm(in[0], null, null, z, m, r, eps);
            be.release(m);
            be.release(r);
            Tensor gz = be.allocate(s);
            be.pointwiseBackward(Pointwise.LEAKY_RELU, slope, z, null, g, gz);
            be.release(z);
            be.instanceNormBackward(in[0], gz, aux[0], aux[1], null, gIn[0], null, null);
            be.release(gz);
        }
    }

    /**
     * y = f(x; a) for every element, for any {@link Pointwise} function (leaky ReLU, sigmoid, ...): the gradient rule
     * is the function's own derivative ({@link Backend#pointwiseBackward}), reading the input and/or output as the
     * function says, so the runtime keeps alive only those.
     */
    public record Unary(Pointwise f, float a) implements Op {
        public Unary {
            if (f == null) throw new IllegalArgumentException("unary: no pointwise function given");
            f.checkParameter(a);
        }

        public String name() {
            return f.opName();
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 1);
            return in[0];
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.pointwise(f, a, in[0], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.pointwiseBackward(f, a, f.readsInput() ? in[0] : null, f.readsOutput() ? out : null, g, gIn[0]);
        }

        public boolean savesInputs() {
            return f.readsInput();
        }

        public boolean savesOutput() {
            return f.readsOutput();
        }
    }

    public record Scale(float factor) implements Op {
        public String name() {
            return "scale";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 1);
            return in[0];
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.scale(in[0], factor, out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.scale(g, factor, gIn[0]);
        }

        public boolean savesInputs() {
            return false;
        }
    }

    /** a + b with broadcasting; the gradient of a broadcast operand is summed back to its shape. */
    public record Add() implements Op {
        public String name() {
            return "add";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 2, 2);
            return broadcast(name(), in);
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.add(in[0], in[1], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            for (Tensor gi : gIn) if (gi != null) be.sumTo(g, gi);
        }

        public boolean savesInputs() {
            return false;
        }
    }

    /** a * b with broadcasting. */
    public record Mul() implements Op {
        public String name() {
            return "mul";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 2, 2);
            return broadcast(name(), in);
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.mul(in[0], in[1], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            for (int i = 0; i < 2; i++) {
                if (gIn[i] == null) continue;
                Tensor full = be.allocate(g.shape());
                be.mul(g, in[1 - i], full);
                be.sumTo(full, gIn[i]);
                be.release(full);
            }
        }
    }

    /** The sum of x over the dimensions where {@code shape} has size 1. */
    public record SumTo(Shape shape) implements Op {
        public String name() {
            return "sumTo";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 1);
            if (in[0].rank() != shape.rank()) throw bad(name(), "cannot reduce to " + shape, in);
            for (int i = 0; i < shape.rank(); i++) {
                if (shape.dim(i) != 1 && shape.dim(i) != in[0].dim(i)) throw bad(name(), "cannot reduce to " + shape, in);
            }
            return shape;
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.sumTo(in[0], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.fill(gIn[0], 0f);
            be.add(gIn[0], g, gIn[0]);
        }

        public boolean savesInputs() {
            return false;
        }
    }

    public record SoftmaxChannels() implements Op {
        public String name() {
            return "softmaxChannels";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 1);
            rank(name(), in, 0, 5);
            return in[0];
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.softmaxChannels(in[0], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.softmaxChannelsBackward(out, g, gIn[0]);
        }

        public boolean savesInputs() {
            return false;
        }

        public boolean savesOutput() {
            return true;
        }
    }

    /** Concatenation along channels; {@code channels} lists each input's channel count. */
    public record Concat(java.util.List<Integer> channels) implements Op {
        public Concat {
            channels = java.util.List.copyOf(channels);
        }

        public String name() {
            return "concat";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, Integer.MAX_VALUE);
            if (in.length != channels.size()) throw bad(name(), "built for " + channels.size() + " inputs", in);
            int c = 0;
            for (int i = 0; i < in.length; i++) {
                rank(name(), in, i, 5);
                Shape s = in[i];
                if (s.n() != in[0].n() || s.d() != in[0].d() || s.h() != in[0].h() || s.w() != in[0].w()) {
                    throw bad(name(), "inputs differ outside the channel dimension", in);
                }
                if (s.c() != channels.get(i)) throw bad(name(), "input " + i + " should have " + channels.get(i) + " channels", in);
                c += s.c();
            }
            return in[0].with(1, c);
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.concatChannels(in, out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            int off = 0;
            for (int i = 0; i < gIn.length; i++) {
                if (gIn[i] != null) be.sliceChannels(g, off, gIn[i]);
                off += channels.get(i);
            }
        }

        public boolean savesInputs() {
            return false;
        }
    }

    /** x [B,in] · w[out,in]^T + b[out]. */
    public record Dense() implements Op {
        public String name() {
            return "dense";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 2, 3);
            rank(name(), in, 0, 2);
            rank(name(), in, 1, 2);
            if (in[1].dim(1) != in[0].dim(1)) throw bad(name(), "weight must be [out, in]", in);
            if (in.length == 3 && !in[2].equals(Shape.of(in[1].dim(0)))) throw bad(name(), "bias must be [out]", in);
            return Shape.of(in[0].dim(0), in[1].dim(0));
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.dense(in[0], in[1], in.length > 2 ? in[2] : null, out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.denseBackward(in[0], in[1], g, gIn[0], gIn[1], gIn.length > 2 ? gIn[2] : null);
        }
    }

    /** Inputs: logits [M], mask [M] (not differentiable). */
    public record MaskedSoftmax() implements Op {
        public String name() {
            return "maskedSoftmax";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 2, 2);
            if (in[0].rank() != 1 || !in[0].equals(in[1])) throw bad(name(), "logits and mask must both be [M]", in);
            return in[0];
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.maskedSoftmax(in[0], in[1], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.maskedSoftmaxBackward(out, g, gIn[0]);
        }

        public boolean savesInputs() {
            return false;
        }

        public boolean savesOutput() {
            return true;
        }

        public boolean differentiable(int i) {
            return i == 0;
        }
    }

    /** Inputs: M expert maps, then the region map when {@code regional}. Output [M,M]. */
    public record PairwiseCosine(boolean regional) implements Op {
        public String name() {
            return regional ? "pairwiseCosine(regional)" : "pairwiseCosine";
        }

        public Shape outputShape(Shape[] in) {
            int m = in.length - (regional ? 1 : 0);
            if (m < 1) throw bad(name(), "needs at least one map", in);
            for (int i = 0; i < m; i++) {
                rank(name(), in, i, 5);
                if (!in[i].equals(in[0])) throw bad(name(), "maps must share one shape", in);
            }
            if (regional) {
                Shape r = in[m];
                if (!r.equals(in[0].with(1, 1))) throw bad(name(), "region must be [N,1,D,H,W]", in);
            }
            return Shape.of(m, m);
        }

        private int maps(Tensor[] in) {
            return in.length - (regional ? 1 : 0);
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            int m = maps(in);
            be.pairwiseCosine(java.util.Arrays.copyOf(in, m), regional ? in[m] : null, out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            int m = maps(in);
            be.pairwiseCosineBackward(java.util.Arrays.copyOf(in, m), regional ? in[m] : null, g,
                    java.util.Arrays.copyOf(gIn, m), regional ? gIn[m] : null);
        }
    }

    /** Inputs: M same-shaped maps, then weights [M]. */
    public record WeightedSum() implements Op {
        public String name() {
            return "weightedSum";
        }

        public Shape outputShape(Shape[] in) {
            int m = in.length - 1;
            if (m < 1) throw bad(name(), "needs maps and weights", in);
            for (int i = 0; i < m; i++) if (!in[i].equals(in[0])) throw bad(name(), "maps must share one shape", in);
            if (!in[m].equals(Shape.of(m))) throw bad(name(), "weights must be [" + m + "]", in);
            return in[0];
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            int m = in.length - 1;
            be.weightedSum(java.util.Arrays.copyOf(in, m), in[m], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            int m = in.length - 1;
            be.weightedSumBackward(java.util.Arrays.copyOf(in, m), in[m], g, java.util.Arrays.copyOf(gIn, m), gIn[m]);
        }
    }

    /**
     * Loss of probabilities against a one-hot target (not differentiable), class weights max(1 − share, floor);
     * output [1].
     */
    public record WeightedCrossEntropy(float floor) implements Op {
        /** RFNet's weights (floor 0). */
        public WeightedCrossEntropy() {
            this(0f);
        }

        public String name() {
            return "weightedCrossEntropy";
        }

        public Shape outputShape(Shape[] in) {
            return lossShape(name(), in);
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.weightedCrossEntropy(in[0], in[1], floor, out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.weightedCrossEntropyBackward(in[0], in[1], floor, g, gIn[0]);
        }

        public boolean differentiable(int i) {
            return i == 0;
        }
    }

    /** Soft Dice with smoothing s in numerator and denominator; output [1]. */
    public record SoftDice(float smooth) implements Op {
        /** RFNet's Dice (no smoothing). */
        public SoftDice() {
            this(0f);
        }

        public String name() {
            return "softDice";
        }

        public Shape outputShape(Shape[] in) {
            return lossShape(name(), in);
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.softDice(in[0], in[1], smooth, out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.softDiceBackward(in[0], in[1], smooth, g, gIn[0]);
        }

        public boolean differentiable(int i) {
            return i == 0;
        }
    }

    public record BinaryCrossEntropy() implements Op {
        public String name() {
            return "binaryCrossEntropy";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 2, 2);
            if (!in[0].equals(in[1])) throw bad(name(), "prediction and target shapes differ", in);
            return Shape.scalar();
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.binaryCrossEntropy(in[0], in[1], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.binaryCrossEntropyBackward(in[0], in[1], g, gIn[0]);
        }

        public boolean differentiable(int i) {
            return i == 0;
        }
    }

    /** The same elements seen with another shape (a copy, so buffers never alias). */
    public record Reshape(Shape shape) implements Op {
        public String name() {
            return "reshape";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 1);
            if (in[0].size() != shape.size()) throw bad(name(), "cannot reshape to " + shape, in);
            return shape;
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.copy(in[0], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            be.copy(g, gIn[0]);
        }

        public boolean savesInputs() {
            return false;
        }
    }

    /** Identity whose input receives no gradient (PyTorch's detach). */
    public record StopGradient() implements Op {
        public String name() {
            return "stopGradient";
        }

        public Shape outputShape(Shape[] in) {
            arity(name(), in, 1, 1);
            return in[0];
        }

        public void forward(Backend be, Tensor[] in, Tensor[] aux, Tensor out) {
            be.copy(in[0], out);
        }

        public void backward(Backend be, Tensor[] in, Tensor[] aux, Tensor out, Tensor g, Tensor[] gIn) {
            // no gradient flows back
        }

        public boolean savesInputs() {
            return false;
        }

        public boolean differentiable(int i) {
            return false;
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    private static Shape lossShape(String op, Shape[] in) {
        arity(op, in, 2, 2);
        rank(op, in, 0, 5);
        if (!in[0].equals(in[1])) throw bad(op, "prediction and target shapes differ", in);
        return Shape.scalar();
    }

    private static Shape broadcast(String op, Shape[] in) {
        Shape a = in[0];
        Shape b = in[1];
        if (a.rank() != b.rank()) throw bad(op, "operands must have the same rank", in);
        int[] d = new int[a.rank()];
        for (int i = 0; i < d.length; i++) {
            if (a.dim(i) != b.dim(i) && a.dim(i) != 1 && b.dim(i) != 1) throw bad(op, "shapes do not broadcast", in);
            d[i] = Math.max(a.dim(i), b.dim(i));
        }
        return Shape.of(d);
    }
}
