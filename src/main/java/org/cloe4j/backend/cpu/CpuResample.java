package org.cloe4j.backend.cpu;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/** Trilinear x2 up-sampling with align_corners = true (the source coordinate of output o is o·(in−1)/(out−1)). */
final class CpuResample {
    private CpuResample() {
    }

    /** Per output index along one axis: the lower source index, the upper one, and the weight of the upper one. */
    private record Axis(int[] lo, int[] hi, float[] t) {
        static Axis of(int in, int out) {
            int[] lo = new int[out];
            int[] hi = new int[out];
            float[] t = new float[out];
            double scale = out > 1 ? (double) (in - 1) / (out - 1) : 0.0;
            for (int o = 0; o < out; o++) {
                double src = o * scale;
                int i0 = Math.min((int) Math.floor(src), in - 1);
                lo[o] = i0;
                hi[o] = Math.min(i0 + 1, in - 1);
                t[o] = (float) (src - i0);
            }
            return new Axis(lo, hi, t);
        }
    }

    private static void check(String op, Shape small, Shape big) {
        if (small.rank() != 5 || big.rank() != 5 || small.n() != big.n() || small.c() != big.c()
                || big.d() != 2 * small.d() || big.h() != 2 * small.h() || big.w() != 2 * small.w()) {
            throw new IllegalArgumentException(op + ": output " + big + " is not twice input " + small);
        }
    }

    static void upsample2x(Tensor x, Tensor y) {
        Shape s = x.shape();
        Shape o = y.shape();
        check("upsample2x", s, o);
        Axis ad = Axis.of(s.d(), o.d());
        Axis ah = Axis.of(s.h(), o.h());
        Axis aw = Axis.of(s.w(), o.w());
        float[] in = x.data();
        float[] out = y.data();
        int inMap = s.spatialSize();
        int outMap = o.spatialSize();
        int hw = s.h() * s.w();
        int sw = s.w();
        Parallel.forEach(s.n() * s.c() * o.d(), job -> {
            int map = job / o.d();
            int od = job % o.d();
            int ib = map * inMap;
            int d0 = ad.lo[od] * hw;
            int d1 = ad.hi[od] * hw;
            float td = ad.t[od];
            int obase = map * outMap + od * o.h() * o.w();
            for (int oh = 0; oh < o.h(); oh++) {
                int h0 = ah.lo[oh] * sw;
                int h1 = ah.hi[oh] * sw;
                float th = ah.t[oh];
                int orow = obase + oh * o.w();
                for (int ow = 0; ow < o.w(); ow++) {
                    int w0 = aw.lo[ow];
                    int w1 = aw.hi[ow];
                    float tw = aw.t[ow];
                    float c00 = lerp(in[ib + d0 + h0 + w0], in[ib + d0 + h0 + w1], tw);
                    float c01 = lerp(in[ib + d0 + h1 + w0], in[ib + d0 + h1 + w1], tw);
                    float c10 = lerp(in[ib + d1 + h0 + w0], in[ib + d1 + h0 + w1], tw);
                    float c11 = lerp(in[ib + d1 + h1 + w0], in[ib + d1 + h1 + w1], tw);
                    out[orow + ow] = lerp(lerp(c00, c01, th), lerp(c10, c11, th), td);
                }
            }
        });
    }

    static void upsample2xBackward(Tensor gy, Tensor gx) {
        Shape s = gx.shape();
        Shape o = gy.shape();
        check("upsample2x backward", s, o);
        Axis ad = Axis.of(s.d(), o.d());
        Axis ah = Axis.of(s.h(), o.h());
        Axis aw = Axis.of(s.w(), o.w());
        float[] g = gy.data();
        float[] out = gx.data();
        int inMap = s.spatialSize();
        int outMap = o.spatialSize();
        int hw = s.h() * s.w();
        int sw = s.w();
        // One map per task: the scatter into gx never crosses maps, so no two threads write the same element.
        Parallel.forEach(s.n() * s.c(), map -> {
            int ib = map * inMap;
            java.util.Arrays.fill(out, ib, ib + inMap, 0f);
            for (int od = 0; od < o.d(); od++) {
                int d0 = ad.lo[od] * hw;
                int d1 = ad.hi[od] * hw;
                float td = ad.t[od];
                for (int oh = 0; oh < o.h(); oh++) {
                    int h0 = ah.lo[oh] * sw;
                    int h1 = ah.hi[oh] * sw;
                    float th = ah.t[oh];
                    int orow = map * outMap + (od * o.h() + oh) * o.w();
                    for (int ow = 0; ow < o.w(); ow++) {
                        float v = g[orow + ow];
                        int w0 = aw.lo[ow];
                        int w1 = aw.hi[ow];
                        float tw = aw.t[ow];
                        float a0 = v * (1 - td);
                        float a1 = v * td;
                        float b00 = a0 * (1 - th);
                        float b01 = a0 * th;
                        float b10 = a1 * (1 - th);
                        float b11 = a1 * th;
                        out[ib + d0 + h0 + w0] += b00 * (1 - tw);
                        out[ib + d0 + h0 + w1] += b00 * tw;
                        out[ib + d0 + h1 + w0] += b01 * (1 - tw);
                        out[ib + d0 + h1 + w1] += b01 * tw;
                        out[ib + d1 + h0 + w0] += b10 * (1 - tw);
                        out[ib + d1 + h0 + w1] += b10 * tw;
                        out[ib + d1 + h1 + w0] += b11 * (1 - tw);
                        out[ib + d1 + h1 + w1] += b11 * tw;
                    }
                }
            }
        });
    }

    private static float lerp(float a, float b, float t) {
        return a + (b - a) * t;
    }
}
