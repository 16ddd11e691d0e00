package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.junit.jupiter.api.Test;

/** The checker itself: it must catch a wrong forward, a wrong gradient, an unwritten element and a modified input. */
class GradCheckSelfTest {
    private static final Shape S = Shape.ncdhw(1, 2, 3, 1, 3);

    /** y = x², written correctly in the reference; the backend side is given by the test. */
    private static GradCheck.Case square(GradCheck.Forward f, GradCheck.Backward b) {
        return GradCheck.op("x squared (self-test)")
                .input("x", S, uniform(new Random(1), S, 0.5, 1.5))
                .output(S)
                .reference(in -> {
                    double[] y = new double[in[0].length];
                    for (int i = 0; i < y.length; i++) y[i] = in[0][i] * in[0][i];
                    return y;
                })
                .forward(f)
                .backward(b)
                .forwardTol(GradCheck.Tol.abs(1e-6, 1e-6, "self-test"))
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-6, "self-test"));
    }

    private static final GradCheck.Forward RIGHT_FORWARD = (be, in, y) -> be.mul(in[0], in[0], y);
    private static final GradCheck.Backward RIGHT_BACKWARD = (be, in, y, gy, g) -> {
        be.mul(gy, in[0], g[0]);
        be.scale(g[0], 2f, g[0]);
    };

    @Test
    void aCorrectOpPasses() {
        square(RIGHT_FORWARD, RIGHT_BACKWARD).check();
    }

    @Test
    void aWrongForwardFailsAndTheMessageNamesTheWorstElement() {
        AssertionError e = assertThrows(AssertionError.class, () -> square((be, in, y) -> {
            RIGHT_FORWARD.run(be, in, y);
            float[] v = be.toHost(y);
            v[4] += 1e-3f;
            be.copy(be.fromHost(S, v), y);
        }, RIGHT_BACKWARD).check());
        assertTrue(e.getMessage().contains("forward output") && e.getMessage().contains("[0, 0, 1, 0, 1]"),
                "message must say forward and the worst index [0, 0, 1, 0, 1]: " + e.getMessage());
    }

    @Test
    void aGradientOffByOnePerMilleFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> square(RIGHT_FORWARD, (be, in, y, gy, g) -> {
            RIGHT_BACKWARD.run(be, in, y, gy, g);
            be.scale(g[0], 1.001f, g[0]);
        }).check());
        assertTrue(e.getMessage().contains("gradient of x"), e.getMessage());
    }

    @Test
    void anUnwrittenGradientElementFails() {
        assertThrows(AssertionError.class, () -> square(RIGHT_FORWARD, (be, in, y, gy, g) -> {
            float[] v = be.toHost(g[0]); // NaN everywhere: the checker's poison
            RIGHT_BACKWARD.run(be, in, y, gy, g);
            float[] w = be.toHost(g[0]);
            w[0] = v[0];
            be.copy(be.fromHost(S, w), g[0]);
        }).check());
    }

    @Test
    void anOpThatModifiesItsInputFails() {
        AssertionError e = assertThrows(AssertionError.class, () -> square(RIGHT_FORWARD, (be, in, y, gy, g) -> {
            RIGHT_BACKWARD.run(be, in, y, gy, g);
            be.scale(in[0], 1f + 1e-6f, in[0]);
        }).check());
        assertTrue(e.getMessage().contains("modified its input"), e.getMessage());
    }

    @Test
    void aCaseWhoseReferenceGradientIsZeroEverywhereIsRefused() {
        AssertionError e = assertThrows(AssertionError.class, () -> GradCheck.op("constant (self-test)")
                .input("x", S, uniform(new Random(2), S, -1, 1))
                .output(S)
                .reference(in -> new double[S.intSize()])
                .forward((be, in, y) -> be.fill(y, 0f))
                .backward((be, in, y, gy, g) -> be.fill(g[0], 0f))
                .forwardTol(GradCheck.Tol.abs(0, 0, "self-test"))
                .gradTol(GradCheck.Tol.abs(0, 0, "self-test"))
                .check());
        assertTrue(e.getMessage().contains("zero everywhere"), e.getMessage());
    }

    @Test
    void theCpuKeepsTheStatedToleranceAndOtherBackendsGetTheStatedFloor() {
        GradCheck.BackendTol cpu = GradCheck.BackendTol.of("cpu"), cuda = GradCheck.BackendTol.of("cuda");
        org.junit.jupiter.api.Assertions.assertEquals(1e-9, cpu.atol(1e-9, 10), 0);
        org.junit.jupiter.api.Assertions.assertEquals(1e-9, cpu.rtol(1e-9), 0);
        // near-zero reference in a tensor whose largest element is 10: float32 sums may be off by ~1e-5 of it
        org.junit.jupiter.api.Assertions.assertEquals(1e-4, cuda.atol(1e-9, 10), 1e-12);
        org.junit.jupiter.api.Assertions.assertEquals(1e-5, cuda.rtol(1e-9), 0);
        // a looser stated tolerance is kept
        org.junit.jupiter.api.Assertions.assertEquals(1e-2, cuda.atol(1e-2, 10), 0);
        // the floor stays far below an O(max|ref|) error (a wrong index, sign or scale)
        org.junit.jupiter.api.Assertions.assertTrue(cuda.atol(0, 10) + cuda.rtol(0) * 10 < 0.01 * 10);
    }
}
