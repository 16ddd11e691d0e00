package org.cloe4j.cuda;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Pointwise;
import org.cloe4j.backend.PointwiseCases;
import org.cloe4j.cuda.GpuTest.Pair;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.cloe4j.cuda.GpuTest.CPU;
import static org.cloe4j.cuda.GpuTest.check;
import static org.cloe4j.cuda.GpuTest.cudaOrSkip;
import static org.cloe4j.cuda.GpuTest.oneHot;
import static org.cloe4j.cuda.GpuTest.out;
import static org.cloe4j.cuda.GpuTest.probs;
import static org.cloe4j.cuda.GpuTest.rand;
import static org.cloe4j.cuda.GpuTest.withVersion;

/**
 * Every CUDA kernel (every version) against the CPU backend on random shapes, odd sizes included. Skips without a
 * GPU. Tolerances, and why:
 * <ul>
 *   <li>EXACT (1e-6 abs + 1e-6 rel): copies, affine element-wise maps, Adam — the same float operations in the same
 *   order; only FMA contraction may differ in the last bit.</li>
 *   <li>TRANSCENDENTAL (1e-6 + 1e-5 rel): expf/logf on the GPU are within 2 ulp, the CPU uses Math.exp in double.</li>
 *   <li>REDUCTION (1e-5 + 1e-4 rel): the GPU sums in float in a tree order, the CPU in double; with up to 10^4 terms
 *   the float error stays under ~1e-5 relative, and derived values (cosines, normalised maps) inherit it.</li>
 *   <li>NORMALISED (1e-4 + 1e-4 rel): instance-norm outputs and gradients divide by a standard deviation computed
 *   from float sums; a small-variance map amplifies the relative error of its sums.</li>
 * </ul>
 */
class CudaKernelParityTest {
    static final double EXACT_A = 1e-6, EXACT_R = 1e-6;
    static final double TRANS_A = 1e-6, TRANS_R = 1e-5;
    static final double RED_A = 1e-5, RED_R = 1e-4;
    static final double NORM_A = 1e-4, NORM_R = 1e-4;

    static final List<Shape> VOLUMES = List.of(
            Shape.ncdhw(2, 3, 5, 7, 9),   // odd everything; spatial 315 is not a multiple of 4 (scalar paths)
            Shape.ncdhw(1, 4, 8, 8, 8),   // float4 paths
            Shape.ncdhw(1, 1, 1, 1, 1),   // a single voxel
            Shape.ncdhw(3, 2, 3, 1, 6));  // a unit spatial dim

    final CudaBackend g = cudaOrSkip();
    final SplittableRandom r = new SplittableRandom(42);

    @Test
    void elementwise() {
        for (Shape s : VOLUMES) {
            Pair x = rand(g, r, s, -2, 2);
            Pair y = out(g, s);
            CPU.scale(x.cpu(), -1.5f, y.cpu());
            g.scale(x.gpu(), -1.5f, y.gpu());
            check("scale " + s, g, y, EXACT_A, EXACT_R);
            CPU.addInPlace(y.cpu(), x.cpu());
            g.addInPlace(y.gpu(), x.gpu());
            check("addInPlace " + s, g, y, EXACT_A, EXACT_R);
            CPU.copy(x.cpu(), y.cpu());
            g.copy(x.gpu(), y.gpu());
            check("copy " + s, g, y, 0, 0);
            Shape flat = Shape.of((int) s.size());
            Pair f = out(g, flat);
            CPU.copy(x.cpu(), f.cpu());
            g.copy(x.gpu(), f.gpu());
            check("copy to another shape of the same size (reshape) " + s, g, f, 0, 0);
            CPU.fill(y.cpu(), 3.25f);
            g.fill(y.gpu(), 3.25f);
            check("fill " + s, g, y, 0, 0);
        }
    }

