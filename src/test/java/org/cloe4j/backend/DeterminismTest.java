package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;

import java.util.Random;
import java.util.function.Supplier;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Reduction-heavy ops give bit-identical results when run twice on the same inputs (training must be reproducible),
 * on inputs large enough to be split over several blocks and threads.
 */
class DeterminismTest {
    private static final Backend BE = GradCheck.backend();
    // 4·20·24·24 = 46080 voxels per channel group: several 16384-element reduction blocks
    private static final Shape MAP = Shape.ncdhw(2, 4, 20, 24, 24);
    private static final Shape REGION = Shape.ncdhw(2, 1, 20, 24, 24);

    private static void assertBitIdentical(String op, Supplier<float[]> run) {
        float[] first = run.get();
        for (int round = 2; round <= 3; round++) {
            float[] again = run.get();
            for (int i = 0; i < first.length; i++) {
                if (Float.floatToRawIntBits(first[i]) != Float.floatToRawIntBits(again[i])) {
                    throw new AssertionError(op + ": run " + round + " differs from run 1 at element " + i + ": "
                            + first[i] + " vs " + again[i]);
                }
            }
        }
    }

    @Test
    void pairwiseCosineAndItsBackwardAreBitReproducible() {
        Random rnd = new Random(111);
        Tensor[] xs = new Tensor[3];
        for (int k = 0; k < 3; k++) xs[k] = BE.fromHost(MAP, uniform(rnd, MAP, -1, 1));
        Tensor region = BE.fromHost(REGION, uniform(rnd, REGION, 0, 1));
        Tensor s = BE.allocate(Shape.of(3, 3));
        assertBitIdentical("pairwiseCosine", () -> {
            BE.pairwiseCosine(xs, region, s);
            return BE.toHost(s);
        });
        Tensor gs = BE.fromHost(Shape.of(3, 3), uniform(rnd, 9, -1, 1));
        Tensor[] gxs = {BE.allocate(MAP), BE.allocate(MAP), BE.allocate(MAP)};
        Tensor gr = BE.allocate(REGION);
        assertBitIdentical("pairwiseCosineBackward", () -> {
            BE.pairwiseCosineBackward(xs, region, gs, gxs, gr);
            float[] a = BE.toHost(gxs[0]);
            float[] b = BE.toHost(gr);
            float[] both = java.util.Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, both, a.length, b.length);
            return both;
        });
    }

    @Test
    void softDiceAndItsBackwardAreBitReproducible() {
        Random rnd = new Random(112);
        Tensor p = BE.allocate(MAP);
        BE.softmaxChannels(BE.fromHost(MAP, uniform(rnd, MAP, -3, 3)), p);
        float[] y = new float[MAP.intSize()];
        int sp = MAP.spatialSize();
        for (int n = 0; n < 2; n++) for (int v = 0; v < sp; v++) y[(n * 4 + rnd.nextInt(4)) * sp + v] = 1;
        Tensor target = BE.fromHost(MAP, y);
        Tensor loss = BE.allocate(Shape.scalar());
        assertBitIdentical("softDice", () -> {
            BE.softDice(p, target, loss);
            return BE.toHost(loss);
        });
        Tensor gp = BE.allocate(MAP);
        assertBitIdentical("softDiceBackward", () -> {
            BE.softDiceBackward(p, target, BE.fromHost(Shape.scalar(), new float[]{1f}), gp);
            return BE.toHost(gp);
        });
    }

    @Test
    void opsCalledFromSeveralThreadsAtOnceGiveTheSequentialResults() throws Exception {
        // Backend's contract: all ops may run concurrently on different tensors (the worker pool is shared)
        Random rnd = new Random(114);
        int jobs = 4;
        Tensor[][] xs = new Tensor[jobs][];
        Tensor[] targets = new Tensor[jobs];
        for (int j = 0; j < jobs; j++) {
            xs[j] = new Tensor[]{BE.fromHost(MAP, uniform(rnd, MAP, 0, 1)), BE.fromHost(MAP, uniform(rnd, MAP, 0, 1))};
            targets[j] = BE.fromHost(MAP, uniform(rnd, MAP, 0, 1));
        }
        java.util.function.IntFunction<float[]> job = j -> {
            Tensor s = BE.allocate(Shape.of(2, 2));
            BE.pairwiseCosine(xs[j], null, s);
            Tensor dice = BE.allocate(Shape.scalar());
            BE.softDice(xs[j][0], targets[j], dice);
            Tensor sig = BE.allocate(MAP);
            BE.pointwise(Pointwise.SIGMOID, 0f, xs[j][1], sig);
            float[] out = java.util.Arrays.copyOf(BE.toHost(s), 5 + MAP.intSize());
            out[4] = BE.toHost(dice)[0];
            System.arraycopy(BE.toHost(sig), 0, out, 5, MAP.intSize());
            return out;
        };
        float[][] sequential = new float[jobs][];
        for (int j = 0; j < jobs; j++) sequential[j] = job.apply(j);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(jobs);
        try {
            java.util.List<java.util.concurrent.Future<float[]>> futures = new java.util.ArrayList<>();
            for (int j = 0; j < jobs; j++) {
                int jj = j;
                futures.add(pool.submit(() -> job.apply(jj)));
            }
            for (int j = 0; j < jobs; j++) {
                float[] got = futures.get(j).get();
                for (int i = 0; i < got.length; i++) {
                    if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(sequential[j][i])) {
                        throw new AssertionError("job " + j + " run concurrently differs from its sequential run at "
                                + "output element " + i + ": " + got[i] + " vs " + sequential[j][i]);
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void conv3dBackwardWeightIsBitReproducible() {
        Random rnd = new Random(113);
        ConvSpec spec = ConvSpec.same3(ConvSpec.Padding.REFLECT);
        Shape xs = Shape.ncdhw(1, 4, 12, 12, 12);
        Shape ws = Shape.ncdhw(4, 4, 3, 3, 3);
        Tensor x = BE.fromHost(xs, uniform(rnd, xs, -1, 1));
        Tensor gy = BE.fromHost(spec.outputShape(xs, ws), uniform(rnd, spec.outputShape(xs, ws), -1, 1));
        Tensor gw = BE.allocate(ws);
        Tensor gb = BE.allocate(Shape.of(4));
        assertBitIdentical("conv3dBackwardWeight", () -> {
            BE.conv3dBackwardWeight(x, gy, gw, gb, spec);
            float[] w = BE.toHost(gw);
            float[] all = java.util.Arrays.copyOf(w, w.length + 4);
            System.arraycopy(BE.toHost(gb), 0, all, w.length, 4);
            return all;
        });
    }
}
