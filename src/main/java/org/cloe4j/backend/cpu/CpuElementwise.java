package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.cloe4j.tensor.Tensor;

/** Element-wise ops: activations, scaling, accumulation. Memory-bound, so vectorised and split over the cores. */
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

    static void leakyRelu(Tensor x, Tensor y, float slope) {
        ShapeChecks.sameShape("leakyRelu", x, y);
        float[] xs = x.data();
        float[] ys = y.data();
        Parallel.forRange((int) x.shape().size(), GRAIN, (lo, hi) -> {
            int i = lo;
            for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, xs, i);
                v.blend(v.mul(slope), v.compare(VectorOperators.LE, 0f)).intoArray(ys, i);
            }
            for (; i < hi; i++) ys[i] = xs[i] > 0 ? xs[i] : slope * xs[i];
        });
    }

    static void leakyReluBackward(Tensor x, Tensor gy, Tensor gx, float slope) {
        ShapeChecks.sameShape("leakyRelu backward", x, gy);
        ShapeChecks.sameShape("leakyRelu backward", x, gx);
        float[] xs = x.data();
        float[] g = gy.data();
        float[] out = gx.data();
        Parallel.forRange((int) x.shape().size(), GRAIN, (lo, hi) -> {
            int i = lo;
            for (int end = lo + F.loopBound(hi - lo); i < end; i += F.length()) {
                FloatVector v = FloatVector.fromArray(F, g, i);
                v.blend(v.mul(slope), FloatVector.fromArray(F, xs, i).compare(VectorOperators.LE, 0f)).intoArray(out, i);
            }
            for (; i < hi; i++) out[i] = xs[i] > 0 ? g[i] : slope * g[i];
        });
    }

    static void sigmoid(Tensor x, Tensor y) {
        ShapeChecks.sameShape("sigmoid", x, y);
        float[] xs = x.data();
        float[] ys = y.data();
        Parallel.forRange((int) x.shape().size(), GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) ys[i] = (float) (1.0 / (1.0 + Math.exp(-xs[i])));
        });
    }

    static void sigmoidBackward(Tensor y, Tensor gy, Tensor gx) {
        ShapeChecks.sameShape("sigmoid backward", y, gy);
        ShapeChecks.sameShape("sigmoid backward", y, gx);
        float[] ys = y.data();
        float[] g = gy.data();
        float[] out = gx.data();
        Parallel.forRange((int) y.shape().size(), GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) out[i] = g[i] * ys[i] * (1f - ys[i]);
        });
    }
}
