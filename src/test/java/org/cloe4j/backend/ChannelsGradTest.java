package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;

import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** softmaxChannels, concatChannels and sliceChannels against double references. */
class ChannelsGradTest {

    /** Per (n, voxel): y_c = exp(x_c) / Σ_k exp(x_k), with the max subtracted first for range. */
    static double[] softmaxChannels(double[] x, int n, int c, int sp) {
        double[] y = new double[x.length];
        for (int b = 0; b < n; b++)
            for (int v = 0; v < sp; v++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int k = 0; k < c; k++) max = Math.max(max, x[(b * c + k) * sp + v]);
                double sum = 0;
                for (int k = 0; k < c; k++) sum += Math.exp(x[(b * c + k) * sp + v] - max);
                for (int k = 0; k < c; k++) y[(b * c + k) * sp + v] = Math.exp(x[(b * c + k) * sp + v] - max) / sum;
            }
        return y;
    }

    @Test
    @GradCheckCase("softmaxChannels")
    void softmaxChannelsMatchesReference() {
        // 1025 voxels: more than one 1024-voxel block of the CPU kernel
        Shape xs = Shape.ncdhw(1, 3, 5, 5, 41);
        GradCheck.op("softmaxChannels " + xs)
                .input("x", xs, uniform(new Random(51), xs, -4, 4))
                .output(xs)
                .reference(in -> softmaxChannels(in[0], 1, 3, 1025))
                .forward((be, in, y) -> be.softmaxChannels(in[0], y))
                .backward((be, in, y, gy, g) -> be.softmaxChannelsBackward(y, gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-5, "float32 exp and normalisation of values in (0, 1)"))
                // gx = y·(g − Σ y g): the subtraction cancels, so the error is relative to |g| ~ 1, not to |gx|
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "float32 y·(g − Σ y g), cancelling"))
                .check();
    }

    @Test
    @GradCheckCase("softmaxChannels")
    void softmaxChannelsOfLargeLogitsStaysFinite() {
        Shape xs = Shape.ncdhw(1, 3, 1, 2, 3);
        float[] x = uniform(new Random(52), xs, -1, 1);
        for (int i = 0; i < x.length; i++) x[i] += 90; // exp(90) overflows float32 unless the max is subtracted
        GradCheck.op("softmaxChannels large logits")
                .input("x", xs, x)
                .output(xs)
                .reference(in -> softmaxChannels(in[0], 1, 3, 6))
                .forward((be, in, y) -> be.softmaxChannels(in[0], y))
                .backward((be, in, y, gy, g) -> be.softmaxChannelsBackward(y, gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-5, "float32 exp and normalisation"))
                // FD step h = 1e-6·90: second-order error h²·f''' stays ≈ 1e-8
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-4, "float32, cancelling; coarser FD step at |x| = 90"))
                .check();
    }

    @Test
    @GradCheckCase({"concatChannels", "sliceChannels"})
    void concatChannelsStacksInOrderAndItsBackwardIsSlicing() {
        Shape a = Shape.ncdhw(2, 2, 3, 2, 3), b = Shape.ncdhw(2, 1, 3, 2, 3), c = Shape.ncdhw(2, 3, 3, 2, 3);
        Shape ys = Shape.ncdhw(2, 6, 3, 2, 3);
        Random rnd = new Random(53);
        int sp = 18;
        GradCheck.op("concatChannels 2+1+3")
                .input("a", a, uniform(rnd, a, -1, 1))
                .input("b", b, uniform(rnd, b, -1, 1))
                .input("c", c, uniform(rnd, c, -1, 1))
                .output(ys)
                .reference(in -> {
                    double[] y = new double[ys.intSize()];
                    int[] chans = {2, 1, 3};
                    for (int n = 0; n < 2; n++) {
                        int off = 0;
                        for (int t = 0; t < 3; t++) {
                            for (int k = 0; k < chans[t]; k++)
                                for (int v = 0; v < sp; v++)
                                    y[(n * 6 + off + k) * sp + v] = in[t][(n * chans[t] + k) * sp + v];
                            off += chans[t];
                        }
                    }
                    return y;
                })
                .forward((be, in, y) -> be.concatChannels(in, y))
                .backward((be, in, y, gy, g) -> {
                    be.sliceChannels(gy, 0, g[0]);
                    be.sliceChannels(gy, 2, g[1]);
                    be.sliceChannels(gy, 3, g[2]);
                })
                .forwardTol(GradCheck.Tol.abs(0, 0, "a copy is exact"))
                .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "a copy of gy; FD roundoff ≈ 1e-8"))
                .check();
    }

    @Test
    @GradCheckCase("sliceChannels")
    void sliceChannelsTakesAChannelRangeAndItsBackwardPadsWithZeros() {
        Shape xs = Shape.ncdhw(2, 6, 3, 1, 5);
        Shape ys = Shape.ncdhw(2, 3, 3, 1, 5);
        int sp = 15, off = 2;
        GradCheck.op("sliceChannels [2, 5) of 6")
                .input("x", xs, uniform(new Random(54), xs, -1, 1))
                .output(ys)
                .reference(in -> {
                    double[] y = new double[ys.intSize()];
                    for (int n = 0; n < 2; n++)
                        for (int k = 0; k < 3; k++)
                            for (int v = 0; v < sp; v++) y[(n * 3 + k) * sp + v] = in[0][(n * 6 + off + k) * sp + v];
                    return y;
                })
                .forward((be, in, y) -> be.sliceChannels(in[0], off, y))
                // the adjoint of a slice: gy placed at its channels, zeros elsewhere (a concat with zero blocks)
                .backward((be, in, y, gy, g) -> be.concatChannels(new Tensor[]{
                        be.zeros(Shape.ncdhw(2, 2, 3, 1, 5)), gy, be.zeros(Shape.ncdhw(2, 1, 3, 1, 5))}, g[0]))
                .forwardTol(GradCheck.Tol.abs(0, 0, "a copy is exact"))
                .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "a copy of gy; FD roundoff ≈ 1e-8"))
                .check();
    }
}
