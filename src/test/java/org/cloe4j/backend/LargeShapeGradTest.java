package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.awayFromZero;
import static org.cloe4j.backend.GradCheck.uniform;

import java.util.Arrays;
import java.util.Random;

import org.cloe4j.backend.ConvSpec.Padding;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The same checks on inputs large enough to take the paths small shapes never reach: work split over threads
 * (element-wise grain 32768), several reduction blocks (16384), vector bodies with tails, and conv3d channel counts
 * a blocked kernel tiles. Every element of the forward is compared; gradients are checked by central differences on
 * sampled elements plus directional derivatives over the whole tensor ({@link GradCheck.Case#sampleElements}).
 */
class LargeShapeGradTest {
    private static final Shape BIG = Shape.ncdhw(2, 3, 20, 24, 29); // 83520 elements: 3 element-wise chunks

    @ParameterizedTest(name = "{0}->{1} k{2} stride{3} {4}")
    @CsvSource({"16, 16, 3, 1, REFLECT", "12, 20, 3, 2, ZERO", "16, 8, 1, 1, ZERO", "5, 16, 3, 1, ZERO"})
    @GradCheckCase("conv3d")
    void conv3dWithManyChannelsMatchesReference(int ci, int co, int k, int stride, Padding padding) {
        ConvSpec spec = new ConvSpec(k, stride, k == 3 ? 1 : 0, padding);
        int n = 1, d = 5, h = 6, w = 17;
        Shape xs = Shape.ncdhw(n, ci, d, h, w);
        Shape ws = Shape.ncdhw(co, ci, k, k, k);
        Random rnd = new Random(ci * 100 + co);
        GradCheck.op("conv3d " + ci + "->" + co + " " + spec + " on " + xs)
                .input("x", xs, uniform(rnd, xs, -1, 1))
                .input("w", ws, uniform(rnd, ws, -0.2, 0.2))
                .input("bias", Shape.of(co), uniform(rnd, co, -1, 1))
                .output(spec.outputShape(xs, ws))
                .reference(in -> Conv3dGradTest.conv3d(in[0], in[1], in[2], n, ci, d, h, w, co, spec))
                .forward((be, in, y) -> be.conv3d(in[0], in[1], in[2], y, spec))
                .backward((be, in, y, gy, g) -> {
                    be.conv3dBackwardData(gy, in[1], g[0], spec);
                    be.conv3dBackwardWeight(in[0], gy, g[1], g[2], spec);
                })
                // up to 16·27 = 432 products per output; a blocked kernel may sum in any order
                .forwardTol(GradCheck.Tol.ofMax(3e-5, 1e-4, "float32 sums of <= 432 products, some cancelling"))
                // gw sums up to 714 output positions × 1 product; gx up to co·27 products
                .gradTol(GradCheck.Tol.ofMax(5e-5, 2e-4, "float32 sums of up to ~700 products vs exact double"))
                .sampleElements(8, false)
                .seed(ci + co)
                .check();
    }

    @Test
    @GradCheckCase({"pointwise", "scale"})
    void elementwiseOpsOverSeveralThreadsMatchReference() {
        Random rnd = new Random(121);
        for (PointwiseCases.Case c : PointwiseCases.all()) {
            PointwiseCases.check(c, BIG, c.inputs().sample(rnd, BIG.intSize()))
                    .sampleElements(10, true)
                    .check();
        }
        float[] x = awayFromZero(rnd, BIG.intSize(), 1e-3, 4);
        GradCheck.op("scale on " + BIG)
                .input("x", BIG, x)
                .output(BIG)
                .reference(in -> Arrays.stream(in[0]).map(v -> 1.5f * v).toArray())
                .forward((be, in, y) -> be.scale(in[0], 1.5f, y))
                .backward((be, in, y, gy, g) -> be.scale(gy, 1.5f, g[0]))
                .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "one float32 rounding"))
                .sampleElements(10, true)
                .check();
    }

    @Test
    @GradCheckCase({"mul", "add", "sumTo"})
    void broadcastMulOverManyRowsMatchesReference() {
        Shape cs = Shape.ncdhw(2, 1, 20, 24, 29); // a spatial map broadcast over channels (REC's r ⊙ p)
        Random rnd = new Random(122);
        GradCheck.op("mul " + BIG + " * " + cs)
                .input("a", BIG, uniform(rnd, BIG, -1, 1))
                .input("b", cs, uniform(rnd, cs, -1, 1))
                .output(BIG)
                .reference(in -> {
                    double[] y = new double[BIG.intSize()];
                    for (int i = 0; i < y.length; i++) y[i] = in[0][i] * in[1][BroadcastGradTest.broadcastIndex(BIG, cs, i)];
                    return y;
                })
                .forward((be, in, y) -> be.mul(in[0], in[1], y))
                .backward((be, in, y, gy, g) -> {
                    Tensor t = be.allocate(BIG);
                    be.mul(gy, in[1], t);
                    be.sumTo(t, g[0]);
                    be.mul(gy, in[0], t);
                    be.sumTo(t, g[1]);
                })
                .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                .gradTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 products, sums of 3"))
                .sampleElements(10, true)
                .check();
        Shape perChannel = Shape.ncdhw(1, 3, 1, 1, 1);
        GradCheck.op("add " + BIG + " + " + perChannel)
                .input("a", BIG, uniform(rnd, BIG, -1, 1))
                .input("b", perChannel, uniform(rnd, perChannel, -1, 1))
                .output(BIG)
                .reference(in -> {
                    double[] y = new double[BIG.intSize()];
                    for (int i = 0; i < y.length; i++) y[i] = in[0][i] + in[1][BroadcastGradTest.broadcastIndex(BIG, perChannel, i)];
                    return y;
                })
                .forward((be, in, y) -> be.add(in[0], in[1], y))
                .backward((be, in, y, gy, g) -> {
                    be.sumTo(gy, g[0]);
                    be.sumTo(gy, g[1]);
                })
                .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                // gb sums 27840 upstream values (double accumulation in sumTo)
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-6, "double-accumulated sums"))
                .sampleElements(10, true)
                .check();
    }

    @Test
    @GradCheckCase({"softmaxChannels", "weightedSum"})
    void softmaxAndWeightedSumOverSeveralThreadsMatchReference() {
        Random rnd = new Random(123);
        GradCheck.op("softmaxChannels on " + BIG)
                .input("x", BIG, uniform(rnd, BIG, -3, 3))
                .output(BIG)
                .reference(in -> ChannelsGradTest.softmaxChannels(in[0], 2, 3, BIG.spatialSize()))
                .forward((be, in, y) -> be.softmaxChannels(in[0], y))
                .backward((be, in, y, gy, g) -> be.softmaxChannelsBackward(y, gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-5, "float32 exp and normalisation"))
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "float32 y·(g − Σ y g), cancelling"))
                .sampleElements(10, true)
                .check();
        GradCheck.op("weightedSum M=2 on " + BIG)
                .input("x0", BIG, uniform(rnd, BIG, -1, 1))
                .input("x1", BIG, uniform(rnd, BIG, -1, 1))
                .input("w", Shape.of(2), new float[]{0.3f, 0.7f})
                .output(BIG)
                .reference(in -> {
                    double[] y = new double[BIG.intSize()];
                    for (int i = 0; i < y.length; i++) y[i] = in[2][0] * in[0][i] + in[2][1] * in[1][i];
                    return y;
                })
                .forward((be, in, y) -> be.weightedSum(new Tensor[]{in[0], in[1]}, in[2], y))
                .backward((be, in, y, gy, g) -> be.weightedSumBackward(new Tensor[]{in[0], in[1]}, in[2], gy,
                        new Tensor[]{g[0], g[1]}, g[2]))
                .forwardTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 sum of 2 products"))
                .gradTol(GradCheck.Tol.abs(1e-5, 1e-5, "gw: <gy, x> over 83520 elements, accumulated in double"))
                .sampleElements(10, true)
                .check();
    }

    @Test
    @GradCheckCase("pairwiseCosine")
    void pairwiseCosineOverSeveralBlocksMatchesReference() {
        Shape map = Shape.ncdhw(2, 2, 24, 24, 24); // 27648 voxels: two reduction blocks, six backward chunks
        Shape region = Shape.ncdhw(2, 1, 24, 24, 24);
        Random rnd = new Random(124);
        float[] common = uniform(rnd, map, -1, 1);
        GradCheck.Case c = GradCheck.op("pairwiseCosine M=3 on " + map);
        for (int k = 0; k < 3; k++) {
            float[] x = uniform(rnd, map, -1, 1);
            for (int i = 0; i < x.length; i++) x[i] += common[i] * k;
            c.input("x" + k, map, x);
        }
        c.input("region", region, uniform(rnd, region, 0.05, 1))
                .output(Shape.of(3, 3))
                .reference(in -> ConsistencyGradTest.pairwiseCosine(Arrays.copyOf(in, 3), in[3], map))
                .forward((be, in, y) -> be.pairwiseCosine(Arrays.copyOf(in, 3), in[3], y))
                .backward((be, in, y, gy, g) -> be.pairwiseCosineBackward(Arrays.copyOf(in, 3), in[3], gy,
                        Arrays.copyOf(g, 3), g[3]))
                .forwardTol(GradCheck.Tol.abs(1e-6, 1e-6, "double-accumulated dot products of float32 data"))
                .gradTol(GradCheck.Tol.ofMax(2e-5, 1e-4, "float32 sums of M² cancelling terms per voxel"))
                .sampleElements(10, true)
                .check();
    }

    @Test
    @GradCheckCase({"weightedCrossEntropy", "softDice", "binaryCrossEntropy"})
    void lossesOverSeveralReductionBlocksMatchReference() {
        Shape s = Shape.ncdhw(1, 2, 33, 33, 33); // 35937 voxels per map: three reduction blocks, two chunks
        int sp = s.spatialSize();
        Random rnd = new Random(125);
        float[] p = new float[s.intSize()];
        float[] y = new float[s.intSize()];
        for (int v = 0; v < sp; v++) {
            float a = 0.02f + 0.96f * rnd.nextFloat();
            p[v] = a;
            p[sp + v] = 1 - a;
            y[rnd.nextInt(2) * sp + v] = 1;
        }
        GradCheck.op("weightedCrossEntropy on " + s)
                .input("p", s, p)
                .constant("target", s, y)
                .output(Shape.scalar())
                .reference(in -> new double[]{wce(in[0], in[1], sp)})
                .forward((be, in, out) -> be.weightedCrossEntropy(in[0], in[1], out))
                .backward((be, in, out, gy, g) -> be.weightedCrossEntropyBackward(in[0], in[1], gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "double accumulation, one float32 rounding"))
                .gradTol(GradCheck.Tol.ofMax(1e-7, 1e-5, "a few float32 operations per element"))
                .sampleElements(10, true)
                .check();
        GradCheck.op("softDice on " + s)
                .input("p", s, p)
                .constant("target", s, y)
                .output(Shape.scalar())
                .reference(in -> new double[]{dice(in[0], in[1], sp)})
                .forward((be, in, out) -> be.softDice(in[0], in[1], out))
                .backward((be, in, out, gy, g) -> be.softDiceBackward(in[0], in[1], gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "double accumulation, one float32 rounding"))
                .gradTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 a·y + b per element"))
                .sampleElements(10, true)
                .check();
        GradCheck.op("binaryCrossEntropy on " + s)
                .input("p", s, p)
                .constant("target", s, y)
                .output(Shape.scalar())
                .reference(in -> new double[]{LossGradTest.binaryCrossEntropy(in[0], in[1])})
                .forward((be, in, out) -> be.binaryCrossEntropy(in[0], in[1], out))
                .backward((be, in, out, gy, g) -> be.binaryCrossEntropyBackward(in[0], in[1], gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "double accumulation, one float32 rounding"))
                .gradTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "(p − t) / (p(1 − p)) per element"))
                .sampleElements(10, true)
                .check();
    }

    /** WCE for N = 1, C = 2 (as LossGradTest's reference). */
    private static double wce(double[] p, double[] y, int sp) {
        double sum = 0;
        for (int c = 0; c < 2; c++) {
            double count = 0;
            for (int v = 0; v < sp; v++) count += y[c * sp + v];
            double w = 1 - count / sp;
            for (int v = 0; v < sp; v++) {
                sum += -w * y[c * sp + v] * Math.log(Math.min(1, Math.max(LossGradTest.CLAMP, p[c * sp + v])));
            }
        }
        return sum / sp;
    }

    /** Soft Dice for N = 1, C = 2 (as LossGradTest's reference). */
    private static double dice(double[] p, double[] y, int sp) {
        double mean = 0;
        for (int c = 0; c < 2; c++) {
            double inter = 0, sum = 0;
            for (int v = 0; v < sp; v++) {
                inter += p[c * sp + v] * y[c * sp + v];
                sum += p[c * sp + v] + y[c * sp + v];
            }
            mean += 2 * inter / (sum + 1e-7);
        }
        return 1 - mean / 2;
    }
}
