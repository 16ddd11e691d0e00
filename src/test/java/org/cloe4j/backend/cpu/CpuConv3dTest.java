package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ConvSpec.Padding;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * CpuConv3d against a naive double-precision reference (six nested loops straight from the definition of
 * nn.Conv3d with padding_mode 'zeros' / 'reflect'), on small odd shapes that exercise every branch of the
 * vector kernels: k 1/3, stride 1/2, both paddings, odd and even sizes, channel counts that are not multiples of the
 * 8-channel block, widths below and above the vector length, batch 2.
 */
class CpuConv3dTest {

    /** One configuration: batch, channels, sizes, kernel, stride, padding. */
    record Case(int n, int ci, int co, int d, int h, int w, int k, int s, Padding padding) {
        int pad() {
            return k == 3 ? 1 : 0;
        }

        /**
         * The data's seed: from the case's text, not {@code hashCode()}, which mixes in the padding enum's identity
         * hash and so drew different data in every JVM.
         */
        long seed() {
            return toString().hashCode();
        }

        int dO() {
            return CpuConv3d.outSize(d, k, s, pad());
        }

        int hO() {
            return CpuConv3d.outSize(h, k, s, pad());
        }

        int wO() {
            return CpuConv3d.outSize(w, k, s, pad());
        }

        int xLen() {
            return n * ci * d * h * w;
        }

        int yLen() {
            return n * co * dO() * hO() * wO();
        }

        int wLen() {
            return co * ci * k * k * k;
        }

        @Override
        public String toString() {
            return "n" + n + " " + ci + "->" + co + " " + d + "x" + h + "x" + w + " k" + k + " s" + s + " " + padding;
        }
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int[][] sizes = {{5, 6, 7}, {3, 4, 9}};
        int[][] channels = {{3, 5}, {1, 4}};
        for (int k : new int[]{1, 3})
            for (int s : new int[]{1, 2})
                for (Padding p : Padding.values())
                    for (int[] sz : sizes)
                        for (int[] ch : channels)
                            out.add(Arguments.of(new Case(2, ch[0], ch[1], sz[0], sz[1], sz[2], k, s, p)));
        // Wider rows (several vectors plus a tail) and channels spanning more than one block of 8 and one chunk.
        for (int s : new int[]{1, 2})
            for (Padding p : Padding.values())
                out.add(Arguments.of(new Case(1, 10, 17, 4, 5, 37, 3, s, p)));
        out.add(Arguments.of(new Case(1, 16, 16, 6, 6, 16, 3, 1, Padding.REFLECT)));
        // Many channels: several source-channel chunks and output blocks, as in the 128->64 bottleneck convs.
        for (int s : new int[]{1, 2})
            out.add(Arguments.of(new Case(1, 33, 20, 3, 4, 6, 3, s, Padding.REFLECT)));
        out.add(Arguments.of(new Case(2, 33, 20, 3, 4, 6, 1, 1, Padding.ZERO)));
        // 1- and 4-channel sides with rows of two vectors and more: the few-channel kernels (several rows at once).
        for (int s : new int[]{1, 2}) {
            out.add(Arguments.of(new Case(1, 1, 4, 4, 7, 35, 3, s, Padding.REFLECT)));
            out.add(Arguments.of(new Case(1, 4, 1, 4, 9, 34, 3, s, Padding.ZERO)));
        }
        out.add(Arguments.of(new Case(1, 4, 12, 3, 6, 40, 1, 1, Padding.ZERO)));
        // Rows of one vector (9..16 columns) with full channel blocks, odd row counts included.
        out.add(Arguments.of(new Case(1, 12, 9, 4, 7, 14, 3, 1, Padding.REFLECT)));
        out.add(Arguments.of(new Case(1, 9, 12, 5, 6, 13, 3, 1, Padding.ZERO)));
        // Stride-1 3³ with whole blocks of 8 outputs and rows narrower than their vector-rounded width (28 of 32, 10
        // and 12 of 16): the flat layout, whose vectors run on across row ends; more rows than its row tile (16).
        out.add(Arguments.of(new Case(1, 3, 16, 3, 19, 28, 3, 1, Padding.REFLECT)));
        out.add(Arguments.of(new Case(1, 5, 8, 4, 9, 10, 3, 1, Padding.ZERO)));
        out.add(Arguments.of(new Case(2, 8, 8, 3, 18, 12, 3, 1, Padding.REFLECT)));
        return out.stream();
    }