    /**
     * Every {@link Pointwise} function (each case of {@link PointwiseCases}) through the one kernel pair: forward, and
     * backward from each backend's own forward output, as the graph runs it.
     */
    @Test
    void pointwise() {
        for (PointwiseCases.Case c : PointwiseCases.all()) {
            Pointwise f = c.f();
            double atol = c.parity() == PointwiseCases.Parity.EXACT ? EXACT_A : TRANS_A;
            double rtol = c.parity() == PointwiseCases.Parity.EXACT ? EXACT_R : TRANS_R;
            for (Shape s : VOLUMES) {
                Pair x = GpuTest.of(g, s, c.inputs().sample(new java.util.Random(r.nextLong()), s.intSize()));
                Pair gy = rand(g, r, s, -1, 1), y = out(g, s), gx = out(g, s);
                CPU.pointwise(f, c.a(), x.cpu(), y.cpu());
                g.pointwise(f, c.a(), x.gpu(), y.gpu());
                check(c.label() + " " + s, g, y, atol, rtol);
                CPU.pointwiseBackward(f, c.a(), f.readsInput() ? x.cpu() : null, f.readsOutput() ? y.cpu() : null,
                        gy.cpu(), gx.cpu());
                g.pointwiseBackward(f, c.a(), f.readsInput() ? x.gpu() : null, f.readsOutput() ? y.gpu() : null,
                        gy.gpu(), gx.gpu());
                check(c.label() + " backward " + s, g, gx, atol, rtol);
            }
        }
    }

    @Test
    void broadcastAddMulAndSumTo() {
        Shape full = Shape.ncdhw(2, 3, 5, 4, 7);
        Shape[] smalls = {full, Shape.ncdhw(1, 3, 1, 1, 1), Shape.ncdhw(2, 1, 5, 4, 7), Shape.ncdhw(1, 1, 1, 1, 1),
                Shape.ncdhw(2, 3, 1, 4, 1)};
        for (Shape sm : smalls) {
            Pair a = rand(g, r, full, -1, 1), b = rand(g, r, sm, -1, 1), y = out(g, full);
            CPU.add(a.cpu(), b.cpu(), y.cpu());
            g.add(a.gpu(), b.gpu(), y.gpu());
            check("add " + full + " + " + sm, g, y, EXACT_A, EXACT_R);
            CPU.mul(b.cpu(), a.cpu(), y.cpu());
            g.mul(b.gpu(), a.gpu(), y.gpu());
            check("mul " + sm + " * " + full, g, y, EXACT_A, EXACT_R);
            for (int v = 1; v <= CudaOptions.latestVersion("sumTo"); v++) {
                int version = v;
                withVersion(g, "sumTo", v, g -> {
                    Pair s = out(g, sm);
                    CPU.sumTo(a.cpu(), s.cpu());
                    g.sumTo(a.gpu(), s.gpu());
                    check("sumTo v" + version + " " + full + " -> " + sm, g, s, RED_A, RED_R);
                });
            }
        }
        Pair a2 = rand(g, r, Shape.of(5, 9), -1, 1), b2 = rand(g, r, Shape.of(1, 9), -1, 1), y2 = out(g, Shape.of(5, 9));
        CPU.add(a2.cpu(), b2.cpu(), y2.cpu());
        g.add(a2.gpu(), b2.gpu(), y2.gpu());
        check("add rank 2", g, y2, EXACT_A, EXACT_R);
    }

    @Test
    void upsample() {
        for (Shape s : VOLUMES) {
            Shape big = Shape.ncdhw(s.n(), s.c(), 2 * s.d(), 2 * s.h(), 2 * s.w());
            Pair x = rand(g, r, s, -1, 1), y = out(g, big), gy = rand(g, r, big, -1, 1);
            CPU.upsample2x(x.cpu(), y.cpu());
            g.upsample2x(x.gpu(), y.gpu());
            // interpolation weights come from float arithmetic on both sides, but in different orders
            check("upsample2x " + s, g, y, 1e-5, 1e-5);
            for (int v = 1; v <= 2; v++) {
                int version = v;
                withVersion(g, "upsampleBackward", v, g -> {
                    Pair gx = out(g, s);
                    CPU.upsample2xBackward(gy.cpu(), gx.cpu());
                    g.upsample2xBackward(gy.gpu(), gx.gpu());
                    check("upsample2xBackward v" + version + " " + s, g, gx, RED_A, RED_R);
                });
            }
        }
    }

