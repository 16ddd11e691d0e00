package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.cloe4j.graph.Graph;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Op;
import org.cloe4j.graph.Ops;
import org.cloe4j.graph.Parameter;
import org.cloe4j.graph.Value;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * One gradient check per gradient rule the graph runtime ships: every permitted subclass of {@link Op} (the set is
 * sealed, so reflection lists all of them) has at least one case here, and each case runs the op and its backward
 * exactly as {@link Ops} wires them, through the graph runtime ({@link GraphBuilder#apply}, {@link Graph.Run#backward}),
 * against {@link GradCheck}'s double-precision reference and central differences. The differentiable inputs are
 * parameters of the graph; the others (targets, masks) are constants. The loss is L = Σ G ⊙ op(inputs) with G the
 * checker's random upstream gradient, so the rule under test receives exactly G.
 *
 * <p>The per-primitive checks (Conv3dGradTest, LossGradTest, ...) stay: they call the backend's backward methods
 * directly, on more shapes and edge cases. Tolerances are theirs, for the same arithmetic.
 */
class OpRuleGradTest {

    /** One case: the op as the runtime gets it, and the check to run. */
    private record OpCase(Class<? extends Op> op, String label, Runnable check) {
    }

    /** Runs {@code op} through a graph: forward into {@code y} and, with {@code gy}, backward into {@code g}. */
    private static void viaGraph(Backend be, Op op, Tensor[] in, boolean[] differentiable, Tensor y, Tensor gy,
                                 Tensor[] g) {
        GraphBuilder b = new GraphBuilder();
        Value[] v = new Value[in.length];
        Parameter[] params = new Parameter[in.length];
        for (int i = 0; i < in.length; i++) {
            float[] host = be.toHost(in[i]);
            if (differentiable[i]) {
                params[i] = new Parameter("x" + i, be, in[i].shape(), host);
                v[i] = b.param(params[i]);
            } else {
                v[i] = b.constant("c" + i, in[i].shape(), host);
            }
        }
        Value out = b.apply(op, v);
        Graph graph = gy == null ? b.build(out)
                : b.buildTraining(b.sum(b.mul(out, b.constant("G", out.shape(), be.toHost(gy)))), out);
        try (Graph.Run run = graph.run(be, Map.of())) {
            if (y != null) be.copy(run.get(out), y);
            if (gy != null) {
                run.backward();
                for (int i = 0; i < in.length; i++) {
                    if (g[i] == null) continue;
                    Tensor grad = params[i].grad();
                    if (grad == null) throw new AssertionError(op.name() + ": the runtime gave input " + i + " no gradient");
                    be.copy(grad, g[i]);
                }
            }
        } finally {
            for (Parameter p : params) {
                if (p == null) continue;
                p.zeroGrad();
                be.release(p.value());
            }
        }
    }

    /** A GradCheck case whose forward and backward are {@code op} run by the graph runtime. */
    private static final class Builder {
        private final Op op;
        private final GradCheck.Case c;
        private final List<Boolean> diff = new ArrayList<>();

        Builder(Op op, String label) {
            this.op = op;
            this.c = GradCheck.op("graph " + op.name() + " " + label);
        }

        Builder input(String n, Shape s, float[] v) {
            c.input(n, s, v);
            diff.add(true);
            return this;
        }

        Builder constant(String n, Shape s, float[] v) {
            c.constant(n, s, v);
            diff.add(false);
            return this;
        }

        GradCheck.Case run(Shape out, GradCheck.Reference ref) {
            boolean[] d = new boolean[diff.size()];
            for (int i = 0; i < d.length; i++) d[i] = diff.get(i);
            return c.output(out).reference(ref)
                    .forward((be, in, y) -> viaGraph(be, op, in, d, y, null, null))
                    .backward((be, in, y, gy, g) -> viaGraph(be, op, in, d, null, gy, g));
        }
    }

    private static Builder graph(Op op, String label) {
        return new Builder(op, label);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // references for the broadcasting ops (the others reuse the per-primitive tests' references)

    /** Flat index into {@code small} of flat index {@code i} of {@code big} under NumPy broadcasting (same rank). */
    private static int broadcastIndex(int i, Shape big, Shape small) {
        int[] bd = big.dims(), sd = small.dims();
        int j = 0, stride = 1;
        for (int k = bd.length - 1; k >= 0; k--) {
            int idx = i % bd[k];
            i /= bd[k];
            if (sd[k] != 1) j += idx * stride;
            stride *= sd[k];
        }
        return j;
    }

    private static double[] broadcastBinary(double[] a, double[] b, Shape as, Shape bs, boolean mul) {
        double[] y = new double[a.length];
        for (int i = 0; i < y.length; i++) {
            double bv = b[broadcastIndex(i, as, bs)];
            y[i] = mul ? a[i] * bv : a[i] + bv;
        }
        return y;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the cases

    private static List<OpCase> cases() {
        List<OpCase> all = new ArrayList<>();

        for (boolean reflect : new boolean[]{true, false}) {
            ConvSpec spec = reflect ? new ConvSpec(3, 1, 1, ConvSpec.Padding.REFLECT) : new ConvSpec(3, 2, 1, ConvSpec.Padding.ZERO);
            int n = 1, ci = 2, d = 3, h = 4, wd = 5, co = 3;
            Shape xs = Shape.ncdhw(n, ci, d, h, wd), ws = Shape.ncdhw(co, ci, 3, 3, 3);
            Random rnd = new Random(reflect ? 101 : 102);
            Builder b = graph(new Ops.Conv3d(spec), spec.toString())
                    .input("x", xs, uniform(rnd, xs, -1, 1)).input("w", ws, uniform(rnd, ws, -0.5, 0.5));
            if (reflect) b.input("bias", Shape.of(co), uniform(rnd, co, -1, 1));
            all.add(new OpCase(Ops.Conv3d.class, spec.toString(), () -> b
                    .run(spec.outputShape(xs, ws), in -> Conv3dGradTest.conv3d(in[0], in[1], reflect ? in[2] : null,
                            n, ci, d, h, wd, co, spec))
                    .forwardTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 sums of <= 54 products, some cancelling"))
                    .gradTol(GradCheck.Tol.ofMax(2e-5, 1e-4, "float32 sums of up to a few hundred products vs exact double"))
                    .check()));
        }

        {
            Shape xs = Shape.ncdhw(1, 2, 2, 3, 2);
            Random rnd = new Random(103);
            Builder b = graph(new Ops.Upsample2x(), "").input("x", xs, uniform(rnd, xs, -1, 1));
            all.add(new OpCase(Ops.Upsample2x.class, "", () -> b
                    .run(Shape.ncdhw(1, 2, 4, 6, 4), in -> ResampleNormGradTest.upsample2x(in[0], 2, 2, 3, 2))
                    .forwardTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 blend of 8 values"))
                    .gradTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 scatter-add of <= 27 weighted terms"))
                    .check()));
        }

        for (boolean affine : new boolean[]{false, true}) {
            Shape xs = Shape.ncdhw(2, 3, 3, 2, 5);
            Random rnd = new Random(affine ? 104 : 105);
            Builder b = graph(new Ops.InstanceNorm(ResampleNormGradTest.EPS), affine ? "affine" : "plain")
                    .input("x", xs, uniform(rnd, xs, -2, 3));
            if (affine) {
                b.input("gamma", Shape.of(3), uniform(rnd, 3, 0.5, 1.5)).input("beta", Shape.of(3), uniform(rnd, 3, -1, 1));
            }
            all.add(new OpCase(Ops.InstanceNorm.class, affine ? "affine" : "plain", () -> b
                    .run(xs, in -> ResampleNormGradTest.instanceNorm(in[0], affine ? in[1] : null, affine ? in[2] : null,
                            2, 3, 30, ResampleNormGradTest.EPS))
                    .forwardTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 normalisation of O(1) values"))
                    .gradTol(GradCheck.Tol.ofMax(5e-5, 1e-4, "float32, cancelling terms of the norm's backward"))
                    .check()));
        }

        for (boolean residual : new boolean[]{false, true}) {
            Shape xs = Shape.ncdhw(2, 3, 3, 2, 5);
            Random rnd = new Random(residual ? 120 : 121);
            float slope = 0.01f;
            Builder b = graph(new Ops.NormLeakyRelu(ResampleNormGradTest.EPS, slope), residual ? "residual" : "plain")
                    .input("x", xs, uniform(rnd, xs, -2, 3));
            if (residual) b.input("residual", xs, uniform(rnd, xs, -1, 1));
            all.add(new OpCase(Ops.NormLeakyRelu.class, residual ? "residual" : "plain", () -> b
                    .run(xs, in -> {
                        double[] y = ResampleNormGradTest.instanceNorm(in[0], null, null, 2, 3, 30, ResampleNormGradTest.EPS);
                        for (int i = 0; i < y.length; i++) {
                            y[i] = y[i] > 0 ? y[i] : slope * y[i];
                            if (residual) y[i] += in[1][i];
                        }
                        return y;
                    })
                    // the norm's tolerances: leaky ReLU scales by 1 or the slope, the residual add is one rounding
                    .forwardTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 normalisation of O(1) values"))
                    .gradTol(GradCheck.Tol.ofMax(5e-5, 1e-4, "float32, cancelling terms of the norm's backward"))
                    .check()));
        }

        // every pointwise function (each parameter value of its cases) through the one generic op
        int seed = 106;
        for (PointwiseCases.Case pc : PointwiseCases.all()) {
            Shape xs = Shape.of(3, 7);
            Random rnd = new Random(seed++);
            Builder b = graph(new Ops.Unary(pc.f(), pc.a()), pc.label()).input("x", xs, pc.inputs().sample(rnd, 21));
            all.add(new OpCase(Ops.Unary.class, pc.label(), () -> b
                    .run(xs, in -> pc.reference(in[0]))
                    .forwardTol(pc.forwardTol())
                    .gradTol(pc.gradTol())
                    .check()));
        }

        {
            Shape xs = Shape.of(3, 7);
            Random rnd = new Random(108);
            Builder b = graph(new Ops.Scale(1.5f), "1.5").input("x", xs, uniform(rnd, xs, -2, 2));
            all.add(new OpCase(Ops.Scale.class, "", () -> b
                    .run(xs, in -> Arrays.stream(in[0]).map(v -> 1.5 * v).toArray())
                    .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                    .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "one float32 rounding; FD roundoff ε·|L|/h ≈ 1e-8"))
                    .check()));
        }

        for (boolean mul : new boolean[]{false, true}) {
            Shape as = Shape.of(2, 3, 4), bs = Shape.of(1, 3, 1);
            Random rnd = new Random(mul ? 109 : 110);
            Builder b = graph(mul ? new Ops.Mul() : new Ops.Add(), "broadcast " + as + " " + bs)
                    .input("a", as, uniform(rnd, as, -1, 1)).input("b", bs, uniform(rnd, bs, -1, 1));
            all.add(new OpCase(mul ? Ops.Mul.class : Ops.Add.class, "broadcast", () -> b
                    .run(as, in -> broadcastBinary(in[0], in[1], as, bs, mul))
                    .forwardTol(GradCheck.Tol.abs(0, 1e-6, "one float32 rounding"))
                    .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "sums of <= 8 values (double accumulation in sumTo)"))
                    .check()));
        }

        {
            Shape xs = Shape.of(2, 3, 4), ys = Shape.of(1, 3, 1);
            Random rnd = new Random(111);
            Builder b = graph(new Ops.SumTo(ys), ys.toString()).input("x", xs, uniform(rnd, xs, -1, 1));
            all.add(new OpCase(Ops.SumTo.class, "", () -> b
                    .run(ys, in -> {
                        double[] y = new double[ys.intSize()];
                        for (int i = 0; i < in[0].length; i++) y[broadcastIndex(i, xs, ys)] += in[0][i];
                        return y;
                    })
                    .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "sums of 8 values (double accumulation)"))
                    .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "a broadcast copy of gy"))
                    .check()));
        }

        {
            Shape xs = Shape.ncdhw(2, 4, 2, 3, 2);
            Random rnd = new Random(112);
            Builder b = graph(new Ops.SoftmaxChannels(), "").input("x", xs, uniform(rnd, xs, -3, 3));
            all.add(new OpCase(Ops.SoftmaxChannels.class, "", () -> b
                    .run(xs, in -> ChannelsGradTest.softmaxChannels(in[0], 2, 4, 12))
                    .forwardTol(GradCheck.Tol.abs(1e-7, 1e-5, "float32 exp and normalisation of values in (0, 1)"))
                    .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "float32 y·(g − Σ y g), cancelling"))
                    .check()));
        }

        {
            Shape as = Shape.ncdhw(2, 1, 2, 2, 3), bs = Shape.ncdhw(2, 3, 2, 2, 3);
            int sp = 12;
            Random rnd = new Random(113);
            Builder b = graph(new Ops.Concat(List.of(1, 3)), "1+3 channels")
                    .input("a", as, uniform(rnd, as, -1, 1)).input("b", bs, uniform(rnd, bs, -1, 1));
            all.add(new OpCase(Ops.Concat.class, "", () -> b
                    .run(Shape.ncdhw(2, 4, 2, 2, 3), in -> {
                        double[] y = new double[2 * 4 * sp];
                        for (int n = 0; n < 2; n++) {
                            System.arraycopy(in[0], n * sp, y, n * 4 * sp, sp);
                            System.arraycopy(in[1], n * 3 * sp, y, (n * 4 + 1) * sp, 3 * sp);
                        }
                        return y;
                    })
                    .forwardTol(GradCheck.Tol.abs(0, 0, "a copy is exact"))
                    .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "a copy of gy; FD roundoff ≈ 1e-8"))
                    .check()));
        }

        {
            int batch = 3, inF = 2, outF = 4;
            Random rnd = new Random(114);
            Builder b = graph(new Ops.Dense(), "2 -> 4 with bias")
                    .input("x", Shape.of(batch, inF), uniform(rnd, batch * inF, -1, 1))
                    .input("w", Shape.of(outF, inF), uniform(rnd, outF * inF, -1, 1))
                    .input("b", Shape.of(outF), uniform(rnd, outF, -1, 1));
            all.add(new OpCase(Ops.Dense.class, "", () -> b
                    .run(Shape.of(batch, outF), x -> {
                        double[] y = new double[batch * outF];
                        for (int r = 0; r < batch; r++)
                            for (int o = 0; o < outF; o++) {
                                double s = x[2][o];
                                for (int i = 0; i < inF; i++) s += x[0][r * inF + i] * x[1][o * inF + i];
                                y[r * outF + o] = s;
                            }
                        return y;
                    })
                    .forwardTol(GradCheck.Tol.abs(1e-6, 1e-5, "float32 inputs, double accumulation of 2 products"))
                    .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "double accumulation of <= 4 products; FD roundoff ≈ 1e-9"))
                    .check()));
        }

        {
            float[] mask = {1, 0, 1, 1};
            Random rnd = new Random(115);
            Builder b = graph(new Ops.MaskedSoftmax(), "mask 1011")
                    .input("logits", Shape.of(4), uniform(rnd, 4, -2, 2)).constant("mask", Shape.of(4), mask);
            all.add(new OpCase(Ops.MaskedSoftmax.class, "", () -> b
                    .run(Shape.of(4), in -> GateGradTest.maskedSoftmax(in[0], in[1]))
                    .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "float32 exp of the max-shifted logits"))
                    .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "float32 y·(g − Σ y g), cancelling"))
                    .check()));
        }

        for (boolean regional : new boolean[]{false, true}) {
            int m = 3;
            Shape xs = Shape.ncdhw(1, 2, 2, 3, 2), rs = Shape.ncdhw(1, 1, 2, 3, 2);
            Random rnd = new Random(regional ? 116 : 117);
            Builder b = graph(new Ops.PairwiseCosine(regional), regional ? "regional" : "global");
            for (int k = 0; k < m; k++) b.input("x" + k, xs, uniform(rnd, xs, 0.05, 1));
            if (regional) b.input("region", rs, uniform(rnd, rs, 0.1, 0.9));
            all.add(new OpCase(Ops.PairwiseCosine.class, regional ? "regional" : "global", () -> b
                    .run(Shape.of(m, m), in -> ConsistencyGradTest.pairwiseCosine(Arrays.copyOf(in, m),
                            regional ? in[m] : null, xs))
                    .forwardTol(GradCheck.Tol.abs(1e-6, 1e-6, "double-accumulated dot products of float32 data"))
                    .gradTol(GradCheck.Tol.ofMax(2e-5, 1e-4, "float32 sums of M² cancelling terms per voxel"))
                    .check()));
        }

        {
            int m = 3;
            Shape xs = Shape.ncdhw(1, 2, 2, 3, 2);
            Random rnd = new Random(118);
            Builder b = graph(new Ops.WeightedSum(), "M=3");
            for (int k = 0; k < m; k++) b.input("x" + k, xs, uniform(rnd, xs, -1, 1));
            b.input("w", Shape.of(m), uniform(rnd, m, 0, 1));
            all.add(new OpCase(Ops.WeightedSum.class, "", () -> b
                    .run(xs, in -> {
                        double[] y = new double[xs.intSize()];
                        for (int k = 0; k < m; k++) for (int i = 0; i < y.length; i++) y[i] += in[m][k] * in[k][i];
                        return y;
                    })
                    .forwardTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "float32 sum of <= 3 products"))
                    .gradTol(GradCheck.Tol.abs(1e-6, 1e-5, "one float32 product per gx element; gw accumulated in double"))
                    .check()));
        }

        // the losses on LossGradTest's shape ([2, 4, 3, 3, 2]) and with its references
        Shape p = Shape.ncdhw(2, 4, 3, 3, 2);
        for (int which = 0; which < 2; which++) {
            boolean dice = which == 1;
            Random rnd = new Random(dice ? 119 : 120);
            float[] onehot = new float[p.intSize()];
            for (int n = 0; n < 2; n++) for (int v = 0; v < 18; v++) onehot[(n * 4 + rnd.nextInt(4)) * 18 + v] = 1f;
            Builder b = graph(dice ? new Ops.SoftDice() : new Ops.WeightedCrossEntropy(), "")
                    .input("p", p, uniform(rnd, p, 0.02, 0.98)).constant("target", p, onehot);
            all.add(new OpCase(dice ? Ops.SoftDice.class : Ops.WeightedCrossEntropy.class, "", () -> b
                    .run(Shape.of(1), in -> new double[]{dice ? LossGradTest.softDice(in[0], in[1])
                            : LossGradTest.weightedCrossEntropy(in[0], in[1])})
                    .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "double accumulation, one float32 rounding"))
                    .gradTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "a few float32 operations per element"))
                    .check()));
        }
        {
            Shape rs = Shape.ncdhw(2, 1, 3, 3, 2);
            Random rnd = new Random(121);
            float[] t = new float[rs.intSize()];
            for (int i = 0; i < t.length; i++) t[i] = rnd.nextBoolean() ? 1f : 0f;
            Builder b = graph(new Ops.BinaryCrossEntropy(), "")
                    .input("p", rs, uniform(rnd, rs, 0.05, 0.95)).constant("target", rs, t);
            all.add(new OpCase(Ops.BinaryCrossEntropy.class, "", () -> b
                    .run(Shape.of(1), in -> new double[]{LossGradTest.binaryCrossEntropy(in[0], in[1])})
                    .forwardTol(GradCheck.Tol.abs(1e-7, 1e-6, "double accumulation, one float32 rounding"))
                    .gradTol(GradCheck.Tol.ofMax(1e-6, 1e-5, "(p − t) / (p(1 − p)) per element"))
                    .check()));
        }

        {
            Shape xs = Shape.of(2, 3, 4), ys = Shape.of(6, 4);
            Random rnd = new Random(122);
            Builder b = graph(new Ops.Reshape(ys), ys.toString()).input("x", xs, uniform(rnd, xs, -1, 1));
            all.add(new OpCase(Ops.Reshape.class, "", () -> b
                    .run(ys, in -> in[0].clone())
                    .forwardTol(GradCheck.Tol.abs(0, 0, "a copy is exact"))
                    .gradTol(GradCheck.Tol.abs(1e-7, 1e-6, "a copy of gy; FD roundoff ≈ 1e-8"))
                    .check()));
        }

        all.add(new OpCase(Ops.StopGradient.class, "blocks exactly its own path", OpRuleGradTest::stopGradient));
        return all;
    }

    /**
     * StopGradient's rule is "no gradient": finite differences of the identity would disagree by design, so it is
     * checked as the runtime must apply it. With L = Σ G1 ⊙ stop(x) + Σ G2 ⊙ x, x's gradient is exactly G2, and the
     * forward is the identity.
     */
    private static void stopGradient() {
        Backend be = GradCheck.backend();
        Shape xs = Shape.of(3, 5);
        Random rnd = new Random(123);
        float[] x = uniform(rnd, xs, -1, 1), g1 = uniform(rnd, xs, -1, 1), g2 = uniform(rnd, xs, -1, 1);
        Parameter p = new Parameter("x", be, xs, x);
        try {
            GraphBuilder b = new GraphBuilder();
            Value xv = b.param(p);
            Value stopped = b.apply(new Ops.StopGradient(), xv);
            Value loss = b.add(b.sum(b.mul(stopped, b.constant("g1", xs, g1))), b.sum(b.mul(xv, b.constant("g2", xs, g2))));
            try (Graph.Run run = b.buildTraining(loss, stopped).run(be, Map.of())) {
                assertArrayEquals(x, be.toHost(run.get(stopped)), "stopGradient's forward is the identity");
                run.backward();
                assertArrayEquals(g2, be.toHost(p.grad()), "only the unstopped path reaches x");
            }
        } finally {
            p.zeroGrad();
            be.release(p.value());
        }
    }

    @TestFactory
    Stream<DynamicTest> everyOpRuleAgreesWithCentralDifferences() {
        return cases().stream().map(c -> DynamicTest.dynamicTest(c.op().getSimpleName() + " " + c.label(), c.check()::run));
    }

    @Test
    void everyPermittedSubclassOfOpHasACase() {
        Class<?>[] permitted = Op.class.getPermittedSubclasses();
        assertTrue(Op.class.isSealed() && permitted != null && permitted.length >= 19,
                "Op must be sealed so its rules can be listed; permitted: " + Arrays.toString(permitted));
        Set<String> missing = new TreeSet<>();
        Set<Class<?>> covered = new java.util.HashSet<>();
        for (OpCase c : cases()) covered.add(c.op());
        for (Class<?> k : permitted) if (!covered.contains(k)) missing.add(k.getSimpleName());
        assertEquals(Set.of(), missing, "ops of the graph runtime whose shipped gradient rule has no case here");
    }
}