    // -----------------------------------------------------------------------------------------------------------
    // reference

    /** Source index along an axis for padded position i - pad, or -1 for a zero read. */
    private static int src(int i, int n, Padding p) {
        if (i >= 0 && i < n) return i;
        if (p == Padding.ZERO) return -1;
        return i < 0 ? -i : 2 * n - 2 - i;
    }

    /** Calls body(b, o, i, od, oh, ow, kd, kh, kw, xIndex, yIndex, wIndex) for every term of the convolution sum. */
    interface Term {
        void at(int xi, int yi, int wi, int o);
    }

    private static void forEachTerm(Case c, Term t) {
        int pad = c.pad();
        for (int b = 0; b < c.n; b++)
            for (int o = 0; o < c.co; o++)
                for (int od = 0; od < c.dO(); od++)
                    for (int oh = 0; oh < c.hO(); oh++)
                        for (int ow = 0; ow < c.wO(); ow++) {
                            int yi = (((b * c.co + o) * c.dO() + od) * c.hO() + oh) * c.wO() + ow;
                            for (int i = 0; i < c.ci; i++)
                                for (int kd = 0; kd < c.k; kd++) {
                                    int sd = src(od * c.s + kd - pad, c.d, c.padding);
                                    if (sd < 0) continue;
                                    for (int kh = 0; kh < c.k; kh++) {
                                        int sh = src(oh * c.s + kh - pad, c.h, c.padding);
                                        if (sh < 0) continue;
                                        for (int kw = 0; kw < c.k; kw++) {
                                            int sw = src(ow * c.s + kw - pad, c.w, c.padding);
                                            if (sw < 0) continue;
                                            int xi = (((b * c.ci + i) * c.d + sd) * c.h + sh) * c.w + sw;
                                            int wi = (((o * c.ci + i) * c.k + kd) * c.k + kh) * c.k + kw;
                                            t.at(xi, yi, wi, o);
                                        }
                                    }
                                }
                        }
    }

    static double[] refForward(Case c, float[] x, float[] w, float[] bias) {
        double[] y = new double[c.yLen()];
        int plane = c.dO() * c.hO() * c.wO();
        for (int i = 0; i < y.length; i++) y[i] = bias == null ? 0 : bias[(i / plane) % c.co];
        forEachTerm(c, (xi, yi, wi, o) -> y[yi] += (double) x[xi] * w[wi]);
        return y;
    }

    static double[] refBackwardData(Case c, float[] gy, float[] w) {
        double[] gx = new double[c.xLen()];
        forEachTerm(c, (xi, yi, wi, o) -> gx[xi] += (double) gy[yi] * w[wi]);
        return gx;
    }

    static double[] refBackwardWeight(Case c, float[] x, float[] gy) {
        double[] gw = new double[c.wLen()];
        forEachTerm(c, (xi, yi, wi, o) -> gw[wi] += (double) gy[yi] * x[xi]);
        return gw;
    }

    static double[] refBiasGrad(Case c, float[] gy) {
        double[] gb = new double[c.co];
        int plane = c.dO() * c.hO() * c.wO();
        for (int i = 0; i < gy.length; i++) gb[(i / plane) % c.co] += gy[i];
        return gb;
    }

