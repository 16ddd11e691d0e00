package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** pairwiseCosine (MEC / REC agreement) against a double reference, with and without a region map. */
class ConsistencyGradTest {
    private static final Shape MAP = Shape.ncdhw(2, 3, 3, 2, 3);
    private static final Shape REGION = Shape.ncdhw(2, 1, 3, 2, 3);

    /**
     * s[a][b] = <u_a, u_b> / (|u_a| |u_b|) with u_m = r ⊙ x_m (r broadcast over channels, 1 without a region);
     * 0 when either norm is 0.
     */
    static double[] pairwiseCosine(double[][] xs, double[] region, Shape s) {
        int m = xs.length;
        int c = s.c(), sp = s.spatialSize();
        double[][] u = new double[m][xs[0].length];
        for (int k = 0; k < m; k++)
            for (int i = 0; i < u[k].length; i++) {
                int n = i / (c * sp), v = i % sp;
                u[k][i] = (region == null ? 1 : region[n * sp + v]) * xs[k][i];
            }
        double[] out = new double[m * m];
        for (int a = 0; a < m; a++)
            for (int b = 0; b < m; b++) {
                double na = Math.sqrt(GradCheck.dot(u[a], u[a])), nb = Math.sqrt(GradCheck.dot(u[b], u[b]));
                out[a * m + b] = na == 0 || nb == 0 ? 0 : GradCheck.dot(u[a], u[b]) / (na * nb);
            }
        return out;
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (int m = 1; m <= 4; m++) for (boolean r : new boolean[]{false, true}) all.add(Arguments.of(m, r));
        return all.stream();
    }

    @ParameterizedTest(name = "M = {0}, region = {1}")
    @MethodSource("cases")
    @GradCheckCase("pairwiseCosine")
    void pairwiseCosineMatchesReferenceForEveryMapAndTheRegion(int m, boolean withRegion) {
        Random rnd = new Random(71 + 2 * m + (withRegion ? 1 : 0));
        GradCheck.Case c = GradCheck.op("pairwiseCosine M=" + m + (withRegion ? " with region" : ""));
        // correlated maps (a shared part plus noise) so the cosines are spread over (0, 1), not all ≈ 0
        float[] common = uniform(rnd, MAP, -1, 1);
        for (int k = 0; k < m; k++) {
            float[] x = uniform(rnd, MAP, -1, 1);
            for (int i = 0; i < x.length; i++) x[i] += common[i] * k / 2f;
            c.input("x" + k, MAP, x);
        }
        if (withRegion) c.input("region", REGION, uniform(rnd, REGION, 0.05, 1));
        checkCosine(c, m, withRegion, m == 1 ? "M = 1: the only cosine is the constant 1" : null);
    }

    @Test
    @GradCheckCase("pairwiseCosine")
    void pairwiseCosineOfAnAllZeroMapIsZeroAndTheOtherGradientsStillMatch() {
        Random rnd = new Random(79);
        // the cosine is not differentiable at a zero map (it jumps), so that map is held constant
        GradCheck.Case c = GradCheck.op("pairwiseCosine with an all-zero map")
                .input("x0", MAP, uniform(rnd, MAP, -1, 1))
                .constant("x1 (all zero)", MAP, new float[MAP.intSize()])
                .input("x2", MAP, uniform(rnd, MAP, -1, 1))
                .input("region", REGION, uniform(rnd, REGION, 0.05, 1));
        checkCosine(c, 3, true, null);
    }

    private static void checkCosine(GradCheck.Case c, int m, boolean withRegion, String zeroGradientReason) {
        if (zeroGradientReason != null) c.allowAllZeroGradient(zeroGradientReason);
        c.output(Shape.of(m, m))
                .reference(in -> pairwiseCosine(Arrays.copyOf(in, m), withRegion ? in[m] : null, MAP))
                .forward((be, in, y) -> be.pairwiseCosine(Arrays.copyOf(in, m), withRegion ? in[m] : null, y))
                .backward((be, in, y, gy, g) -> be.pairwiseCosineBackward(Arrays.copyOf(in, m),
                        withRegion ? in[m] : null, gy, Arrays.copyOf(g, m), withRegion ? g[m] : null))
                // dot products of float32 data accumulated in double: cosines good to ~1e-7
                .forwardTol(GradCheck.Tol.abs(1e-6, 1e-6, "double-accumulated dot products of float32 data"))
                // per-voxel float32 sums of M² coefficient·x terms, cancelling
                .gradTol(GradCheck.Tol.ofMax(2e-5, 1e-4, "float32 sums of M² cancelling terms per voxel"))
                .check();
    }

    @Test
    void pairwiseCosineGivesAnAllZeroMapAFiniteZeroGradient() {
        // s is the constant 0 wherever a map has norm 0, so its gradient there is taken as 0 (not b / eps)
        Backend be = GradCheck.backend();
        Random rnd = new Random(80);
        Tensor[] xs = {be.fromHost(MAP, uniform(rnd, MAP, -1, 1)), be.zeros(MAP)};
        Tensor[] gxs = {be.allocate(MAP), be.allocate(MAP)};
        be.fill(gxs[1], Float.NaN);
        be.pairwiseCosineBackward(xs, null, be.fromHost(Shape.of(2, 2), new float[]{0.3f, -1f, 0.7f, 2f}), gxs, null);
        float[] g = be.toHost(gxs[1]);
        for (int i = 0; i < g.length; i++) {
            assertEquals(0f, g[i], 0f, "gradient of the all-zero map at " + GradCheck.index(MAP, i));
        }
    }

    @Test
    void pairwiseCosineDiagonalIsOneForNonZeroMaps() {
        Backend be = GradCheck.backend();
        Random rnd = new Random(81);
        Tensor[] xs = {be.fromHost(MAP, uniform(rnd, MAP, -1, 1)), be.fromHost(MAP, uniform(rnd, MAP, -1, 1))};
        Tensor s = be.allocate(Shape.of(2, 2));
        be.pairwiseCosine(xs, be.fromHost(REGION, uniform(rnd, REGION, 0.1, 1)), s);
        float[] v = be.toHost(s);
        assertEquals(1f, v[0], 1e-6f, "cos(x0, x0)");
        assertEquals(1f, v[3], 1e-6f, "cos(x1, x1)");
        assertEquals(v[1], v[2], 0f, "the cosine matrix must be symmetric");
    }
}