    @Test
    void instanceNorm() {
        for (Shape s : VOLUMES) {
            if (s.spatialSize() < 2) continue; // a one-voxel map has variance 0: both sides give 0, nothing to compare
            Shape st = Shape.of(s.n(), s.c()), ch = Shape.of(s.c());
            Pair x = rand(g, r, s, -1, 3), gamma = rand(g, r, ch, 0.5, 1.5), beta = rand(g, r, ch, -1, 1);
            Pair gy = rand(g, r, s, -1, 1);
            for (int v = 1; v <= CudaOptions.latestVersion("instanceNorm"); v++) {
                for (boolean affine : new boolean[]{true, false}) {
                    int version = v;
                    withVersion(g, "instanceNorm", v, g -> {
                        Pair y = out(g, s), mean = out(g, st), rstd = out(g, st);
                        Tensor gc = affine ? gamma.cpu() : null, gg = affine ? gamma.gpu() : null;
                        CPU.instanceNorm(x.cpu(), gc, affine ? beta.cpu() : null, y.cpu(), mean.cpu(), rstd.cpu(), 1e-5f);
                        g.instanceNorm(x.gpu(), gg, affine ? beta.gpu() : null, y.gpu(), mean.gpu(), rstd.gpu(), 1e-5f);
                        String what = "instanceNorm v" + version + (affine ? " affine " : " ") + s;
                        check(what + " y", g, y, NORM_A, NORM_R);
                        check(what + " mean", g, mean, RED_A, RED_R);
                        check(what + " rstd", g, rstd, RED_A, RED_R);
                        Pair gx = out(g, s), ggamma = out(g, ch), gbeta = out(g, ch);
                        CPU.instanceNormBackward(x.cpu(), gy.cpu(), mean.cpu(), rstd.cpu(), gc, gx.cpu(),
                                affine ? ggamma.cpu() : null, affine ? gbeta.cpu() : null);
                        g.instanceNormBackward(x.gpu(), gy.gpu(), mean.gpu(), rstd.gpu(), gg, gx.gpu(),
                                affine ? ggamma.gpu() : null, affine ? gbeta.gpu() : null);
                        check(what + " gx", g, gx, NORM_A, NORM_R);
                        if (affine) {
                            check(what + " ggamma", g, ggamma, NORM_A, NORM_R);
                            check(what + " gbeta", g, gbeta, RED_A, RED_R);
                        }
                    });
                }
            }
        }
    }

    @Test
    void channelSoftmaxConcatSlice() {
        for (Shape s : VOLUMES) {
            Pair x = rand(g, r, s, -4, 4), y = out(g, s), gy = rand(g, r, s, -1, 1), gx = out(g, s);
            CPU.softmaxChannels(x.cpu(), y.cpu());
            g.softmaxChannels(x.gpu(), y.gpu());
            check("softmaxChannels " + s, g, y, TRANS_A, TRANS_R);
            CPU.softmaxChannelsBackward(y.cpu(), gy.cpu(), gx.cpu());
            g.softmaxChannelsBackward(y.gpu(), gy.gpu(), gx.gpu());
            check("softmaxChannelsBackward " + s, g, gx, TRANS_A, TRANS_R);
            Shape s2 = s.with(1, 2);
            Pair b = rand(g, r, s2, -1, 1);
            Shape cat = s.with(1, s.c() + 2);
            Pair c = out(g, cat);
            CPU.concatChannels(new Tensor[]{x.cpu(), b.cpu()}, c.cpu());
            g.concatChannels(new Tensor[]{x.gpu(), b.gpu()}, c.gpu());
            check("concatChannels " + s + " + " + s2, g, c, 0, 0);
            Pair sl = out(g, s2);
            CPU.sliceChannels(c.cpu(), s.c(), sl.cpu());
            g.sliceChannels(c.gpu(), s.c(), sl.gpu());
            check("sliceChannels " + cat + " @" + s.c(), g, sl, 0, 0);
        }
    }

