package org.cloe4j.cuda;

import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import java.util.SplittableRandom;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Shared by the GPU tests: the CUDA backend (or a clean skip, without ever loading JCuda), the CPU oracle, paired
 * random tensors, and the llm.c-style comparison |gpu - cpu| <= atol + rtol * |cpu|.
 */
final class GpuTest {
    private static CudaBackend cuda;
    static final CpuBackend CPU = new CpuBackend();

    private GpuTest() {
    }

    /** The CUDA backend; skips the calling test when there is no GPU, driver or fatbin here. */
    static synchronized CudaBackend cudaOrSkip() {
        if (cuda == null) cuda = new CudaBackend();
        assumeTrue(cuda.isAvailable(), () -> "CUDA unavailable: " + cuda.unavailableReason());
        return cuda;
    }

    /**
     * Whether the CUDA tests run on the CUDA simulator (kernels/sim, selected with -Dcloe.cuda.driver=sim or
     * CLOE_CUDA_SIM=1): the same tests, with the few model-sized cases that a CPU cannot finish in CI time skipped.
     */
    static boolean simulated() {
        return org.cloe4j.cuda.ffm.NativeLibraries.simulatorSelected();
    }

    /** The same values on both backends. */
    record Pair(Tensor cpu, Tensor gpu) {
    }

    static Pair rand(CudaBackend g, SplittableRandom r, Shape s, double lo, double hi) {
        float[] v = new float[s.intSize()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (lo + (hi - lo) * r.nextDouble());
        return of(g, s, v);
    }

    static Pair of(CudaBackend g, Shape s, float[] v) {
        return new Pair(Tensor.wrap(s, v.clone()), g.fromHost(s, v));
    }

    /** An output pair with undefined contents. */
    static Pair out(CudaBackend g, Shape s) {
        float[] v = new float[s.intSize()];
        java.util.Arrays.fill(v, Float.NaN);
        return of(g, s, v);
    }

    static Pair oneHot(CudaBackend g, SplittableRandom r, int n, int c, int d, int h, int w) {
        Shape s = Shape.ncdhw(n, c, d, h, w);
        float[] v = new float[s.intSize()];
        int sp = d * h * w;
        for (int b = 0; b < n; b++) for (int i = 0; i < sp; i++) v[(b * c + r.nextInt(c)) * sp + i] = 1f;
        return of(g, s, v);
    }

    /** Probabilities (softmax over channels of random logits). */
    static Pair probs(CudaBackend g, SplittableRandom r, Shape s) {
        Pair logits = rand(g, r, s, -3, 3);
        Tensor p = Tensor.wrap(s, new float[s.intSize()]);
        CPU.softmaxChannels(logits.cpu(), p);
        return of(g, s, p.data());
    }

    static void check(String what, CudaBackend g, Pair p, double atol, double rtol) {
        check(what, p.cpu().data(), g.toHost(p.gpu()), atol, rtol);
    }

    static void check(String what, float[] ref, float[] got, double atol, double rtol) {
        if (ref.length != got.length) fail(what + ": " + got.length + " values, expected " + ref.length);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        double worst = 0;
        for (int i = 0; i < ref.length; i++) {
            double err = Math.abs((double) got[i] - ref[i]);
            double tol = atol + rtol * Math.abs(ref[i]);
            if (!(err <= tol)) {
                if (bad++ < 5) first.append(String.format(" [%d] gpu %.8g cpu %.8g;", i, got[i], ref[i]));
            }
            if (Double.isFinite(err)) worst = Math.max(worst, err - tol);
        }
        if (bad > 0) fail(what + ": " + bad + " of " + ref.length + " values outside atol " + atol + " + rtol " + rtol + ":" + first);
    }

    /**
     * The norm-relative comparison for reduced-precision results: ||got - ref||_2 <= relNorm * ||ref||_2 and every
     * |got - ref| <= relMax * max|ref|.
     */
    static void checkNorm(String what, float[] ref, float[] got, double relNorm, double relMax) {
        if (ref.length != got.length) fail(what + ": " + got.length + " values, expected " + ref.length);
        double diff2 = 0, ref2 = 0, max = 0, worst = 0;
        int at = -1;
        for (int i = 0; i < ref.length; i++) {
            double d = (double) got[i] - ref[i];
            if (!Double.isFinite(d)) fail(what + ": [" + i + "] gpu " + got[i] + " cpu " + ref[i]);
            diff2 += d * d;
            ref2 += (double) ref[i] * ref[i];
            max = Math.max(max, Math.abs(ref[i]));
            if (Math.abs(d) > worst) {
                worst = Math.abs(d);
                at = i;
            }
        }
        double rel = Math.sqrt(diff2) / Math.max(Math.sqrt(ref2), 1e-30);
        if (rel > relNorm) fail(String.format("%s: ||gpu - cpu|| / ||cpu|| = %.3g > %.3g", what, rel, relNorm));
        if (worst > relMax * max + 1e-30) {
            fail(String.format("%s: [%d] gpu %.8g cpu %.8g: |diff| %.3g > %.3g * max|cpu| %.3g", what, at, got[at], ref[at],
                    worst, relMax, max));
        }
    }

    /** Runs {@code body} on a backend sharing {@code g}'s device, stream and allocator, with {@code op} at {@code version}. */
    static void withVersion(CudaBackend g, String op, int version, Consumer<CudaBackend> body) {
        body.accept(g.withOptions(g.options().withVersion(op, version)));
    }
}
