package org.cloe4j.backend;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The test side of every {@link Pointwise} function: a double-precision reference written here (never the code under
 * test), the inputs it is checked on, and its tolerances with their reasons. The gradient checks
 * ({@code ElementwiseGradTest}, {@code LargeShapeGradTest}), the graph-rule check ({@code OpRuleGradTest}) and the
 * CUDA parity test ({@code CudaKernelParityTest}) iterate over {@link #all()}; {@link #cases} switches over the enum
 * without a default, so a new constant without cases here does not compile.
 */
public final class PointwiseCases {
    private PointwiseCases() {
    }

    /** n input values on which the function is checked (e.g. away from a kink, so x ± h never crosses it). */
    @FunctionalInterface
    public interface Inputs {
        float[] sample(Random rnd, int n);
    }

    /** f(x; a) in double. */
    @FunctionalInterface
    public interface Reference {
        double apply(double x, double a);
    }

    /** How the CUDA kernel may differ from the CPU (the tolerance classes of {@code CudaKernelParityTest}). */
    public enum Parity {
        /** The same float operations in the same order: equal up to FMA contraction. */
        EXACT,
        /** expf/logf on the GPU (within 2 ulp) against the CPU's Math.exp in double. */
        TRANSCENDENTAL
    }

    /**
     * One function with one parameter value: its inputs, reference, forward and gradient tolerances against the
     * double reference (abs atol + rtol·|ref|, with the reason), and its CUDA parity class.
     */
    public record Case(Pointwise f, float a, Inputs inputs, Reference reference,
                       double forwardAtol, double forwardRtol, String forwardWhy,
                       double gradAtol, double gradRtol, String gradWhy, Parity parity) {

        public String label() {
            return f.opName() + (f.hasParameter() ? " a=" + a : "");
        }

        /** The reference applied to every element. */
        public double[] reference(double[] x) {
            return Arrays.stream(x).map(v -> reference.apply(v, a)).toArray();
        }

        GradCheck.Tol forwardTol() {
            return GradCheck.Tol.abs(forwardAtol, forwardRtol, forwardWhy);
        }

        GradCheck.Tol gradTol() {
            return GradCheck.Tol.abs(gradAtol, gradRtol, gradWhy);
        }

        @Override
        public String toString() {
            return label();
        }
    }

    /** The cases of one function: at least one, each parameter value that behaves differently once. */
    public static List<Case> cases(Pointwise f) {
        return switch (f) {
            case LEAKY_RELU -> {
                // no input within 1e-3 of 0, so x ± h never crosses the kink; slope 0 is ReLU
                Inputs away = (rnd, n) -> GradCheck.awayFromZero(rnd, n, 1e-3, 3);
                yield List.of(0.2f, 0f).stream().map(slope -> new Case(f, slope, away, (x, a) -> x > 0 ? x : a * x,
                        0, 1e-6, "one float32 rounding",
                        1e-7, 1e-6, "one float32 rounding; FD roundoff ε·|L|/h ≈ 1e-8", Parity.EXACT)).toList();
            }
            case SIGMOID -> List.of(new Case(f, 0f, (rnd, n) -> GradCheck.uniform(rnd, n, -6, 6),
                    (x, a) -> 1 / (1 + Math.exp(-x)),
                    1e-7, 1e-6, "float32 rounding of values in (0, 1)",
                    // y·(1 − y) from a float32 y: 1 − y loses relative accuracy as y → 1 (≈ 6e-8 / (1 − y))
                    1e-7, 2e-5, "float32 y·(1 − y), y up to 0.9975", Parity.TRANSCENDENTAL));
            // both saturations (x·σ(x) → 0 and → x) and the dip at x ≈ −1.28, where the derivative crosses 0
            case SILU -> List.of(new Case(f, 0f, (rnd, n) -> GradCheck.uniform(rnd, n, -8, 8),
                    (x, a) -> x / (1 + Math.exp(-x)),
                    1e-7, 1e-6, "one float32 rounding of a double result, |y| < 8",
                    1e-7, 1e-6, "one float32 rounding of a double derivative; FD roundoff ε·|L|/h ≈ 1e-8",
                    Parity.TRANSCENDENTAL));
        };
    }

    /** Every case of every function, in the enum's order. */
    public static List<Case> all() {
        return Arrays.stream(Pointwise.values()).flatMap(f -> cases(f).stream()).toList();
    }

    /** A gradient check of {@code c} on {@code be} through the backend's pointwise ops. */
    static GradCheck.Case check(Case c, org.cloe4j.tensor.Shape shape, float[] x) {
        Pointwise f = c.f();
        float a = c.a();
        return GradCheck.op(c.label())
                .input("x", shape, x)
                .output(shape)
                .reference(in -> c.reference(in[0]))
                .forward((be, in, y) -> be.pointwise(f, a, in[0], y))
                // only what f's derivative reads: the other is null, as the graph runtime passes it
                .backward((be, in, y, gy, g) -> be.pointwiseBackward(f, a, f.readsInput() ? in[0] : null,
                        f.readsOutput() ? y : null, gy, g[0]))
                .forwardTol(c.forwardTol())
                .gradTol(c.gradTol());
    }
}