    @Test
    void denseAndMaskedSoftmax() {
        int[][] dims = {{1, 7, 4}, {3, 33, 5}, {2, 1, 1}};
        for (int[] d : dims) {
            int batch = d[0], in = d[1], outN = d[2];
            Pair x = rand(g, r, Shape.of(batch, in), -1, 1), w = rand(g, r, Shape.of(outN, in), -1, 1);
            Pair b = rand(g, r, Shape.of(outN), -1, 1), y = out(g, Shape.of(batch, outN));
            CPU.dense(x.cpu(), w.cpu(), b.cpu(), y.cpu());
            g.dense(x.gpu(), w.gpu(), b.gpu(), y.gpu());
            check("dense " + java.util.Arrays.toString(d), g, y, RED_A, RED_R);
            CPU.dense(x.cpu(), w.cpu(), null, y.cpu());
            g.dense(x.gpu(), w.gpu(), null, y.gpu());
            check("dense no bias " + java.util.Arrays.toString(d), g, y, RED_A, RED_R);
            Pair gy = rand(g, r, Shape.of(batch, outN), -1, 1);
            Pair gx = out(g, x.cpu().shape()), gw = out(g, w.cpu().shape()), gb = out(g, Shape.of(outN));
            CPU.denseBackward(x.cpu(), w.cpu(), gy.cpu(), gx.cpu(), gw.cpu(), gb.cpu());
            g.denseBackward(x.gpu(), w.gpu(), gy.gpu(), gx.gpu(), gw.gpu(), gb.gpu());
            check("denseBackward gx", g, gx, RED_A, RED_R);
            check("denseBackward gw", g, gw, RED_A, RED_R);
            check("denseBackward gb", g, gb, RED_A, RED_R);
        }
        float[][] masks = {{1, 1, 1, 1}, {1, 0, 1, 0}, {0, 0, 0, 1}};
        for (float[] m : masks) {
            Pair logits = rand(g, r, Shape.of(4), -3, 3), mask = GpuTest.of(g, Shape.of(4), m), y = out(g, Shape.of(4));
            CPU.maskedSoftmax(logits.cpu(), mask.cpu(), y.cpu());
            g.maskedSoftmax(logits.gpu(), mask.gpu(), y.gpu());
            check("maskedSoftmax " + java.util.Arrays.toString(m), g, y, TRANS_A, TRANS_R);
            Pair gy = rand(g, r, Shape.of(4), -1, 1), gx = out(g, Shape.of(4));
            CPU.maskedSoftmaxBackward(y.cpu(), gy.cpu(), gx.cpu());
            g.maskedSoftmaxBackward(y.gpu(), gy.gpu(), gx.gpu());
            check("maskedSoftmaxBackward " + java.util.Arrays.toString(m), g, gx, TRANS_A, TRANS_R);
        }
    }

    @Test
    void pairwiseCosineEveryVersionAndExpertCount() {
        Shape[] shapes = {Shape.ncdhw(2, 3, 5, 7, 9), Shape.ncdhw(1, 4, 8, 8, 8)};
        for (Shape s : shapes) {
            for (int m : new int[]{1, 2, 3, 4, 5, 6, 7, 8}) {  // every instantiation _m1 .. _m8
                Pair[] xs = new Pair[m];
                for (int k = 0; k < m; k++) xs[k] = rand(g, r, s, -1, 1);
                Pair region = rand(g, r, Shape.ncdhw(s.n(), 1, s.d(), s.h(), s.w()), 0, 1);
                Pair gs = rand(g, r, Shape.of(m, m), -1, 1);
                Tensor[] xc = new Tensor[m], xg = new Tensor[m];
                for (int k = 0; k < m; k++) {
                    xc[k] = xs[k].cpu();
                    xg[k] = xs[k].gpu();
                }
                for (int v = 1; v <= 2; v++) {
                    for (boolean weighted : new boolean[]{false, true}) {
                        String what = "pairwiseCosine v" + v + " M=" + m + (weighted ? " region " : " ") + s;
                        withVersion(g, "pairwiseCosine", v, g -> {
                            Pair out = out(g, Shape.of(m, m));
                            CPU.pairwiseCosine(xc, weighted ? region.cpu() : null, out.cpu());
                            g.pairwiseCosine(xg, weighted ? region.gpu() : null, out.gpu());
                            check(what, g, out, RED_A, RED_R);
                            Pair[] gx = new Pair[m];
                            Tensor[] gxc = new Tensor[m], gxg = new Tensor[m];
                            for (int k = 0; k < m; k++) {
                                if (k == 1) continue; // a null slot: that gradient is not wanted
                                gx[k] = out(g, s);
                                gxc[k] = gx[k].cpu();
                                gxg[k] = gx[k].gpu();
                            }
                            Pair gr = weighted ? out(g, region.cpu().shape()) : null;
                            CPU.pairwiseCosineBackward(xc, weighted ? region.cpu() : null, gs.cpu(), gxc, weighted ? gr.cpu() : null);
                            g.pairwiseCosineBackward(xg, weighted ? region.gpu() : null, gs.gpu(), gxg, weighted ? gr.gpu() : null);
                            for (int k = 0; k < m; k++) if (gx[k] != null) check(what + " gx" + k, g, gx[k], RED_A, RED_R);
                            if (weighted) check(what + " gregion", g, gr, RED_A, RED_R);
                        });
                    }
                }
            }
        }
    }

