package org.cloe4j.cuda;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.ConvSpec.Padding;
import org.cloe4j.cuda.GpuTest.Pair;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.cloe4j.cuda.GpuTest.CPU;
import static org.cloe4j.cuda.GpuTest.cudaOrSkip;
import static org.cloe4j.cuda.GpuTest.out;
import static org.cloe4j.cuda.GpuTest.rand;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * conv3d forward, backward-data and backward-weight (with the bias gradient) in every variant — our kernels v1, and
 * v2 and v3 in FP32, TF32 and BF16, and cuDNN in FP32 and TF32 — against the CPU backend, and each of our variants against
 * cuDNN FP32 as a second oracle when cuDNN is present. Random odd shapes, stride 1 and 2, kernel 1 and 3, zero and
 * reflect padding (a spatial size of 2 included, where a border voxel is read through two padded positions), and
 * channel counts above one 64-wide tile (v2's tiles) and of exactly 16 (v3's narrow tiles; v3 runs v2's kernels above 16). Skips without a GPU.
 *
 * <p>Tolerances, and why. With K terms per output (Ci * k^3 forward, Co * k^3 backward-data, N * output positions
 * backward-weight):
 * <ul>
 *   <li>FP32 (v1, v2 and v3 fp32, cuDNN FMA math): the same products, summed in float in another order (the CPU keeps
 *   float accumulators in its own order); the error of a float sum of K terms stays below ~sqrt(K) * 6e-8 of the
 *   terms' magnitude, so |gpu - cpu| <= 1e-5 * max|cpu| + 1e-4 * |cpu| element-wise holds with a margin.</li>
 *   <li>TF32: operands rounded to a 10-bit mantissa (relative error up to 2^-11 = 4.9e-4 each, about 7e-4 per
 *   product), FP32 accumulation. Random-signed errors add like the values, so the error relative to the tensor's
 *   norm is ~1e-3: ||gpu - cpu|| / ||cpu|| <= 2e-3, and no element off by more than 1e-2 * max|cpu|.</li>
 *   <li>BF16: an 8-bit mantissa (2^-9 = 2e-3 per operand, ~3e-3 per product), FP32 accumulation: relative-to-norm
 *   error ~5e-3: ||gpu - cpu|| / ||cpu|| <= 1.5e-2, no element off by more than 5e-2 * max|cpu|.</li>
 * </ul>
 * The bias gradient is a plain FP32 reduction in every variant (our sumTo kernel) and always gets the FP32 bound.
 */
class CudaConv3dParityTest {

    /** One problem: input shape, output channels, geometry. */
    record Case(Shape x, int co, ConvSpec spec) {
        @Override
        public String toString() {
            return x + " -> " + co + " " + spec;
        }
    }

    static final List<Case> CASES = List.of(
            new Case(Shape.ncdhw(2, 3, 5, 7, 9), 4, ConvSpec.same3(Padding.REFLECT)),
            new Case(Shape.ncdhw(1, 5, 6, 5, 7), 3, ConvSpec.same3(Padding.ZERO)),
            new Case(Shape.ncdhw(2, 3, 7, 6, 5), 5, ConvSpec.down3(Padding.REFLECT)),
            new Case(Shape.ncdhw(1, 4, 8, 6, 9), 6, ConvSpec.down3(Padding.ZERO)),
            new Case(Shape.ncdhw(2, 6, 5, 4, 3), 7, ConvSpec.pointwise()),
            new Case(Shape.ncdhw(1, 3, 7, 5, 6), 2, new ConvSpec(1, 2, 0, Padding.ZERO)),
            new Case(Shape.ncdhw(1, 2, 2, 3, 4), 3, ConvSpec.same3(Padding.REFLECT)),
            new Case(Shape.ncdhw(1, 2, 3, 2, 5), 3, ConvSpec.down3(Padding.REFLECT)),
            new Case(Shape.ncdhw(1, 20, 6, 7, 5), 70, ConvSpec.same3(Padding.REFLECT)),
            new Case(Shape.ncdhw(1, 16, 6, 5, 7), 16, ConvSpec.same3(Padding.REFLECT)),
            new Case(Shape.ncdhw(1, 67, 9, 8, 7), 5, ConvSpec.down3(Padding.REFLECT)));

    static Stream<ConvVariant> variants() {
        List<ConvVariant> all = new ArrayList<>(ConvVariant.kernels());
        all.addAll(ConvVariant.cudnn());
        return all.stream();
    }

    /** The bound for a variant's precision, see the class comment. */
    static void within(String what, ConvVariant v, float[] ref, float[] got) {
        if (v.reduced()) {
            boolean bf16 = v.precision().equals("bf16");
            GpuTest.checkNorm(what, ref, got, bf16 ? 1.5e-2 : 2e-3, bf16 ? 5e-2 : 1e-2);
        } else {
            double max = 0;
            for (float f : ref) max = Math.max(max, Math.abs(f));
            GpuTest.check(what, ref, got, 1e-5 * max + 1e-7, 1e-4);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void matchesTheCpuBackend(ConvVariant v) {
        CudaBackend g = cudaOrSkip();
        if (v.path().equals("cudnn")) assumeTrue(g.cudnnStatus().startsWith("loaded"), () -> "no cuDNN: " + g.cudnnStatus());
        SplittableRandom r = new SplittableRandom(11);
        for (Case c : CASES) {
            Shape ws = Shape.ncdhw(c.co(), c.x().c(), c.spec().k(), c.spec().k(), c.spec().k());
            Shape ys = c.spec().outputShape(c.x(), ws);
            Pair x = rand(g, r, c.x(), -1, 1), w = rand(g, r, ws, -0.5, 0.5), b = rand(g, r, Shape.of(c.co()), -1, 1);
            Pair y = out(g, ys), gy = rand(g, r, ys, -1, 1), gx = out(g, c.x()), gw = out(g, ws), gb = out(g, Shape.of(c.co()));
            CPU.conv3d(x.cpu(), w.cpu(), b.cpu(), y.cpu(), c.spec());
            CPU.conv3dBackwardData(gy.cpu(), w.cpu(), gx.cpu(), c.spec());
            CPU.conv3dBackwardWeight(x.cpu(), gy.cpu(), gw.cpu(), gb.cpu(), c.spec());
            CudaBackend gv = v.on(g);
            gv.conv3d(x.gpu(), w.gpu(), b.gpu(), y.gpu(), c.spec());
            gv.conv3dBackwardData(gy.gpu(), w.gpu(), gx.gpu(), c.spec());
            gv.conv3dBackwardWeight(x.gpu(), gy.gpu(), gw.gpu(), gb.gpu(), c.spec());
            within(v + " conv3d " + c, v, y.cpu().data(), g.toHost(y.gpu()));
            within(v + " conv3dBackwardData " + c, v, gx.cpu().data(), g.toHost(gx.gpu()));
            within(v + " conv3dBackwardWeight gw " + c, v, gw.cpu().data(), g.toHost(gw.gpu()));
            GpuTest.check(v + " conv3dBackwardWeight gb " + c, gb.cpu().data(), g.toHost(gb.gpu()), 1e-5, 1e-4);
            for (Pair p : List.of(x, w, b, y, gy, gx, gw, gb)) g.release(p.gpu());
        }
    }

    /** The second oracle: each of our variants against cuDNN FP32 on the GPU (same inputs, both on the device). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("org.cloe4j.cuda.ConvVariant#kernels")
    void matchesCudnn(ConvVariant v) {
        CudaBackend g = cudaOrSkip();
        assumeTrue(g.cudnnStatus().startsWith("loaded"), () -> "no cuDNN: " + g.cudnnStatus());
        ConvVariant ref = new ConvVariant("cudnn", 0, "fp32");
        SplittableRandom r = new SplittableRandom(13);
        for (Case c : CASES) {
            Shape ws = Shape.ncdhw(c.co(), c.x().c(), c.spec().k(), c.spec().k(), c.spec().k());
            Shape ys = c.spec().outputShape(c.x(), ws);
            Tensor x = rand(g, r, c.x(), -1, 1).gpu(), w = rand(g, r, ws, -0.5, 0.5).gpu(), gy = rand(g, r, ys, -1, 1).gpu();
            float[][] want = passes(ref.on(g), x, w, gy, c);
            float[][] got = passes(v.on(g), x, w, gy, c);
            String[] names = {"conv3d", "conv3dBackwardData", "conv3dBackwardWeight"};
            for (int i = 0; i < 3; i++) within(v + " vs cuDNN " + names[i] + " " + c, v, want[i], got[i]);
            for (Tensor t : List.of(x, w, gy)) g.release(t);
        }
    }

    private static float[][] passes(CudaBackend g, Tensor x, Tensor w, Tensor gy, Case c) {
        Tensor y = g.allocate(gy.shape()), gx = g.allocate(x.shape()), gw = g.allocate(w.shape());
        try {
            g.conv3d(x, w, null, y, c.spec());
            g.conv3dBackwardData(gy, w, gx, c.spec());
            g.conv3dBackwardWeight(x, gy, gw, null, c.spec());
            return new float[][]{g.toHost(y), g.toHost(gx), g.toHost(gw)};
        } finally {
            g.release(y);
            g.release(gx);
            g.release(gw);
        }
    }
}
