package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** upsample2x and instanceNorm against naive double references. */
class ResampleNormGradTest {

    // ---------------------------------------------------------------------------------------------------------------
    // trilinear x2, align_corners = true

    /** Source coordinate of output o along an axis of in → 2·in samples: o·(in−1)/(out−1) (0 when out is 1). */
    private static double sourceCoordinate(int o, int in) {
        int out = 2 * in;
        return out > 1 ? o * (double) (in - 1) / (out - 1) : 0.0;
    }

    /** y[o] = Σ over the 8 corners of the product of the three 1D linear weights times x at that corner. */
    static double[] upsample2x(double[] x, int nc, int d, int h, int w) {
        double[] y = new double[nc * 8 * d * h * w];
        int oi = 0;
        for (int m = 0; m < nc; m++)
            for (int z = 0; z < 2 * d; z++)
                for (int yy = 0; yy < 2 * h; yy++)
                    for (int xx = 0; xx < 2 * w; xx++) {
                        double sz = sourceCoordinate(z, d), sy = sourceCoordinate(yy, h), sx = sourceCoordinate(xx, w);
                        int z0 = (int) Math.floor(sz), y0 = (int) Math.floor(sy), x0 = (int) Math.floor(sx);
                        double acc = 0;
                        for (int cz = 0; cz <= 1; cz++)
                            for (int cy = 0; cy <= 1; cy++)
                                for (int cx = 0; cx <= 1; cx++) {
                                    double wz = cz == 0 ? 1 - (sz - z0) : sz - z0;
                                    double wy = cy == 0 ? 1 - (sy - y0) : sy - y0;
                                    double wx = cx == 0 ? 1 - (sx - x0) : sx - x0;
                                    int iz = Math.min(z0 + cz, d - 1), iy = Math.min(y0 + cy, h - 1), ix = Math.min(x0 + cx, w - 1);
                                    acc += wz * wy * wx * x[((m * d + iz) * h + iy) * w + ix];
                                }
                        y[oi++] = acc;
                    }
        return y;
    }

    @Test
    @GradCheckCase("upsample2x")
    void upsample2xIsTrilinearWithAlignedCorners() {
        // depth 1 checks the degenerate axis (both outputs copy the single input plane)
        Shape xs = Shape.ncdhw(2, 2, 1, 3, 4);
        Shape ys = Shape.ncdhw(2, 2, 2, 6, 8);
        GradCheck.op("upsample2x " + xs)
                .input("x", xs, uniform(new Random(11), xs, -1, 1))
                .output(ys)
                .reference(in -> upsample2x(in[0], 4, 1, 3, 4))
                .forward((be, in, y) -> be.upsample2x(in[0], y))
                .backward((be, in, y, gy, g) -> be.upsample2xBackward(gy, g[0]))
                // each output blends <= 8 inputs with float weights: a few float ulps
                .forwardTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 blend of 8 values"))
                // each gradient sums <= 27 weighted upstream values
                .gradTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 scatter-add of <= 27 weighted terms"))
                .check();
    }

