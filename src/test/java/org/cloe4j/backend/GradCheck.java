package org.cloe4j.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/*
 * The one gradient checker every op test calls (micrograd / tinygrad style, tolerances as in llm.c).
 *
 * An op case is given twice:
 *   (a) the backend's float32 forward and backward, called through the Backend SPI;
 *   (b) a DOUBLE-precision reference forward written in the test with plain loops.
 * The checker feeds both the same seeded inputs (float values, exact in double) and checks
 *   1. forward: backend output ≈ reference output;
 *   2. backward: for every differentiable input X, the backend's gradient of L = <G, f(X)> (G a random upstream
 *      gradient handed to the backend as gy) ≈ the central difference (L(X + h e_i) − L(X − h e_i)) / 2h of the
 *      double reference, with h = 1e-6 · max(1, |x_i|);
 *   3. the op wrote every element of its outputs (they start as NaN) and did not modify its inputs.
 * Each comparison passes when |backend − ref| <= atol + rtol·|ref| for every element (gradients: plus the rounding
 * noise of the central difference itself, ≈ 4ε·Σ|G·f| / 2h); a failure names the case, the
 * tensor, the worst element (multi-index, both values, the allowed error), how many elements failed, and why that
 * tolerance was chosen.
 */
final class GradCheck {
    private GradCheck() {
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the backend under test

    /** The backend the op tests run on: {@code -Dcloe.test.backend=NAME}, default {@code cpu}. */
    static Backend backend() {
        return Backends.named(System.getProperty("cloe.test.backend", "cpu"));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // tolerance

    /**
     * The floor every comparison gets on one backend, on top of each case's own {@link Tol} (which is written for the
     * CPU backend: double accumulators, so near-zero references are compared with a tiny atol).
     * <ul>
     *   <li>{@code cpu}: none; the cases' tolerances as stated.</li>
     *   <li>any other backend ({@code cuda}): float32 block/tree reductions and FMA contraction, so a sum of n terms
     *       carries about log2(n)·2^-24 of the summed magnitude; with n up to 2^17 that is ~1e-6 of max|ref| where the
     *       terms cancel (a near-zero reference). Floor: atol 1e-5·max|ref| and rtol 1e-5 (a tenfold margin), still
     *       far below a real bug (a wrong index, sign or scale moves values by O(max|ref|)).</li>
     * </ul>
     */
    record BackendTol(String backend, double atolOfMax, double rtol, String why) {
        static BackendTol of(String backend) {
            return backend.equals("cpu")
                    ? new BackendTol(backend, 0, 0, "")
                    : new BackendTol(backend, 1e-5, 1e-5, "float32 reductions: floor atol 1e-5·max|ref|, rtol 1e-5 on " + backend);
        }

        double atol(double stated, double refMax) {
            return Math.max(stated, atolOfMax * refMax);
        }

        double rtol(double stated) {
            return Math.max(stated, rtol);
        }

        @Override
        public String toString() {
            return why.isEmpty() ? "" : " [" + why + "]";
        }
    }

    /** The floor of the backend under test. */
    static BackendTol backendTol() {
        return BackendTol.of(System.getProperty("cloe.test.backend", "cpu"));
    }

    /**
     * Per-element tolerance atol + rtol·|ref|. With {@code scaled}, atol is a fraction of the largest |ref| of the
     * tensor (float32 sums lose absolute, not relative, accuracy when terms cancel).
     */
    record Tol(double atol, double rtol, boolean scaled, String why) {
        static Tol abs(double atol, double rtol, String why) {
            return new Tol(atol, rtol, false, why);
        }

        static Tol ofMax(double atolFractionOfMax, double rtol, String why) {
            return new Tol(atolFractionOfMax, rtol, true, why);
        }

        double atolFor(double[] ref) {
            if (!scaled) return atol;
            double max = 0;
            for (double r : ref) max = Math.max(max, Math.abs(r));
            return atol * max;
        }

        @Override
        public String toString() {
            return "atol " + (scaled ? atol + "·max|ref|" : String.valueOf(atol)) + ", rtol " + rtol + " (" + why + ")";
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the op under test

    /** The double reference forward: inputs in declaration order (flat, row-major), the output flat. */
    @FunctionalInterface
    interface Reference {
        double[] apply(double[][] in);
    }

    /** The backend forward: writes {@code y} from the inputs (declaration order). */
    @FunctionalInterface
    interface Forward {
        void run(Backend be, Tensor[] in, Tensor y);
    }

    /**
     * The backend backward: writes {@code g[i]} (null for a constant input) from the inputs, the forward output y
     * and the upstream gradient gy.
     */
    @FunctionalInterface
    interface Backward {
        void run(Backend be, Tensor[] in, Tensor y, Tensor gy, Tensor[] g);
    }

    static Case op(String name) {
        return new Case(name);
    }

    private record Input(String name, Shape shape, float[] values, boolean differentiable, Tol tol) {
    }

    /** One op case: inputs, output shape, reference, backend forward and backward, tolerances. */
    static final class Case {
        private final String name;
        private final List<Input> inputs = new ArrayList<>();
        private Shape out;
        private Reference reference;
        private Forward forward;
        private Backward backward;
        private Tol forwardTol;
        private Tol gradTol;
        private long seed = 1;
        private String allZeroGradientReason;
        private int sampled;
        private boolean splitBorders;

        private Case(String name) {
            this.name = name;
        }

        /** A differentiable input; its gradient is checked. */
        Case input(String n, Shape shape, float[] values) {
            return add(n, shape, values, true, null);
        }

        /** A differentiable input with its own gradient tolerance. */
        Case input(String n, Shape shape, float[] values, Tol tol) {
            return add(n, shape, values, true, tol);
        }

        /** An input held constant (targets, masks, an all-zero map where the op is not differentiable). */
        Case constant(String n, Shape shape, float[] values) {
            return add(n, shape, values, false, null);
        }

        private Case add(String n, Shape shape, float[] values, boolean diff, Tol tol) {
            if (values.length != shape.size()) {
                throw new IllegalArgumentException(name + ": input " + n + " has " + values.length + " values for " + shape);
            }
            inputs.add(new Input(n, shape, values.clone(), diff, tol));
            return this;
        }

        Case output(Shape shape) {
            this.out = shape;
            return this;
        }

        Case reference(Reference r) {
            this.reference = r;
            return this;
        }

        Case forward(Forward f) {
            this.forward = f;
            return this;
        }

        Case backward(Backward b) {
            this.backward = b;
            return this;
        }

        Case forwardTol(Tol t) {
            this.forwardTol = t;
            return this;
        }

        Case gradTol(Tol t) {
            this.gradTol = t;
            return this;
        }

        /** Seed of the upstream gradient G. */
        Case seed(long s) {
            this.seed = s;
            return this;
        }

        /**
         * For large inputs: central differences on {@code k} random elements (plus the first and the last, and with
         * {@code atSplitBorders} those at the borders of an element range halved over up to 8 threads) of each
         * differentiable input instead of all, and two directional derivatives over the whole input.
         */
        Case sampleElements(int k, boolean atSplitBorders) {
            this.sampled = k;
            this.splitBorders = atSplitBorders;
            return this;
        }

        /** Accepts an all-zero reference gradient (normally a sign that the case checks nothing). */
        Case allowAllZeroGradient(String reason) {
            this.allZeroGradientReason = reason;
            return this;
        }

        /** Runs forward and backward on the backend and compares both with the double reference. */
        void check() {
            if (out == null || reference == null || forward == null || forwardTol == null) {
                throw new IllegalStateException(name + ": output, reference, forward and forwardTol are required");
            }
            boolean anyGrad = inputs.stream().anyMatch(Input::differentiable);
            if (anyGrad && (backward == null || gradTol == null)) {
                throw new IllegalStateException(name + ": differentiable inputs need backward and gradTol");
            }
            Backend be = backend();
            List<Tensor> owned = new ArrayList<>();
            try {
                Tensor[] in = new Tensor[inputs.size()];
                double[][] din = new double[inputs.size()][];
                for (int i = 0; i < in.length; i++) {
                    Input x = inputs.get(i);
                    in[i] = be.fromHost(x.shape, x.values);
                    owned.add(in[i]);
                    din[i] = toDouble(x.values);
                }

                // 1. forward
                Tensor y = be.allocate(out);
                owned.add(y);
                be.fill(y, Float.NaN);
                forward.run(be, in, y);
                float[] yb = be.toHost(y);
                double[] yr = reference.apply(din);
                if (yr.length != out.size()) {
                    throw new IllegalStateException(name + ": reference returned " + yr.length + " values for output " + out);
                }
                compare("forward output", out, yb, yr, forwardTol, 0, null);

                if (anyGrad) {
                    // 2. backward against central differences of L = <G, f(X)>
                    Random rnd = new Random(seed * 7919 + 17);
                    float[] gv = uniform(rnd, out.intSize(), -1, 1);
                    double[] dg = toDouble(gv);
                    Tensor gy = be.fromHost(out, gv);
                    owned.add(gy);
                    Tensor[] g = new Tensor[in.length];
                    for (int i = 0; i < in.length; i++) {
                        if (!inputs.get(i).differentiable) continue;
                        g[i] = be.allocate(inputs.get(i).shape);
                        owned.add(g[i]);
                        be.fill(g[i], Float.NaN);
                    }
                    backward.run(be, in, y, gy, g);
                    double noise = finiteDifferenceNoise(dg, yr);
                    for (int i = 0; i < in.length; i++) {
                        Input x = inputs.get(i);
                        if (!x.differentiable) continue;
                        Tol tol = x.tol != null ? x.tol : gradTol;
                        float[] got = be.toHost(g[i]);
                        int[] at = sampled == 0 ? null : sampleIndices(got.length, new Random(seed * 31 + i));
                        double[] num = numericalGradient(din, i, dg, at);
                        if (allZeroGradientReason == null && Arrays.stream(num).allMatch(v -> v == 0)) {
                            throw new AssertionError(name + ": the reference gradient of " + x.name
                                    + " is zero everywhere, so the check would prove nothing; change the inputs");
                        }
                        if (at == null) {
                            compare("gradient of " + x.name, x.shape, got, num, tol, noise, null);
                        } else {
                            float[] sub = new float[at.length];
                            for (int j = 0; j < at.length; j++) sub[j] = got[at[j]];
                            compare("gradient of " + x.name + " (" + at.length + " sampled elements)", x.shape, sub,
                                    num, tol, noise, at);
                            checkDirections(x, din, i, dg, got, tol, noise, maxAbs(num), new Random(seed * 37 + i));
                        }
                    }
                }

                // 3. inputs untouched
                for (int i = 0; i < in.length; i++) {
                    float[] after = be.toHost(in[i]);
                    for (int j = 0; j < after.length; j++) {
                        if (Float.floatToRawIntBits(after[j]) != Float.floatToRawIntBits(inputs.get(i).values[j])) {
                            throw new AssertionError(name + ": the op modified its input " + inputs.get(i).name + " at "
                                    + index(inputs.get(i).shape, j) + ": was " + inputs.get(i).values[j] + ", now " + after[j]);
                        }
                    }
                }
            } finally {
                for (Tensor t : owned) be.release(t);
            }
        }

        /**
         * The first and last element, with {@code splitBorders} the elements on both sides of every eighth of the
         * range (where a range halved over threads has its borders), and {@code sampled} random others; distinct,
         * in increasing order.
         */
        private int[] sampleIndices(int n, Random rnd) {
            java.util.TreeSet<Integer> set = new java.util.TreeSet<>(List.of(0, n - 1));
            for (int k = 1; splitBorders && k < 8; k++) {
                set.add((int) ((long) n * k / 8));
                set.add((int) ((long) n * k / 8) - 1);
            }
            set.removeIf(i -> i < 0 || i >= n);
            int target = Math.min(n, set.size() + sampled);
            while (set.size() < target) set.add(rnd.nextInt(n));
            return set.stream().mapToInt(Integer::intValue).toArray();
        }

        /**
         * Directional derivatives along random ±1 vectors V: (L(X + hV) − L(X − hV)) / 2h must equal Σ g_i V_i up to
         * the sum of the per-element tolerances along V. Catches wrong blocks of a large gradient between samples.
         */
        private void checkDirections(Input x, double[][] din, int which, double[] g, float[] got, Tol tol, double noise,
                                     double refMax, Random rnd) {
            double[] xv = din[which];
            double[] orig = xv.clone();
            double xmax = 0;
            for (double v : orig) xmax = Math.max(xmax, Math.abs(v));
            double h = 1e-6 * Math.max(1, xmax);
            BackendTol floor = backendTol();
            double atol = floor.atol(tol.scaled() ? tol.atol() * refMax : tol.atol(), refMax), rtol = floor.rtol(tol.rtol());
            for (int dir = 0; dir < 2; dir++) {
                double[] v = new double[xv.length];
                for (int j = 0; j < v.length; j++) v[j] = rnd.nextBoolean() ? 1 : -1;
                for (int j = 0; j < v.length; j++) xv[j] = orig[j] + h * v[j];
                double plus = dot(g, reference.apply(din));
                for (int j = 0; j < v.length; j++) xv[j] = orig[j] - h * v[j];
                double minus = dot(g, reference.apply(din));
                System.arraycopy(orig, 0, xv, 0, orig.length);
                double fd = (plus - minus) / (2 * h);
                double backend = 0;
                double allowed = noise;
                for (int j = 0; j < v.length; j++) {
                    backend += got[j] * v[j];
                    allowed += atol + rtol * Math.abs(got[j]);
                }
                if (!(Math.abs(backend - fd) <= allowed)) {
                    throw new AssertionError(String.format("%s: gradient of %s along random direction %d: backend "
                                    + "Σ g·v = %.9g, central difference of the double reference %.9g, |diff| %.3g > "
                                    + "allowed %.3g (the per-element tolerances summed along v); tolerance %s",
                            name, x.name, dir, backend, fd, Math.abs(backend - fd), allowed, tol + floor.toString()));
                }
            }
        }

        private double[] numericalGradient(double[][] din, int which, double[] g, int[] at) {
            double[] x = din[which];
            double[] grad = new double[at == null ? x.length : at.length];
            for (int q = 0; q < grad.length; q++) {
                int j = at == null ? q : at[q];
                double orig = x[j];
                double h = 1e-6 * Math.max(1.0, Math.abs(orig));
                x[j] = orig + h;
                double plus = dot(g, reference.apply(din));
                x[j] = orig - h;
                double minus = dot(g, reference.apply(din));
                x[j] = orig;
                grad[q] = (plus - minus) / (2 * h);
            }
            return grad;
        }

        /**
         * The error of the central difference itself: each of L(x ± h) is rounded to about ε·Σ|G·f|, and the
         * difference is divided by 2h (h >= 1e-6). Added to atol so that a zero gradient is not compared with noise.
         */
        private static double finiteDifferenceNoise(double[] g, double[] f) {
            double mass = 0;
            for (int i = 0; i < g.length; i++) mass += Math.abs(g[i] * f[i]);
            return 4 * Math.ulp(1.0) * Math.max(mass, Double.MIN_NORMAL) / 2e-6;
        }

        /** Element i of got/ref is element at[i] of the tensor (at null: the identity). */
        private void compare(String what, Shape shape, float[] got, double[] ref, Tol tol, double noise, int[] at) {
            BackendTol floor = backendTol();
            double atol = floor.atol(tol.atolFor(ref), maxAbs(ref)) + noise, rtol = floor.rtol(tol.rtol);
            int worst = -1;
            double worstExcess = Double.NEGATIVE_INFINITY;
            int bad = 0;
            for (int i = 0; i < ref.length; i++) {
                double allowed = atol + rtol * Math.abs(ref[i]);
                double diff = Math.abs(got[i] - ref[i]);
                // NaN or infinity on either side fails (every comparison with NaN is false)
                if (diff <= allowed && Double.isFinite(ref[i])) continue;
                bad++;
                double excess = Double.isNaN(diff) || !Double.isFinite(ref[i]) ? Double.POSITIVE_INFINITY : diff - allowed;
                if (worst < 0 || excess > worstExcess) {
                    worst = i;
                    worstExcess = excess;
                }
            }
            if (bad > 0) {
                double allowed = atol + rtol * Math.abs(ref[worst]);
                throw new AssertionError(String.format(
                        "%s: %s differs from the double reference in %d of %d elements; worst at %s: backend %.9g, "
                                + "reference %.9g, |diff| %.3g > allowed %.3g; tolerance %s%s",
                        name, what, bad, ref.length, index(shape, at == null ? worst : at[worst]), got[worst], ref[worst],
                        Math.abs(got[worst] - ref[worst]), allowed, tol + floor.toString(),
                        noise > 0 ? String.format(" + finite-difference noise %.2g", noise) : ""));
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // helpers for references and inputs

    static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) m = Math.max(m, Math.abs(v));
        return m;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    static double[] toDouble(float[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    /** The multi-index of flat position {@code i} in {@code shape}, e.g. [1, 0, 2, 3, 1]. */
    static String index(Shape shape, int i) {
        int[] d = shape.dims();
        int[] idx = new int[d.length];
        for (int k = d.length - 1; k >= 0; k--) {
            idx[k] = i % d[k];
            i /= d[k];
        }
        return Arrays.toString(idx);
    }

    /** n values uniform in [lo, hi). */
    static float[] uniform(Random rnd, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        return v;
    }

    /** n values uniform in ±[gap, hi): never within {@code gap} of 0 (kinks of ReLU-like ops). */
    static float[] awayFromZero(Random rnd, int n, double gap, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double m = gap + (hi - gap) * rnd.nextDouble();
            v[i] = (float) (rnd.nextBoolean() ? m : -m);
        }
        return v;
    }

    static float[] uniform(Random rnd, Shape s, double lo, double hi) {
        return uniform(rnd, s.intSize(), lo, hi);
    }
}