    // -----------------------------------------------------------------------------------------------------------
    // comparison

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian());
        return a;
    }

    /**
     * Float32 accumulation over at most 27*Ci (here <= 432) terms of unit-scale products: the rounding error grows
     * like sqrt(terms) * 2^-24 relative to the norm, well under 1e-5; element-wise, cancellation can leave a small
     * reference value next to an absolute error of a few 1e-6, hence the 1e-4 absolute floor plus 1e-4 relative.
     */
    private static void assertClose(String what, Case c, double[] ref, float[] out) {
        assertClose(what, c, ref, out, 1e-4);
    }

    /**
     * As above with absolute floor {@code absFloor}. The weight and bias gradients sum n·Do·Ho·Wo products (16,000 in
     * ConvWeightGradientTilingTest's stride-2 case): partial sums of unit-scale random terms grow like sqrt(terms),
     * each addition rounds by 2^-24 of that, and the errors add like a random walk, so an element's absolute error is
     * of order terms · 2^-24 however small the (cancelling) result; {@link #gradientFloor} allows twice that.
     */
    private static void assertClose(String what, Case c, double[] ref, float[] out, double absFloor) {
        assertEquals(ref.length, out.length, what + " length");
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) {
            double e = out[i] - ref[i];
            num += e * e;
            den += ref[i] * ref[i];
            if (!(Math.abs(e) <= absFloor + 1e-4 * Math.abs(ref[i]))) {
                fail(what + " " + c + ": element " + i + " is " + out[i] + ", reference " + ref[i]);
            }
        }
        double rel = Math.sqrt(num / Math.max(den, 1e-300));
        assertTrue(rel <= 1e-5, what + " " + c + ": relative error " + rel);
    }

    /** The absolute floor for weight and bias gradients: 1e-4, or 2 · terms · 2^-24 where that is larger. */
    static double gradientFloor(Case c) {
        double terms = (double) c.n * c.dO() * c.hO() * c.wO();
        return Math.max(1e-4, 2 * terms * 0x1p-24);
    }

    // -----------------------------------------------------------------------------------------------------------
    // tests

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardMatchesReference(Case c) {
        Random r = new Random(c.seed());
        float[] x = random(r, c.xLen()), w = random(r, c.wLen()), bias = random(r, c.co);
        float[] y = new float[c.yLen()];
        java.util.Arrays.fill(y, Float.NaN); // forward must overwrite every element
        CpuConv3d.forward(x, w, bias, y, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.s, c.pad(), c.padding);
        assertClose("forward", c, refForward(c, x, w, bias), y);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardDataMatchesReference(Case c) {
        Random r = new Random(c.seed() + 1);
        float[] gy = random(r, c.yLen()), w = random(r, c.wLen());
        float[] gx = new float[c.xLen()];
        java.util.Arrays.fill(gx, Float.NaN);
        CpuConv3d.backwardData(gy, w, gx, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.s, c.pad(), c.padding);
        assertClose("backwardData", c, refBackwardData(c, gy, w), gx);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardWeightAndBiasMatchReference(Case c) {
        Random r = new Random(c.seed() + 2);
        float[] x = random(r, c.xLen()), gy = random(r, c.yLen());
        float[] gw = new float[c.wLen()], gb = new float[c.co];
        java.util.Arrays.fill(gw, Float.NaN);
        java.util.Arrays.fill(gb, Float.NaN);
        CpuConv3d.backwardWeight(x, gy, gw, gb, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.s, c.pad(), c.padding);
        assertClose("backwardWeight", c, refBackwardWeight(c, x, gy), gw, gradientFloor(c));
        assertClose("bias gradient", c, refBiasGrad(c, gy), gb, gradientFloor(c));
    }

    /** <conv(x), gy> = <x, backwardData(gy)> = <w, backwardWeight(x, gy)> + <b, gb>: the passes are adjoint. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void backwardPassesAreAdjointToForward(Case c) {
        Random r = new Random(c.seed() + 3);
        float[] x = random(r, c.xLen()), w = random(r, c.wLen()), bias = random(r, c.co), gy = random(r, c.yLen());
        float[] y = new float[c.yLen()], gx = new float[c.xLen()], gw = new float[c.wLen()], gb = new float[c.co];
        CpuConv3d.forward(x, w, null, y, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.s, c.pad(), c.padding);
        CpuConv3d.backwardData(gy, w, gx, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.s, c.pad(), c.padding);
        double yg = dot(y, gy), xg = dot(x, gx);
        assertEquals(yg, xg, 1e-5 * norm(y) * norm(gy), "<conv(x),gy> vs <x,backwardData(gy)> " + c);
        CpuConv3d.forward(x, w, bias, y, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.s, c.pad(), c.padding);
        CpuConv3d.backwardWeight(x, gy, gw, gb, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.s, c.pad(), c.padding);
        double ybg = dot(y, gy), wg = dot(w, gw) + dot(bias, gb);
        assertEquals(ybg, wg, 1e-5 * norm(y) * norm(gy), "<conv(x)+b,gy> vs <w,gw>+<b,gb> " + c);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    private static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    @Test
    void bigEnoughForThreadsMatchesReference() {
        // Enough work items that Parallel really splits them across the pool.
        Case c = new Case(1, 8, 8, 12, 10, 20, 3, 1, Padding.REFLECT);
        forwardMatchesReference(c);
        backwardDataMatchesReference(c);
        backwardWeightAndBiasMatchReference(c);
    }

    // -----------------------------------------------------------------------------------------------------------
    // bad arguments

    private static IllegalArgumentException reject(Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains("conv3d"), "message names the op: " + e.getMessage());
        return e;
    }

    @Test
    void rejectsUnsupportedKernelSize() {
        var e = reject(() -> CpuConv3d.forward(new float[2 * 8], new float[2 * 2 * 8], null, new float[2],
                1, 2, 2, 2, 2, 2, 2, 1, 0, Padding.ZERO));
        assertTrue(e.getMessage().contains("x=[1,2,2,2,2]") && e.getMessage().contains("w=[2,2,2,2,2]"), e.getMessage());
    }

    @Test
    void rejectsUnsupportedStrideAndPad() {
        reject(() -> CpuConv3d.forward(new float[64], new float[27], null, new float[8], 1, 1, 4, 4, 4, 1, 3, 3, 1, Padding.ZERO));
        reject(() -> CpuConv3d.forward(new float[64], new float[27], null, new float[8], 1, 1, 4, 4, 4, 1, 3, 1, 0, Padding.ZERO));
        reject(() -> CpuConv3d.forward(new float[64], new float[1], null, new float[64], 1, 1, 4, 4, 4, 1, 1, 1, 1, Padding.ZERO));
    }

    @Test
    void rejectsReflectPaddingOfSizeOne() {
        var e = reject(() -> CpuConv3d.forward(new float[16], new float[27], null, new float[16], 1, 1, 1, 4, 4, 1, 3, 1, 1, Padding.REFLECT));
        assertTrue(e.getMessage().contains("reflect"), e.getMessage());
    }

    @Test
    void rejectsWrongArrayLengths() {
        var e = reject(() -> CpuConv3d.forward(new float[63], new float[27], null, new float[64], 1, 1, 4, 4, 4, 1, 3, 1, 1, Padding.ZERO));
        assertTrue(e.getMessage().contains("x has 63 elements, expected 64"), e.getMessage());
        reject(() -> CpuConv3d.forward(new float[64], new float[27], new float[2], new float[64], 1, 1, 4, 4, 4, 1, 3, 1, 1, Padding.ZERO));
        reject(() -> CpuConv3d.backwardData(new float[64], new float[27], new float[60], 1, 1, 4, 4, 4, 1, 3, 1, 1, Padding.ZERO));
        reject(() -> CpuConv3d.backwardWeight(new float[64], new float[64], new float[26], null, 1, 1, 4, 4, 4, 1, 3, 1, 1, Padding.ZERO));
        reject(() -> CpuConv3d.backwardWeight(null, new float[64], new float[27], null, 1, 1, 4, 4, 4, 1, 3, 1, 1, Padding.ZERO));
    }

    @Test
    void rejectsNonPositiveDimensions() {
        reject(() -> CpuConv3d.forward(new float[0], new float[0], null, new float[0], 1, 0, 4, 4, 4, 1, 3, 1, 1, Padding.ZERO));
    }

    @Test
    void outSizeFollowsTheFormula() {
        assertEquals(56, CpuConv3d.outSize(112, 3, 2, 1));
        assertEquals(4, CpuConv3d.outSize(7, 3, 2, 1));
        assertEquals(7, CpuConv3d.outSize(7, 3, 1, 1));
        assertEquals(4, CpuConv3d.outSize(7, 1, 2, 0));
    }
}