    @Test
    @GradCheckCase("upsample2x")
    void upsample2xOfOddSizes() {
        Shape xs = Shape.ncdhw(1, 3, 3, 5, 3);
        Shape ys = Shape.ncdhw(1, 3, 6, 10, 6);
        GradCheck.op("upsample2x " + xs)
                .input("x", xs, uniform(new Random(12), xs, -1, 1))
                .output(ys)
                .reference(in -> upsample2x(in[0], 3, 3, 5, 3))
                .forward((be, in, y) -> be.upsample2x(in[0], y))
                .backward((be, in, y, gy, g) -> be.upsample2xBackward(gy, g[0]))
                .forwardTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 blend of 8 values"))
                .gradTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 scatter-add of <= 27 weighted terms"))
                .check();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // instance norm

    static final float EPS = 1e-5f;

    /** y = (x − mean) / sqrt(var + eps) · gamma[c] + beta[c] per (n, c) map, var the biased variance. */
    static double[] instanceNorm(double[] x, double[] gamma, double[] beta, int n, int c, int sp, double eps) {
        double[] y = new double[x.length];
        for (int b = 0; b < n; b++)
            for (int ch = 0; ch < c; ch++) {
                int base = (b * c + ch) * sp;
                double mean = 0;
                for (int i = 0; i < sp; i++) mean += x[base + i];
                mean /= sp;
                double var = 0;
                for (int i = 0; i < sp; i++) var += (x[base + i] - mean) * (x[base + i] - mean);
                var /= sp;
                double g = gamma == null ? 1 : gamma[ch];
                double bt = beta == null ? 0 : beta[ch];
                for (int i = 0; i < sp; i++) y[base + i] = (x[base + i] - mean) / Math.sqrt(var + eps) * g + bt;
            }
        return y;
    }

    @Test
    @GradCheckCase("instanceNorm")
    void instanceNormWithAffineMatchesReferenceForXGammaAndBeta() {
        Shape xs = Shape.ncdhw(2, 3, 3, 2, 5);
        Random rnd = new Random(21);
        float[] x = uniform(rnd, xs, -2, 3); // non-zero mean, unit-ish variance
        GradCheck.op("instanceNorm affine " + xs)
                .input("x", xs, x)
                .input("gamma", Shape.of(3), uniform(rnd, 3, 0.5, 1.5))
                .input("beta", Shape.of(3), uniform(rnd, 3, -1, 1))
                .output(xs)
                .reference(in -> instanceNorm(in[0], in[1], in[2], 2, 3, 30, EPS))
                .forward((be, in, y) -> be.instanceNorm(in[0], in[1], in[2], y, stats(be, xs), stats(be, xs), EPS))
                .backward((be, in, y, gy, g) -> {
                    Tensor mean = stats(be, xs), rstd = stats(be, xs);
                    be.instanceNorm(in[0], in[1], in[2], be.allocate(xs), mean, rstd, EPS);
                    be.instanceNormBackward(in[0], gy, mean, rstd, in[1], g[0], g[1], g[2]);
                })
                // normalised values are O(1); float32 mean/rstd carry ~1e-7 relative error
                .forwardTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 normalisation of O(1) values"))
                // dx = k·(g − mean(g) − x̂·mean(g·x̂)) cancels: error is relative to the largest gradient
                .gradTol(GradCheck.Tol.ofMax(5e-5, 1e-4, "float32, cancelling terms of the norm's backward"))
                .check();
    }

    @Test
    @GradCheckCase("instanceNorm")
    void instanceNormWithoutAffineMatchesReference() {
        Shape xs = Shape.ncdhw(1, 2, 3, 3, 3);
        GradCheck.op("instanceNorm plain " + xs)
                .input("x", xs, uniform(new Random(22), xs, -1, 2))
                .output(xs)
                .reference(in -> instanceNorm(in[0], null, null, 1, 2, 27, EPS))
                .forward((be, in, y) -> be.instanceNorm(in[0], null, null, y, stats(be, xs), stats(be, xs), EPS))
                .backward((be, in, y, gy, g) -> {
                    Tensor mean = stats(be, xs), rstd = stats(be, xs);
                    be.instanceNorm(in[0], null, null, be.allocate(xs), mean, rstd, EPS);
                    be.instanceNormBackward(in[0], gy, mean, rstd, null, g[0], null, null);
                })
                .forwardTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 normalisation of O(1) values"))
                .gradTol(GradCheck.Tol.ofMax(5e-5, 1e-4, "float32, cancelling terms of the norm's backward"))
                .check();
    }

    @Test
    void instanceNormWritesMeanAndReciprocalStdOfEachMap() {
        Backend be = GradCheck.backend();
        Shape xs = Shape.ncdhw(2, 2, 2, 3, 2);
        float[] xv = uniform(new Random(23), xs, -1, 3);
        Tensor mean = stats(be, xs), rstd = stats(be, xs);
        be.instanceNorm(be.fromHost(xs, xv), null, null, be.allocate(xs), mean, rstd, EPS);
        float[] m = be.toHost(mean), r = be.toHost(rstd);
        for (int map = 0; map < 4; map++) {
            double mu = 0;
            for (int i = 0; i < 12; i++) mu += xv[map * 12 + i];
            mu /= 12;
            double var = 0;
            for (int i = 0; i < 12; i++) var += (xv[map * 12 + i] - mu) * (xv[map * 12 + i] - mu);
            var /= 12;
            assertEquals(mu, m[map], 1e-6 * (1 + Math.abs(mu)), "instanceNorm mean of map " + map);
            double rs = 1 / Math.sqrt(var + EPS);
            assertEquals(rs, r[map], 1e-6 * rs, "instanceNorm rstd of map " + map);
        }
    }

    private static Tensor stats(Backend be, Shape xs) {
        return be.allocate(Shape.of(xs.n(), xs.c()));
    }
}
