package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import java.util.stream.Stream;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * add and mul with broadcasting, and sumTo, their adjoint. The graph runtime differentiates y = a + b as
 * ga = sumTo(gy), gb = sumTo(gy), and y = a · b as ga = sumTo(gy · b), gb = sumTo(gy · a): that is the backward
 * checked here, so these tests cover sumTo and mul as the runtime uses them.
 */
class BroadcastGradTest {
    private static final Shape FULL = Shape.ncdhw(2, 3, 3, 4, 5);

    /** Flat index into {@code small} of the element broadcast to flat position {@code i} of {@code full}. */
    static int broadcastIndex(Shape full, Shape small, int i) {
        int[] f = full.dims();
        int[] s = small.dims();
        int idx = 0;
        int stride = 1;
        for (int k = f.length - 1; k >= 0; k--) {
            int coord = i % f[k];
            i /= f[k];
            if (s[k] != 1) idx += coord * stride;
            stride *= s[k];
        }
        return idx;
    }

    static Shape broadcast(Shape a, Shape b) {
        int[] d = a.dims();
        for (int k = 0; k < d.length; k++) d[k] = Math.max(d[k], b.dim(k));
        return Shape.of(d);
    }

    static Stream<Arguments> operandShapes() {
        return Stream.of(
                Arguments.of("same shape", FULL, FULL),
                Arguments.of("per-channel b", FULL, Shape.ncdhw(1, 3, 1, 1, 1)),
                Arguments.of("spatial b", FULL, Shape.ncdhw(2, 1, 3, 4, 5)),
                Arguments.of("per-channel a", Shape.ncdhw(1, 3, 1, 1, 1), FULL),
                Arguments.of("spatial a, per-channel b", Shape.ncdhw(2, 1, 3, 4, 5), Shape.ncdhw(1, 3, 1, 1, 1)),
                Arguments.of("rank 2, row b", Shape.of(4, 7), Shape.of(1, 7)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operandShapes")
    @GradCheckCase({"add", "sumTo"})
    void addBroadcastsAndItsBackwardIsSumTo(String label, Shape as, Shape bs) {
        Shape ys = broadcast(as, bs);
        Random rnd = new Random(label.hashCode());
        GradCheck.op("add " + as + " + " + bs)
                .input("a", as, uniform(rnd, as, -1, 1))
                .input("b", bs, uniform(rnd, bs, -1, 1))
                .output(ys)
                .reference(in -> {
                    double[] y = new double[ys.intSize()];
                    for (int i = 0; i < y.length; i++) {
                        y[i] = in[0][broadcastIndex(ys, as, i)] + in[1][broadcastIndex(ys, bs, i)];
                    }
                    return y;
                })
                .forward((be, in, y) -> be.add(in[0], in[1], y))
                .backward((be, in, y, gy, g) -> {
                    be.sumTo(gy, g[0]);
                    be.sumTo(gy, g[1]);
                })
                .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                // a broadcast operand's gradient sums up to 120 upstream values
                .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "sums of <= 120 values (double accumulation in sumTo)"))
                .check();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("operandShapes")
    @GradCheckCase({"mul", "sumTo"})
    void mulBroadcastsAndItsBackwardIsMulThenSumTo(String label, Shape as, Shape bs) {
        Shape ys = broadcast(as, bs);
        Random rnd = new Random(label.hashCode() + 1);
        GradCheck.op("mul " + as + " * " + bs)
                .input("a", as, uniform(rnd, as, -1, 1))
                .input("b", bs, uniform(rnd, bs, -1, 1))
                .output(ys)
                .reference(in -> {
                    double[] y = new double[ys.intSize()];
                    for (int i = 0; i < y.length; i++) {
                        y[i] = in[0][broadcastIndex(ys, as, i)] * in[1][broadcastIndex(ys, bs, i)];
                    }
                    return y;
                })
                .forward((be, in, y) -> be.mul(in[0], in[1], y))
                .backward((be, in, y, gy, g) -> {
                    Tensor t = be.allocate(ys);
                    be.mul(gy, in[1], t);
                    be.sumTo(t, g[0]);
                    be.mul(gy, in[0], t);
                    be.sumTo(t, g[1]);
                    be.release(t);
                })
                .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                .gradTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 products summed over <= 120 terms"))
                .check();
    }

    static Stream<Arguments> reductions() {
        return Stream.of(
                Arguments.of(FULL, Shape.ncdhw(1, 3, 1, 1, 1)),
                Arguments.of(FULL, Shape.ncdhw(2, 1, 3, 4, 5)),
                Arguments.of(FULL, Shape.ncdhw(1, 1, 1, 1, 1)),
                Arguments.of(FULL, Shape.ncdhw(2, 3, 1, 1, 5)),
                Arguments.of(FULL, FULL),
                Arguments.of(Shape.of(5, 3), Shape.of(1, 3)));
    }

    @ParameterizedTest(name = "{0} to {1}")
    @MethodSource("reductions")
    @GradCheckCase("sumTo")
    void sumToSumsOverTheReducedDimensionsAndItsBackwardBroadcasts(Shape xs, Shape ys) {
        GradCheck.op("sumTo " + xs + " -> " + ys)
                .input("x", xs, uniform(new Random(xs.hashCode() ^ ys.hashCode()), xs, -1, 1))
                .output(ys)
                .reference(in -> {
                    double[] y = new double[ys.intSize()];
                    for (int i = 0; i < in[0].length; i++) y[broadcastIndex(xs, ys, i)] += in[0][i];
                    return y;
                })
                .forward((be, in, y) -> be.sumTo(in[0], y))
                // the adjoint of a sum is the broadcast: gx = 0 + gy (add broadcasts gy over the reduced dims)
                .backward((be, in, y, gy, g) -> be.add(be.zeros(xs), gy, g[0]))
                .forwardTol(GradCheck.Tol.abs(1e-6, 1e-6, "sums of <= 360 values accumulated in double"))
                .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "a copy of gy; FD roundoff ≈ 1e-8"))
                .check();
    }

    @ParameterizedTest(name = "{0} to {1}")
    @MethodSource("reductions")
    void sumToIsTheAdjointOfBroadcasting(Shape xs, Shape ys) {
        // <sumTo(X), Y> = <X, broadcast(Y)> for every X, Y: the identity that makes sumTo the gradient of add/mul
        Backend be = GradCheck.backend();
        Random rnd = new Random(99);
        float[] xv = uniform(rnd, xs, -1, 1);
        float[] yv = uniform(rnd, ys, -1, 1);
        Tensor sum = be.allocate(ys);
        be.sumTo(be.fromHost(xs, xv), sum);
        Tensor bcast = be.allocate(xs);
        be.add(be.zeros(xs), be.fromHost(ys, yv), bcast);
        double left = GradCheck.dot(GradCheck.toDouble(be.toHost(sum)), GradCheck.toDouble(yv));
        double right = GradCheck.dot(GradCheck.toDouble(xv), GradCheck.toDouble(be.toHost(bcast)));
        assertEquals(right, left, 1e-5 * (1 + Math.abs(right)),
                "<sumTo(X), Y> must equal <X, broadcast(Y)> for " + xs + " -> " + ys);
    }
}
