package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.awayFromZero;
import static org.cloe4j.backend.GradCheck.uniform;

import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** leakyRelu, ReLU, sigmoid and scale against double references. */
class ElementwiseGradTest {
    // 3·5·7·3·5 = 1575 elements: more than one vector width, odd so the scalar tail runs too
    private static final Shape SHAPE = Shape.ncdhw(3, 5, 7, 3, 5);

    @ParameterizedTest(name = "slope {0}")
    @ValueSource(floats = {0.2f, 0f})
    @GradCheckCase("leakyRelu")
    void leakyReluMatchesReferenceAwayFromTheKink(float slope) {
        GradCheck.op("leakyRelu slope " + slope)
                // no input within 1e-3 of 0, so x ± h never crosses the kink
                .input("x", SHAPE, awayFromZero(new Random(41), SHAPE.intSize(), 1e-3, 3))
                .output(SHAPE)
                .reference(in -> {
                    double[] y = new double[in[0].length];
                    for (int i = 0; i < y.length; i++) y[i] = in[0][i] > 0 ? in[0][i] : slope * in[0][i];
                    return y;
                })
                .forward((be, in, y) -> be.leakyRelu(in[0], y, slope))
                .backward((be, in, y, gy, g) -> be.leakyReluBackward(in[0], gy, g[0], slope))
                // one float multiply per element
                .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "one float32 rounding; FD roundoff ε·|L|/h ≈ 1e-8"))
                .check();
    }

    @Test
    @GradCheckCase("sigmoid")
    void sigmoidMatchesReference() {
        GradCheck.op("sigmoid")
                .input("x", SHAPE, uniform(new Random(42), SHAPE, -6, 6))
                .output(SHAPE)
                .reference(in -> {
                    double[] y = new double[in[0].length];
                    for (int i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-in[0][i]));
                    return y;
                })
                .forward((be, in, y) -> be.sigmoid(in[0], y))
                .backward((be, in, y, gy, g) -> be.sigmoidBackward(y, gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "float32 rounding of values in (0, 1)"))
                // y·(1 − y) from a float32 y: 1 − y loses relative accuracy as y → 1 (≈ 6e-8 / (1 − y))
                .gradTol(GradCheck.Tol.abs(1e-7, 2e-5, "float32 y·(1 − y), y up to 0.9975"))
                .check();
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
