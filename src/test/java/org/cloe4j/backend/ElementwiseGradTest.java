package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;

import java.util.List;
import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The pointwise functions (leaky ReLU, ReLU, sigmoid, ...: every {@link Pointwise} case) and scale against double references. */
class ElementwiseGradTest {
    // 3·5·7·3·5 = 1575 elements: more than one vector width, odd so the scalar tail runs too
    private static final Shape SHAPE = Shape.ncdhw(3, 5, 7, 3, 5);

    static List<PointwiseCases.Case> pointwiseCases() {
        return PointwiseCases.all();
    }

    /** Every {@link Pointwise} function (each parameter value of its cases) against its double reference. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("pointwiseCases")
    @GradCheckCase("pointwise")
    void pointwiseFunctionMatchesItsReference(PointwiseCases.Case c) {
        // seeds 41, 42, ... by function, as the per-function tests had
        float[] x = c.inputs().sample(new Random(41 + c.f().ordinal()), SHAPE.intSize());
        PointwiseCases.check(c, SHAPE, x).check();
    }

    @Test
    @GradCheckCase("scale")
    void scaleMultipliesByTheScalarAndItsBackwardIsTheSameScale() {
        float s = -0.7f;
        GradCheck.op("scale by " + s)
                .input("x", SHAPE, uniform(new Random(43), SHAPE, -2, 2))
                .output(SHAPE)
                .reference(in -> {
                    double[] y = new double[in[0].length];
                    for (int i = 0; i < y.length; i++) y[i] = s * in[0][i];
                    return y;
                })
                .forward((be, in, y) -> be.scale(in[0], s, y))
                .backward((be, in, y, gy, g) -> be.scale(gy, s, g[0]))
                .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "one float32 rounding; FD roundoff ε·|L|/h ≈ 1e-8"))
                .check();
    }
}
