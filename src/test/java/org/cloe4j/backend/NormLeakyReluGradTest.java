package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;

import java.util.Random;

import org.cloe4j.graph.Ops;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The fused block op instanceNormLeakyRelu (norm + leaky ReLU + optional residual add) against a double reference,
 * and its gradient rule (the graph's, made of the unfused backward ops) against central differences.
 */
class NormLeakyReluGradTest {
    static final float SLOPE = 0.01f;

    static double[] reference(double[] x, double[] residual, int n, int c, int sp) {
        double[] y = ResampleNormGradTest.instanceNorm(x, null, null, n, c, sp, ResampleNormGradTest.EPS);
        for (int i = 0; i < y.length; i++) {
            y[i] = y[i] > 0 ? y[i] : SLOPE * y[i];
            if (residual != null) y[i] += residual[i];
        }
        return y;
    }

    private static Tensor stats(Backend be, Shape xs) {
        return be.allocate(Shape.of(xs.n(), xs.c()));
    }

    private static void check(Shape xs, boolean residual, long seed, int sampled) {
        Random rnd = new Random(seed);
        int sp = xs.spatialSize();
        Ops.NormLeakyRelu op = new Ops.NormLeakyRelu(ResampleNormGradTest.EPS, SLOPE);
        GradCheck.Case c = GradCheck.op("instanceNormLeakyRelu " + (residual ? "residual " : "") + xs)
                .input("x", xs, uniform(rnd, xs, -2, 3)); // non-zero mean, unit-ish variance
        if (residual) c.input("residual", xs, uniform(rnd, xs, -1, 1));
        if (sampled > 0) c.sampleElements(sampled, true);
        c.output(xs)
                .reference(in -> reference(in[0], residual ? in[1] : null, xs.n(), xs.c(), sp))
                .forward((be, in, y) -> be.instanceNormLeakyRelu(in[0], residual ? in[1] : null, y, stats(be, xs),
                        stats(be, xs), ResampleNormGradTest.EPS, SLOPE))
                .backward((be, in, y, gy, g) -> {
                    Tensor[] aux = {stats(be, xs), stats(be, xs)};
                    op.forward(be, in, aux, be.allocate(xs));
                    op.backward(be, in, aux, null, gy, g);
                })
                // the norm's tolerances (ResampleNormGradTest): leaky ReLU scales by 1 or the slope, the add is one
                // float rounding of O(1) values
                .forwardTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 normalisation of O(1) values"))
                .gradTol(GradCheck.Tol.ofMax(5e-5, 1e-4, "float32, cancelling terms of the norm's backward"))
                .check();
    }

    @Test
    @GradCheckCase("instanceNormLeakyRelu")
    void plainMatchesReference() {
        check(Shape.ncdhw(2, 3, 3, 2, 5), false, 31, 0);
    }

    @Test
    @GradCheckCase("instanceNormLeakyRelu")
    void withResidualMatchesReference() {
        check(Shape.ncdhw(1, 2, 3, 3, 3), true, 32, 0);
    }

    @Test
    @GradCheckCase("instanceNormLeakyRelu")
    void mapsOfSeveralStatisticsBlocksMatchReference() {
        // 9·19·29 = 4959 voxels per map: more than one statistics block of the CPU kernel, and a tail past the vectors
        check(Shape.ncdhw(1, 2, 9, 19, 29), true, 33, 24);
    }
}
