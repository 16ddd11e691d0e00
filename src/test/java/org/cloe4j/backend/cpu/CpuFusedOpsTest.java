package org.cloe4j.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.cloe4j.backend.Pointwise;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The CPU's fused and restructured forward ops against the plain compositions they replace, bit for bit: the fused
 * norm + leaky ReLU (+ residual) against instanceNorm, pointwise and add run one after the other (same statistics code,
 * then the same float operations in the same order, so tolerance 0), the separable up-sampling against the direct
 * eight-point formula written out here (the same lerps of the same operands, so tolerance 0), and the blocked
 * statistics against a plain two-pass sum in double.
 */
class CpuFusedOpsTest {
    private final CpuBackend be = new CpuBackend();

    private static float[] gaussian(SplittableRandom r, int n, double mean, double sd) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (mean + sd * r.nextGaussian());
        return v;
    }

    private Tensor stats(Shape s) {
        return be.allocate(Shape.of(s.n(), s.c()));
    }

    @Test
    void fusedNormLeakyReluEqualsTheUnfusedOpsBitForBit() {
        // 2 maps of 4·33·65 = 8580 voxels: three statistics blocks, the last partial, and a tail past the vectors
        Shape s = Shape.ncdhw(1, 2, 4, 33, 65);
        SplittableRandom r = new SplittableRandom(7);
        Tensor x = be.fromHost(s, gaussian(r, s.intSize(), 0.7, 2.0));
        Tensor res = be.fromHost(s, gaussian(r, s.intSize(), 0, 1));
        for (boolean residual : new boolean[]{false, true}) {
            Tensor norm = be.allocate(s), act = be.allocate(s), want = be.allocate(s), got = be.allocate(s);
            Tensor m1 = stats(s), r1 = stats(s), m2 = stats(s), r2 = stats(s);
            be.instanceNorm(x, null, null, norm, m1, r1, 1e-5f);
            be.pointwise(Pointwise.LEAKY_RELU, 0.01f, norm, act);
            if (residual) be.add(res, act, want); else be.copy(act, want);
            be.instanceNormLeakyRelu(x, residual ? res : null, got, m2, r2, 1e-5f, 0.01f);
            assertArrayEquals(be.toHost(want), be.toHost(got), "fused output, residual " + residual);
            assertArrayEquals(be.toHost(m1), be.toHost(m2), "fused mean");
            assertArrayEquals(be.toHost(r1), be.toHost(r2), "fused rstd");
            // and the backend interface's default (the unfused ops into y) gives the same
            Tensor viaDefault = be.allocate(s);
            be.instanceNorm(x, null, null, viaDefault, stats(s), stats(s), 1e-5f);
            be.pointwise(Pointwise.LEAKY_RELU, 0.01f, viaDefault, viaDefault);
            if (residual) be.add(viaDefault, res, viaDefault);
            assertArrayEquals(be.toHost(want), be.toHost(viaDefault), "in-place composition, residual " + residual);
        }
    }

    @Test
    void blockedStatisticsMatchATwoPassDoubleSumOnAnOffsetMap() {
        // mean 1000, sd 0.01: a one-pass E[x²] − m² in float would lose the variance; the blocked form must not
        SplittableRandom r = new SplittableRandom(8);
        for (int sp : new int[]{1, 15, 4096, 4097, 12_345}) {
            float[] v = gaussian(r, sp + 3, 1000, 0.01);
            double sum = 0;
            for (int i = 0; i < sp; i++) sum += v[3 + i];
            double m = sum / sp;
            double ss = 0;
            for (int i = 0; i < sp; i++) ss += (v[3 + i] - m) * (v[3 + i] - m);
            double var = ss / sp;
            double[] got = CpuNorm.moments(v, 3, sp);
            // both are double sums of the same floats in other orders: agreement to ~1e-12 of the mean, and of the
            // variance to ~1e-12 of m² / var (the centring); far below one float ulp of the outputs
            assertEquals(m, got[0], 1e-12 * m, "mean of " + sp);
            assertEquals(var, got[1], 1e-9 * var + 1e-300, "variance of " + sp);
        }
    }

    /** The direct formula: every output blends the eight source voxels around it (align_corners = true). */
    private static float[] upsampleDirect(float[] in, int maps, int d, int h, int w) {
        int od = 2 * d, oh = 2 * h, ow = 2 * w;
        float[] out = new float[maps * od * oh * ow];
        for (int m = 0; m < maps; m++) {
            for (int z = 0; z < od; z++) {
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++) {
                        int[] zd = axis(z, d, od), yh = axis(y, h, oh), xw = axis(x, w, ow);
                        float tz = frac(z, d, od), ty = frac(y, h, oh), tx = frac(x, w, ow);
                        int b = m * d * h * w;
                        float c00 = lerp(in[b + (zd[0] * h + yh[0]) * w + xw[0]], in[b + (zd[0] * h + yh[0]) * w + xw[1]], tx);
                        float c01 = lerp(in[b + (zd[0] * h + yh[1]) * w + xw[0]], in[b + (zd[0] * h + yh[1]) * w + xw[1]], tx);
                        float c10 = lerp(in[b + (zd[1] * h + yh[0]) * w + xw[0]], in[b + (zd[1] * h + yh[0]) * w + xw[1]], tx);
                        float c11 = lerp(in[b + (zd[1] * h + yh[1]) * w + xw[0]], in[b + (zd[1] * h + yh[1]) * w + xw[1]], tx);
                        out[((m * od + z) * oh + y) * ow + x] = lerp(lerp(c00, c01, ty), lerp(c10, c11, ty), tz);
                    }
                }
            }
        }
        return out;
    }

    private static int[] axis(int o, int in, int out) {
        double src = o * ((double) (in - 1) / (out - 1));
        int lo = Math.min((int) Math.floor(src), in - 1);
        return new int[]{lo, Math.min(lo + 1, in - 1)};
    }

    private static float frac(int o, int in, int out) {
        double src = o * ((double) (in - 1) / (out - 1));
        return (float) (src - Math.min((int) Math.floor(src), in - 1));
    }

    private static float lerp(float a, float b, float t) {
        return a + (b - a) * t;
    }

    @Test
    void separableUpsamplingEqualsTheDirectFormulaBitForBit() {
        SplittableRandom r = new SplittableRandom(9);
        for (int[] dims : new int[][]{{2, 3, 5, 6, 7}, {1, 2, 9, 17, 33}, {1, 1, 1, 2, 1}}) {
            Shape s = Shape.ncdhw(dims[0], dims[1], dims[2], dims[3], dims[4]);
            float[] v = gaussian(r, s.intSize(), 0, 1);
            Tensor y = be.allocate(Shape.ncdhw(dims[0], dims[1], 2 * dims[2], 2 * dims[3], 2 * dims[4]));
            be.upsample2x(be.fromHost(s, v), y);
            float[] want = upsampleDirect(v, dims[0] * dims[1], dims[2], dims[3], dims[4]);
            assertArrayEquals(want, be.toHost(y), "upsample2x of " + s);
            assertTrue(want.length > 0);
        }
    }

    @Test
    void pointwiseConvWithFewOutputsMatchesADoubleReference() {
        // 16 -> 4 and 8 -> 1 (the decoders' logits, the region head) on maps of 6·9·41 = 2214 voxels: two runs of the
        // few-output path, the second with a tail past the vectors, two samples
        SplittableRandom r = new SplittableRandom(10);
        for (int[] c : new int[][]{{16, 4}, {8, 1}, {3, 7}}) {
            int n = 2, ci = c[0], co = c[1], sp = 6 * 9 * 41;
            float[] x = gaussian(r, n * ci * sp, 0, 1), w = gaussian(r, co * ci, 0, 0.5), b = gaussian(r, co, 0, 1);
            float[] y = new float[n * co * sp];
            CpuConv3d.forward(x, w, b, y, n, ci, 6, 9, 41, co, 1, 1, 0, org.cloe4j.backend.ConvSpec.Padding.REFLECT);
            for (int s = 0; s < n; s++) {
                for (int o = 0; o < co; o++) {
                    for (int v = 0; v < sp; v++) {
                        double want = b[o], mag = Math.abs(b[o]);
                        for (int k = 0; k < ci; k++) {
                            double t = (double) x[(s * ci + k) * sp + v] * w[o * ci + k];
                            want += t;
                            mag += Math.abs(t);
                        }
                        // float32 FMA chain of ci + 1 terms: each step rounds once, relative to the running magnitude
                        assertEquals(want, y[(s * co + o) * sp + v], 1e-6 * (ci + 1) * mag, "y at " + s + "," + o + "," + v);
                    }
                }
            }
        }
    }

    @Test
    void weightedSumEqualsTheScalarSumBitForBit() {
        Shape s = Shape.ncdhw(1, 3, 5, 7, 1001); // several parallel ranges and a tail past the vectors
        SplittableRandom r = new SplittableRandom(11);
        float[][] maps = new float[4][];
        Tensor[] xs = new Tensor[4];
        for (int k = 0; k < 4; k++) {
            maps[k] = gaussian(r, s.intSize(), 0, 1);
            xs[k] = be.fromHost(s, maps[k]);
        }
        float[] wv = {0.1f, 0.35f, -0.2f, 0.75f};
        Tensor y = be.allocate(s);
        be.weightedSum(xs, be.fromHost(Shape.of(4), wv), y);
        float[] want = new float[s.intSize()];
        for (int i = 0; i < want.length; i++) {
            float acc = 0;
            for (int k = 0; k < 4; k++) acc += wv[k] * maps[k][i];
            want[i] = acc;
        }
        assertArrayEquals(want, be.toHost(y));
    }

    @Test
    void concatOfLargeMapsPlacesEveryChannel() {
        // two samples, inputs of 3 and 2 channels of 40 000 voxels: copies split into several runs each
        int sp = 40_000;
        float[] a = new float[2 * 3 * sp], b = new float[2 * 2 * sp];
        for (int i = 0; i < a.length; i++) a[i] = i;
        for (int i = 0; i < b.length; i++) b[i] = -1 - i;
        Tensor y = be.allocate(Shape.ncdhw(2, 5, 1, 1, sp));
        be.concatChannels(new Tensor[]{be.fromHost(Shape.ncdhw(2, 3, 1, 1, sp), a), be.fromHost(Shape.ncdhw(2, 2, 1, 1, sp), b)}, y);
        float[] got = be.toHost(y);
        for (int n = 0; n < 2; n++) {
            for (int c = 0; c < 5; c++) {
                for (int v = 0; v < sp; v += 997) {
                    float want = c < 3 ? a[(n * 3 + c) * sp + v] : b[(n * 2 + c - 3) * sp + v];
                    assertEquals(want, got[(n * 5 + c) * sp + v], "sample " + n + " channel " + c + " voxel " + v);
                }
                int last = sp - 1;
                float want = c < 3 ? a[(n * 3 + c) * sp + last] : b[(n * 2 + c - 3) * sp + last];
                assertEquals(want, got[(n * 5 + c) * sp + last], "sample " + n + " channel " + c + " last voxel");
            }
        }
    }

    @Test
    void softmaxExpIsWithinTwoUlpAndTheVectorFormGivesTheScalarBits() {
        jdk.incubator.vector.VectorSpecies<Float> sp = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED;
        int n = 200_000 / sp.length() * sp.length();
        float[] x = new float[n];
        SplittableRandom r = new SplittableRandom(12);
        for (int i = 0; i < n; i++) x[i] = i < n / 2 ? (float) (-88 * r.nextDouble()) : (float) (-1 * r.nextDouble());
        x[0] = 0f;
        x[1] = -0f;
        x[2] = -87.3f;
        x[3] = -87.4f;
        x[4] = Float.NEGATIVE_INFINITY;
        x[5] = Float.NaN;
        x[6] = -1e30f;
        float[] v = new float[n];
        for (int i = 0; i < n; i += sp.length()) {
            CpuChannels.expNonPositive(jdk.incubator.vector.FloatVector.fromArray(sp, x, i)).intoArray(v, i);
        }
        for (int i = 0; i < n; i++) {
            float s = CpuChannels.expNonPositive(x[i]);
            assertEquals(Float.floatToRawIntBits(s), Float.floatToRawIntBits(v[i]), "vector and scalar exp of " + x[i]);
            double want = Math.exp(x[i]);
            if (Float.isNaN(x[i])) {
                assertTrue(Float.isNaN(s), "exp(NaN)");
            } else if (want < Float.MIN_NORMAL) {
                assertTrue(s == 0f || Math.abs(s - want) <= Float.MIN_NORMAL, "exp(" + x[i] + ") = " + s + ", tiny or 0");
            } else {
                // Cephes' expf: about 1 ulp; 2 allowed
                assertEquals(want, s, 2 * Math.ulp((float) want), "exp(" + x[i] + ")");
            }
        }
    }
}
