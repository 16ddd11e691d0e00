package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.cloe4j.backend.ConvSpec.Padding;
import org.cloe4j.tensor.Shape;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** conv3d forward and both backward ops against a naive double convolution, for every geometry CLoE uses. */
class Conv3dGradTest {

    /**
     * The naive reference: pad the input explicitly (zeros, or PyTorch's reflect: index −i before the start and
     * 2(n−1)−i past the end), then a valid strided correlation y[o] = b[o] + Σ_c,k w[o,c,k] · xpad[c, s·z + k].
     */
    static double[] conv3d(double[] x, double[] w, double[] bias, int n, int ci, int d, int h, int wd, int co,
                           ConvSpec spec) {
        int k = spec.k();
        int p = spec.pad();
        int pd = d + 2 * p, ph = h + 2 * p, pw = wd + 2 * p;
        double[] xp = new double[n * ci * pd * ph * pw];
        for (int b = 0; b < n; b++)
            for (int c = 0; c < ci; c++)
                for (int z = 0; z < pd; z++)
                    for (int y = 0; y < ph; y++)
                        for (int xx = 0; xx < pw; xx++) {
                            int sz = source(z - p, d, spec.padding());
                            int sy = source(y - p, h, spec.padding());
                            int sx = source(xx - p, wd, spec.padding());
                            double v = sz < 0 || sy < 0 || sx < 0 ? 0.0
                                    : x[(((b * ci + c) * d + sz) * h + sy) * wd + sx];
                            xp[(((b * ci + c) * pd + z) * ph + y) * pw + xx] = v;
                        }
        int od = (pd - k) / spec.stride() + 1, oh = (ph - k) / spec.stride() + 1, ow = (pw - k) / spec.stride() + 1;
        int s = spec.stride();
        double[] out = new double[n * co * od * oh * ow];
        for (int b = 0; b < n; b++)
            for (int o = 0; o < co; o++)
                for (int z = 0; z < od; z++)
                    for (int y = 0; y < oh; y++)
                        for (int xx = 0; xx < ow; xx++) {
                            double acc = bias == null ? 0.0 : bias[o];
                            for (int c = 0; c < ci; c++)
                                for (int kz = 0; kz < k; kz++)
                                    for (int ky = 0; ky < k; ky++)
                                        for (int kx = 0; kx < k; kx++)
                                            acc += w[(((o * ci + c) * k + kz) * k + ky) * k + kx]
                                                    * xp[(((b * ci + c) * pd + s * z + kz) * ph + s * y + ky) * pw + s * xx + kx];
                            out[(((b * co + o) * od + z) * oh + y) * ow + xx] = acc;
                        }
        return out;
    }

    /** Where padded index i (may be −1 or n) reads from; −1 for a zero. */
    private static int source(int i, int n, Padding padding) {
        if (i >= 0 && i < n) return i;
        if (padding == Padding.ZERO) return -1;
        return i < 0 ? -i : 2 * (n - 1) - i;
    }

    static Stream<Arguments> geometries() {
        List<Arguments> all = new ArrayList<>();
        for (int k : new int[]{1, 3})
            for (int stride : new int[]{1, 2})
                for (Padding padding : Padding.values())
                    for (boolean bias : new boolean[]{true, false}) {
                        if (k == 1 && padding == Padding.REFLECT) continue; // k 1 has no padding
                        all.add(Arguments.of(k, stride, padding, bias));
                    }
        return all.stream();
    }

    @ParameterizedTest(name = "k{0} stride{1} {2} bias={3}")
    @MethodSource("geometries")
    @GradCheckCase("conv3d")
    void conv3dMatchesNaiveConvolutionAndFiniteDifferences(int k, int stride, Padding padding, boolean withBias) {
        ConvSpec spec = new ConvSpec(k, stride, k == 3 ? 1 : 0, padding);
        int n = 2, ci = 2, d = 3, h = 5, wd = 4, co = 3;
        Shape xs = Shape.ncdhw(n, ci, d, h, wd);
        Shape ws = Shape.ncdhw(co, ci, k, k, k);
        Shape ys = spec.outputShape(xs, ws);
        Random rnd = new Random(31L * k + 7L * stride + padding.ordinal() + (withBias ? 100 : 0));
        GradCheck.Case c = GradCheck.op("conv3d " + spec + (withBias ? " with bias" : " without bias"))
                .input("x", xs, uniform(rnd, xs, -1, 1))
                .input("w", ws, uniform(rnd, ws, -0.5, 0.5));
        if (withBias) c.input("bias", Shape.of(co), uniform(rnd, co, -1, 1));
        c.output(ys)
                .reference(in -> conv3d(in[0], in[1], withBias ? in[2] : null, n, ci, d, h, wd, co, spec))
                .forward((be, in, y) -> be.conv3d(in[0], in[1], withBias ? in[2] : null, y, spec))
                .backward((be, in, y, gy, g) -> {
                    be.conv3dBackwardData(gy, in[1], g[0], spec);
                    be.conv3dBackwardWeight(in[0], gy, g[1], withBias ? g[2] : null, spec);
                })
                // sums of at most 2·27 = 54 float products of O(1) terms: float32 rounding ~1e-6 of the largest term
                .forwardTol(GradCheck.Tol.ofMax(1e-5, 1e-5, "float32 sums of <= 54 products, some cancelling"))
                // gradients are sums of up to n·od·oh·ow·27 products; cancellation makes small entries absolute-limited
                .gradTol(GradCheck.Tol.ofMax(2e-5, 1e-4, "float32 sums of up to a few hundred products vs exact double"))
                .seed(k * 10 + stride)
                .check();
    }
}
