package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/** Instance normalisation over each (sample, channel) map, statistics accumulated in double. */
final class CpuNorm {
    private CpuNorm() {
    }

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
            double sum = 0;
            for (int i = 0; i < sp; i++) sum += in[base + i];
            double m = sum / sp;
            double ss = 0;
            for (int i = 0; i < sp; i++) {
                double d = in[base + i] - m;
                ss += d * d;
            }
            float r = (float) (1.0 / Math.sqrt(ss / sp + eps));
            mu[map] = (float) m;
            rs[map] = r;
            int c = map % s.c();
            float g = gamma == null ? 1f : gamma.data()[c];
            float b = beta == null ? 0f : beta.data()[c];
            float a = r * g;
            float shift = b - (float) m * a;
            for (int i = 0; i < sp; i++) out[base + i] = in[base + i] * a + shift;
        });
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