    @Test
    void weightedSumEveryVersion() {
        for (Shape s : VOLUMES) {
            for (int m : new int[]{1, 3, 4, 8}) {
                Tensor[] xc = new Tensor[m], xg = new Tensor[m];
                for (int k = 0; k < m; k++) {
                    Pair p = rand(g, r, s, -1, 1);
                    xc[k] = p.cpu();
                    xg[k] = p.gpu();
                }
                Pair w = rand(g, r, Shape.of(m), 0, 1), gy = rand(g, r, s, -1, 1);
                for (int v = 1; v <= 2; v++) {
                    String what = "weightedSum v" + v + " M=" + m + " " + s;
                    withVersion(g, "weightedSum", v, g -> {
                        Pair y = out(g, s);
                        CPU.weightedSum(xc, w.cpu(), y.cpu());
                        g.weightedSum(xg, w.gpu(), y.gpu());
                        check(what, g, y, EXACT_A, 1e-5);
                        Pair[] gx = new Pair[m];
                        Tensor[] gxc = new Tensor[m], gxg = new Tensor[m];
                        for (int k = 0; k < m; k++) {
                            gx[k] = out(g, s);
                            gxc[k] = gx[k].cpu();
                            gxg[k] = gx[k].gpu();
                        }
                        Pair gw = out(g, Shape.of(m));
                        CPU.weightedSumBackward(xc, w.cpu(), gy.cpu(), gxc, gw.cpu());
                        g.weightedSumBackward(xg, w.gpu(), gy.gpu(), gxg, gw.gpu());
                        for (int k = 0; k < m; k++) check(what + " gx" + k, g, gx[k], EXACT_A, EXACT_R);
                        check(what + " gw", g, gw, RED_A, RED_R);
                    });
                }
            }
        }
    }

