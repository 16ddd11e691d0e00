package org.cloe4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/** Trilinear x2 up-sampling with align_corners = true (the source coordinate of output o is o·(in−1)/(out−1)). */
final class CpuResample {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
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

    /**
     * Separable: per map, each source plane's rows are interpolated along w, then the plane along h (into one of two
     * plane buffers, by the parity of its depth), and each output plane is the blend of two such planes along d. Every
     * output is lerp(lerp(lerp(..., tw), ..., th), ..., td) with the same operands in the same order as the direct
     * eight-point formula, so the result is bit for bit that formula's; the h and d blends run on vectors.
     */
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
        int ow = o.w();
        int plane = o.h() * ow;
        Parallel.forEach(s.n() * s.c(), map -> {
            float[] rows = new float[s.h() * ow];
            float[][] planes = {new float[plane], new float[plane]};
            int[] held = {-1, -1};
            int ib = map * inMap;
            for (int od = 0; od < o.d(); od++) {
                int d0 = ad.lo[od];
                int d1 = ad.hi[od];
                float[] p0 = sourcePlane(in, ib + d0 * hw, d0, planes, held, rows, s.h(), sw, ah, aw);
                float[] p1 = sourcePlane(in, ib + d1 * hw, d1, planes, held, rows, s.h(), sw, ah, aw);
                lerpInto(p0, p1, ad.t[od], out, map * outMap + od * plane, plane);
            }
        });
    }

    /** Source plane d (starting at in[off]) interpolated along w and h, from the buffer of d's parity. */
    private static float[] sourcePlane(float[] in, int off, int d, float[][] planes, int[] held, float[] rows, int sh,
                                       int sw, Axis ah, Axis aw) {
        int slot = d & 1;
        float[] p = planes[slot];
        if (held[slot] == d) return p;
        int ow = aw.lo.length;
        for (int h = 0; h < sh; h++) {
            int src = off + h * sw;
            int dst = h * ow;
            for (int w = 0; w < ow; w++) rows[dst + w] = lerp(in[src + aw.lo[w]], in[src + aw.hi[w]], aw.t[w]);
        }
        for (int oh = 0; oh < ah.lo.length; oh++) {
            lerpRows(rows, ah.lo[oh] * ow, ah.hi[oh] * ow, ah.t[oh], p, oh * ow, ow);
        }
        held[slot] = d;
        return p;
    }

    /** dst[to + i] = lerp(a[i], b[i], t) for i in [0, n). */
    private static void lerpInto(float[] a, float[] b, float t, float[] dst, int to, int n) {
        int i = 0;
        FloatVector vt = FloatVector.broadcast(F, t);
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector va = FloatVector.fromArray(F, a, i);
            va.add(FloatVector.fromArray(F, b, i).sub(va).mul(vt)).intoArray(dst, to + i);
        }
        for (; i < n; i++) dst[to + i] = lerp(a[i], b[i], t);
    }

    /** dst[to + i] = lerp(src[a + i], src[b + i], t) for i in [0, n). */
    private static void lerpRows(float[] src, int a, int b, float t, float[] dst, int to, int n) {
        int i = 0;
        FloatVector vt = FloatVector.broadcast(F, t);
        for (int end = F.loopBound(n); i < end; i += F.length()) {
            FloatVector va = FloatVector.fromArray(F, src, a + i);
            va.add(FloatVector.fromArray(F, src, b + i).sub(va).mul(vt)).intoArray(dst, to + i);
        }
        for (; i < n; i++) dst[to + i] = lerp(src[a + i], src[b + i], t);
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
