package org.cloe4j.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import org.cloe4j.backend.Pointwise;
import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * Instance normalisation over each (sample, channel) map, statistics accumulated in double; and the block's fused form,
 * instance norm + leaky ReLU (+ residual add), which reads each map once for its statistics and once for the rest.
 */
final class CpuNorm {
    private CpuNorm() {
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats of as many lanes as {@link #D}: loaded and widened to doubles exactly. */
    private static final VectorSpecies<Float> HALF = VectorSpecies.of(float.class,
            VectorShape.forBitSize(D.vectorBitSize() / 2));
    /** Elements per statistics block (16 KiB of floats: the block's second read hits the L1 cache). */
    static final int BLOCK = 4096;

    static void forward(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, float eps) {
        ShapeChecks.volume("instanceNorm", x);
        ShapeChecks.sameShape("instanceNorm", x, y);
        Shape s = x.shape();
        Shape stats = Shape.of(s.n(), s.c());
        ShapeChecks.shape("instanceNorm mean", mean, stats);
        ShapeChecks.shape("instanceNorm rstd", rstd, stats);
        ShapeChecks.bias("instanceNorm gamma", gamma, s.c());
        ShapeChecks.bias("instanceNorm beta", beta, s.c());
        int sp = s.spatialSize();
        float[] in = x.data();
        float[] out = y.data();
        float[] mu = mean.data();
        float[] rs = rstd.data();
        Parallel.forEach(s.n() * s.c(), map -> {
            int base = map * sp;
            int c = map % s.c();
            float g = gamma == null ? 1f : gamma.data()[c];
            float b = beta == null ? 0f : beta.data()[c];
            normalise(in, null, out, base, sp, map, mu, rs, eps, g, b, Float.NaN);
        });
    }

    /**
     * leakyRelu(instanceNorm(x), slope) + residual (residual may be null), no affine: one read of each map for its
     * statistics and one pass for the rest. Bit for bit what {@link #forward} followed by leaky ReLU and the add give
     * (the same statistics, then the same float operations in the same order).
     */
    static void forwardLeakyRelu(Tensor x, Tensor residual, Tensor y, Tensor mean, Tensor rstd, float eps, float slope) {
        ShapeChecks.volume("instanceNormLeakyRelu", x);
        ShapeChecks.sameShape("instanceNormLeakyRelu", x, y);
        if (residual != null) ShapeChecks.sameShape("instanceNormLeakyRelu residual", x, residual);
        Shape s = x.shape();
        Shape stats = Shape.of(s.n(), s.c());
        ShapeChecks.shape("instanceNormLeakyRelu mean", mean, stats);
        ShapeChecks.shape("instanceNormLeakyRelu rstd", rstd, stats);
        Pointwise.LEAKY_RELU.checkParameter(slope);
        int sp = s.spatialSize();
        float[] in = x.data();
        float[] res = residual == null ? null : residual.data();
        float[] out = y.data();
        float[] mu = mean.data();
        float[] rs = rstd.data();
        Parallel.forEach(s.n() * s.c(), map -> normalise(in, res, out, map * sp, sp, map, mu, rs, eps, 1f, 0f, slope));
    }

    /**
     * One map: its statistics into mu[map] and rs[map], then out = x·a + shift (a = rstd·g, shift = b − mean·a), then,
     * unless slope is NaN, leaky ReLU of that slope, then + res when res is not null.
     */
    private static void normalise(float[] in, float[] res, float[] out, int base, int sp, int map, float[] mu, float[] rs,
                                  float eps, float g, float b, float slope) {
        double[] mv = moments(in, base, sp);
        double m = mv[0];
        float r = (float) (1.0 / Math.sqrt(mv[1] + eps));
        mu[map] = (float) m;
        rs[map] = r;
        float a = r * g;
        float shift = b - (float) m * a;
        boolean act = !Float.isNaN(slope);
        FloatVector va = FloatVector.broadcast(F, a);
        FloatVector vs = FloatVector.broadcast(F, shift);
        int i = base;
        int end = base + sp;
        for (int vend = base + F.loopBound(sp); i < vend; i += F.length()) {
            FloatVector v = FloatVector.fromArray(F, in, i).mul(va).add(vs);
            if (act) v = v.blend(v.mul(slope), v.compare(VectorOperators.LE, 0f));
            if (res != null) v = v.add(FloatVector.fromArray(F, res, i));
            v.intoArray(out, i);
        }
        for (; i < end; i++) {
            float v = in[i] * a + shift;
            if (act) v = v > 0 ? v : slope * v;
            if (res != null) v = v + res[i];
            out[i] = v;
        }
    }

    /**
     * Mean and biased variance of in[base, base + sp), in double. Per block of {@link #BLOCK} elements: the block's
     * sum S_b, then Σ (x − c_b)² about its mean c_b = S_b / n_b (the block is still in the L1 cache); the blocks combine
     * exactly, Σ (x − m)² = Σ_b [Q_b + 2 (c_b − m)(S_b − n_b c_b) + n_b (c_b − m)²]. Every float is widened to double
     * before it is added, and the lanes are summed in a fixed order, so the result does not depend on the run.
     */
    static double[] moments(float[] in, int base, int sp) {
        int blocks = (sp + BLOCK - 1) / BLOCK;
        double[] sums = new double[blocks];
        double[] centres = new double[blocks];
        double[] squares = new double[blocks];
        double[] lanes = new double[D.length()];
        double total = 0;
        for (int k = 0; k < blocks; k++) {
            int lo = base + k * BLOCK;
            int hi = Math.min(base + sp, lo + BLOCK);
            int n = hi - lo;
            int vend = lo + HALF.loopBound(n);
            DoubleVector s0 = DoubleVector.zero(D);
            DoubleVector s1 = DoubleVector.zero(D);
            int i = lo;
            for (; i + 2 * HALF.length() <= vend; i += 2 * HALF.length()) {
                s0 = s0.add(widen(in, i));
                s1 = s1.add(widen(in, i + HALF.length()));
            }
            for (; i < vend; i += HALF.length()) s0 = s0.add(widen(in, i));
            double sum = laneSum(s0.add(s1), lanes);
            for (int j = vend; j < hi; j++) sum += in[j];
            double c = sum / n;
            DoubleVector vc = DoubleVector.broadcast(D, c);
            DoubleVector q0 = DoubleVector.zero(D);
            DoubleVector q1 = DoubleVector.zero(D);
            i = lo;
            for (; i + 2 * HALF.length() <= vend; i += 2 * HALF.length()) {
                DoubleVector d0 = widen(in, i).sub(vc);
                DoubleVector d1 = widen(in, i + HALF.length()).sub(vc);
                q0 = d0.fma(d0, q0);
                q1 = d1.fma(d1, q1);
            }
            for (; i < vend; i += HALF.length()) {
                DoubleVector d0 = widen(in, i).sub(vc);
                q0 = d0.fma(d0, q0);
            }
            double sq = laneSum(q0.add(q1), lanes);
            for (int j = vend; j < hi; j++) {
                double d = in[j] - c;
                sq += d * d;
            }
            sums[k] = sum;
            centres[k] = c;
            squares[k] = sq;
            total += sum;
        }
        double m = total / sp;
        double ss = 0;
        for (int k = 0; k < blocks; k++) {
            int n = Math.min(sp, (k + 1) * BLOCK) - k * BLOCK;
            double dc = centres[k] - m;
            ss += squares[k] + 2 * dc * (sums[k] - n * centres[k]) + n * dc * dc;
        }
        return new double[]{m, Math.max(0, ss) / sp};
    }

    private static DoubleVector widen(float[] in, int i) {
        return (DoubleVector) FloatVector.fromArray(HALF, in, i).convertShape(VectorOperators.F2D, D, 0);
    }

    private static double laneSum(DoubleVector v, double[] lanes) {
        v.intoArray(lanes, 0);
        double s = 0;
        for (double l : lanes) s += l;
        return s;
    }

    static void backward(Tensor x, Tensor gy, Tensor mean, Tensor rstd, Tensor gamma, Tensor gx, Tensor ggamma,
                         Tensor gbeta) {
        ShapeChecks.volume("instanceNorm backward", x);
        ShapeChecks.sameShape("instanceNorm backward", x, gy);
        ShapeChecks.sameShape("instanceNorm backward", x, gx);
        Shape s = x.shape();
        Shape stats = Shape.of(s.n(), s.c());
        ShapeChecks.shape("instanceNorm backward mean", mean, stats);
        ShapeChecks.shape("instanceNorm backward rstd", rstd, stats);
        ShapeChecks.bias("instanceNorm backward gamma", gamma, s.c());
        ShapeChecks.bias("instanceNorm backward ggamma", ggamma, s.c());
        ShapeChecks.bias("instanceNorm backward gbeta", gbeta, s.c());
        int sp = s.spatialSize();
        int nc = s.n() * s.c();
        float[] in = x.data();
        float[] g = gy.data();
        float[] out = gx.data();
        float[] mu = mean.data();
        float[] rs = rstd.data();
        double[] sumG = new double[nc];
        double[] sumGx = new double[nc];
        Parallel.forEach(nc, map -> {
            int base = map * sp;
            int c = map % s.c();
            float gam = gamma == null ? 1f : gamma.data()[c];
            float m = mu[map];
            float r = rs[map];
            double a = 0;
            double b = 0;
            for (int i = 0; i < sp; i++) {
                double gi = g[base + i];
                a += gi;
                b += gi * (in[base + i] - m) * r;
            }
            sumG[map] = a;
            sumGx[map] = b;
            // dx = gamma * rstd * (g - mean(g) - xhat * mean(g * xhat))
            float meanG = (float) (a / sp);
            float meanGx = (float) (b / sp);
            float k = gam * r;
            for (int i = 0; i < sp; i++) {
                float xhat = (in[base + i] - m) * r;
                out[base + i] = k * (g[base + i] - meanG - xhat * meanGx);
            }
        });
        if (ggamma != null) {
            float[] gg = ggamma.data();
            java.util.Arrays.fill(gg, 0f);
            for (int map = 0; map < nc; map++) gg[map % s.c()] += (float) sumGx[map];
        }
        if (gbeta != null) {
            float[] gb = gbeta.data();
            java.util.Arrays.fill(gb, 0f);
            for (int map = 0; map < nc; map++) gb[map % s.c()] += (float) sumG[map];
        }
    }
}
