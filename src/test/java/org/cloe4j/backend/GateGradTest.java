package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The gate's ops — dense, maskedSoftmax — and the reliability-weighted fusion weightedSum. */
class GateGradTest {

    @ParameterizedTest(name = "bias={0}")
    @ValueSource(booleans = {true, false})
    @GradCheckCase("dense")
    void denseIsXTimesWTransposedPlusBias(boolean withBias) {
        int batch = 3, in = 5, out = 4;
        Random rnd = new Random(withBias ? 61 : 62);
        GradCheck.Case c = GradCheck.op("dense " + in + " -> " + out + (withBias ? " with bias" : " without bias"))
                .input("x", Shape.of(batch, in), uniform(rnd, batch * in, -1, 1))
                .input("w", Shape.of(out, in), uniform(rnd, out * in, -1, 1));
        if (withBias) c.input("b", Shape.of(out), uniform(rnd, out, -1, 1));
        c.output(Shape.of(batch, out))
                .reference(x -> {
                    double[] y = new double[batch * out];
                    for (int r = 0; r < batch; r++)
                        for (int o = 0; o < out; o++) {
                            double s = withBias ? x[2][o] : 0;
                            for (int i = 0; i < in; i++) s += x[0][r * in + i] * x[1][o * in + i];
                            y[r * out + o] = s;
                        }
                    return y;
                })
                .forward((be, x, y) -> be.dense(x[0], x[1], withBias ? x[2] : null, y))
                .backward((be, x, y, gy, g) -> be.denseBackward(x[0], x[1], gy, g[0], g[1], withBias ? g[2] : null))
                .forwardTol(GradCheck.Tol.abs(1e-6, 1e-5, "float32 inputs, double accumulation of 5 products"))
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "double accumulation of <= 4 products; FD roundoff ≈ 1e-9"))
                .check();
    }

    /** Softmax over the entries with mask ≠ 0; the others are exactly 0. */
    static double[] maskedSoftmax(double[] logits, double[] mask) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < logits.length; i++) if (mask[i] != 0) max = Math.max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < logits.length; i++) if (mask[i] != 0) sum += Math.exp(logits[i] - max);
        double[] y = new double[logits.length];
        for (int i = 0; i < logits.length; i++) y[i] = mask[i] != 0 ? Math.exp(logits[i] - max) / sum : 0;
        return y;
    }

    @ParameterizedTest(name = "mask {0}")
    @ValueSource(strings = {"1111", "1011", "0100", "10101"})
    @GradCheckCase("maskedSoftmax")
    void maskedSoftmaxIsASoftmaxOverThePresentEntries(String maskBits) {
        int m = maskBits.length();
        float[] mask = new float[m];
        for (int i = 0; i < m; i++) mask[i] = maskBits.charAt(i) == '1' ? 1f : 0f;
        GradCheck.Case c = GradCheck.op("maskedSoftmax mask " + maskBits)
                .input("logits", Shape.of(m), uniform(new Random(maskBits.hashCode()), m, -3, 3))
                .constant("mask", Shape.of(m), mask)
                .output(Shape.of(m))
                .reference(in -> maskedSoftmax(in[0], in[1]))
                .forward((be, in, y) -> be.maskedSoftmax(in[0], in[1], y))
                .backward((be, in, y, gy, g) -> be.maskedSoftmaxBackward(y, gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "float32 exp of the max-shifted logits"))
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "float32 y·(g − Σ y g), cancelling"));
        if (maskBits.chars().filter(ch -> ch == '1').count() == 1) {
            c.allowAllZeroGradient("with one present entry the output is the constant one-hot");
        }
        c.check();
    }

    @Test
    void maskedSoftmaxGivesMaskedEntriesExactlyZeroValueAndGradient() {
        Backend be = GradCheck.backend();
        Tensor logits = be.fromHost(Shape.of(5), new float[]{0.3f, 2f, -1f, 50f, 0.7f});
        Tensor mask = be.fromHost(Shape.of(5), new float[]{1, 0, 1, 0, 1});
        Tensor y = be.allocate(Shape.of(5));
        be.fill(y, Float.NaN);
        be.maskedSoftmax(logits, mask, y);
        Tensor gx = be.allocate(Shape.of(5));
        be.fill(gx, Float.NaN);
        be.maskedSoftmaxBackward(y, be.fromHost(Shape.of(5), new float[]{0.5f, -2f, 1f, 3f, -0.25f}), gx);
        float[] yv = be.toHost(y), gv = be.toHost(gx);
        for (int i : new int[]{1, 3}) {
            assertEquals(0f, yv[i], 0f, "maskedSoftmax: masked entry " + i + " must be exactly 0, got " + Arrays.toString(yv));
            assertEquals(0f, gv[i], 0f, "maskedSoftmaxBackward: masked entry " + i + " must get gradient exactly 0, got "
                    + Arrays.toString(gv));
        }
    }

    @ParameterizedTest(name = "M = {0}")
    @ValueSource(ints = {1, 3})
    @GradCheckCase("weightedSum")
    void weightedSumIsTheWeightedFusionOfTheMaps(int m) {
        Shape xs = Shape.ncdhw(2, 3, 3, 2, 5);
        Random rnd = new Random(63 + m);
        GradCheck.Case c = GradCheck.op("weightedSum M=" + m);
        for (int k = 0; k < m; k++) c.input("x" + k, xs, uniform(rnd, xs, -1, 1));
        c.input("w", Shape.of(m), uniform(rnd, m, 0, 1))
                .output(xs)
                .reference(in -> {
                    double[] y = new double[xs.intSize()];
                    for (int k = 0; k < m; k++)
                        for (int i = 0; i < y.length; i++) y[i] += in[m][k] * in[k][i];
                    return y;
                })
                .forward((be, in, y) -> be.weightedSum(Arrays.copyOf(in, m), in[m], y))
                .backward((be, in, y, gy, g) -> be.weightedSumBackward(Arrays.copyOf(in, m), in[m], gy,
                        Arrays.copyOf(g, m), g[m]))
                .forwardTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 sum of <= 3 products"))
                // gw[m] = <gy, x_m> sums 180 products (double accumulation)
                .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "one float32 product per gx element; gw accumulated in double"))
                .check();
    }
}
