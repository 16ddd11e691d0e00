package org.cloe4j.backend.cpu;

import org.cloe4j.backend.Pointwise;
import org.cloe4j.backend.ShapeChecks;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.cloe4j.tensor.Tensor;

/** Element-wise ops: the pointwise functions (activations), scaling, accumulation. Memory-bound, so vectorised and split over the cores. */
final class CpuElementwise {
    static final int GRAIN = 1 << 15;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private CpuElementwise() {
    }

    /** y += a * x over the first n elements. */
    static void axpy(float a, float[] x, float[] y, int n) {
        Parallel.forRange(n, GRAIN, (lo, hi) -> {
            int i = lo;
            FloatVector va = FloatVector.broadcast(F, a);
            for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
                FloatVector.fromArray(F, x, i).fma(va, FloatVector.fromArray(F, y, i)).intoArray(y, i);
            }
            for (; i < hi; i++) y[i] += a * x[i];
        });
    }

    static void scale(Tensor x, float s, Tensor y) {
        ShapeChecks.sameShape("scale", x, y);
        float[] xs = x.data();
        float[] ys = y.data();
        Parallel.forRange((int) x.shape().size(), GRAIN, (lo, hi) -> {
            int i = lo;
            for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
                FloatVector.fromArray(F, xs, i).mul(s).intoArray(ys, i);
            }
            for (; i < hi; i++) ys[i] = s * xs[i];
        });
    }

    /** y = f(x; a), split over the cores; the per-element work is the constant's own (see {@link Pointwise}). */
    static void pointwise(Pointwise f, float a, Tensor x, Tensor y) {
        f.checkForward(a, x, y);
        float[] xs = x.data();
        float[] ys = y.data();
        Parallel.forRange((int) x.shape().size(), GRAIN, (lo, hi) -> f.forward(xs, ys, lo, hi, a));
    }

    /** gx = gy · f'(x; a); x or y may be null where f does not read it. */
    static void pointwiseBackward(Pointwise f, float a, Tensor x, Tensor y, Tensor gy, Tensor gx) {
        f.checkBackward(a, x, y, gy, gx);
        float[] xs = f.readsInput() ? x.data() : null;
        float[] ys = f.readsOutput() ? y.data() : null;
        float[] g = gy.data();
        float[] out = gx.data();
        Parallel.forRange((int) gy.shape().size(), GRAIN, (lo, hi) -> f.backward(xs, ys, g, out, lo, hi, a));
    }
}