    @Test
    void losses() {
        int[][] dims = {{2, 4, 5, 7, 9}, {1, 3, 8, 8, 8}, {1, 2, 1, 1, 3}};
        for (int[] d : dims) {
            Shape s = Shape.ncdhw(d[0], d[1], d[2], d[3], d[4]);
            Pair p = probs(g, r, s), t = oneHot(g, r, d[0], d[1], d[2], d[3], d[4]);
            // a few probabilities below the clamp, where the gradient must vanish
            Pair loss = out(g, Shape.scalar()), gl = GpuTest.of(g, Shape.scalar(), new float[]{0.7f}), gp = out(g, s);
            CPU.weightedCrossEntropy(p.cpu(), t.cpu(), loss.cpu());
            g.weightedCrossEntropy(p.gpu(), t.gpu(), loss.gpu());
            check("weightedCrossEntropy " + s, g, loss, RED_A, RED_R);
            CPU.weightedCrossEntropyBackward(p.cpu(), t.cpu(), gl.cpu(), gp.cpu());
            g.weightedCrossEntropyBackward(p.gpu(), t.gpu(), gl.gpu(), gp.gpu());
            check("weightedCrossEntropyBackward " + s, g, gp, RED_A, RED_R);
            CPU.softDice(p.cpu(), t.cpu(), loss.cpu());
            g.softDice(p.gpu(), t.gpu(), loss.gpu());
            check("softDice " + s, g, loss, RED_A, RED_R);
            CPU.softDiceBackward(p.cpu(), t.cpu(), gl.cpu(), gp.cpu());
            g.softDiceBackward(p.gpu(), t.gpu(), gl.gpu(), gp.gpu());
            check("softDiceBackward " + s, g, gp, RED_A, RED_R);
            // the presets' loss (class-weight floor 1: plain cross-entropy; Dice smoothed by 1) and a floor between
            for (float floor : new float[]{0.5f, 1f}) {
                CPU.weightedCrossEntropy(p.cpu(), t.cpu(), floor, loss.cpu());
                g.weightedCrossEntropy(p.gpu(), t.gpu(), floor, loss.gpu());
                check("weightedCrossEntropy floor " + floor + " " + s, g, loss, RED_A, RED_R);
                CPU.weightedCrossEntropyBackward(p.cpu(), t.cpu(), floor, gl.cpu(), gp.cpu());
                g.weightedCrossEntropyBackward(p.gpu(), t.gpu(), floor, gl.gpu(), gp.gpu());
                check("weightedCrossEntropyBackward floor " + floor + " " + s, g, gp, RED_A, RED_R);
            }
            CPU.softDice(p.cpu(), t.cpu(), 1f, loss.cpu());
            g.softDice(p.gpu(), t.gpu(), 1f, loss.gpu());
            check("softDice smooth 1 " + s, g, loss, RED_A, RED_R);
            CPU.softDiceBackward(p.cpu(), t.cpu(), 1f, gl.cpu(), gp.cpu());
            g.softDiceBackward(p.gpu(), t.gpu(), 1f, gl.gpu(), gp.gpu());
            check("softDiceBackward smooth 1 " + s, g, gp, RED_A, RED_R);
            Pair q = rand(g, r, s, 0.001, 0.999), tt = rand(g, r, s, 0, 1);
            CPU.binaryCrossEntropy(q.cpu(), tt.cpu(), loss.cpu());
            g.binaryCrossEntropy(q.gpu(), tt.gpu(), loss.gpu());
            check("binaryCrossEntropy " + s, g, loss, RED_A, RED_R);
            CPU.binaryCrossEntropyBackward(q.cpu(), tt.cpu(), gl.cpu(), gp.cpu());
            g.binaryCrossEntropyBackward(q.gpu(), tt.gpu(), gl.gpu(), gp.gpu());
            check("binaryCrossEntropyBackward " + s, g, gp, TRANS_A, TRANS_R);
        }
    }

    @Test
    void adamPyTorchSemantics() {
        for (AdamConfig cfg : new AdamConfig[]{AdamConfig.cloe(), new AdamConfig(0.8f, 0.99f, 1e-6f, 0f, false)}) {
            Shape s = Shape.of(1001);
            Pair p = rand(g, r, s, -1, 1), m = GpuTest.of(g, s, new float[1001]), v = GpuTest.of(g, s, new float[1001]);
            Pair vmax = GpuTest.of(g, s, new float[1001]);
            for (int t = 1; t <= 5; t++) {
                Pair grad = rand(g, r, s, -1, 1);
                CPU.adamStep(p.cpu(), grad.cpu(), m.cpu(), v.cpu(), vmax.cpu(), 1e-3f, t, cfg);
                g.adamStep(p.gpu(), grad.gpu(), m.gpu(), v.gpu(), vmax.gpu(), 1e-3f, t, cfg);
            }
            // five steps of the same float arithmetic; sqrt and the bias corrections may differ in the last bit
            check("adam " + cfg + " param", g, p, 1e-6, 1e-5);
            check("adam " + cfg + " m", g, m, EXACT_A, 1e-5);
            check("adam " + cfg + " v", g, v, EXACT_A, 1e-5);
        }
    }
    // conv3d (our kernels in every version and precision, and cuDNN): CudaConv3dParityTest
}
