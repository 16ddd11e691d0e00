package org.cloe4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/** Ops across the channel dimension of NCDHW tensors: softmax, concat, slice. */
final class CpuChannels {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private CpuChannels() {
    }

    static void softmax(Tensor x, Tensor y) {
        ShapeChecks.volume("softmaxChannels", x);
        ShapeChecks.sameShape("softmaxChannels", x, y);
        Shape s = x.shape();
        int c = s.c();
        int sp = s.spatialSize();
        float[] in = x.data();
        float[] out = y.data();
        int blocks = (sp + 1023) / 1024;
        Parallel.forRange(s.n() * blocks, 1, (lo, hi) -> {
            for (int job = lo; job < hi; job++) {
                int n = job / blocks;
                int from = (job % blocks) * 1024;
                softmaxRun(in, out, n * c * sp, from, Math.min(sp, from + 1024), c, sp);
            }
        });
    }

    /**
     * Softmax over the c channels at voxels [from, to) of the sample starting at {@code base}: vectors along the
     * voxels, exp by {@link #expNonPositive} (the same float operations in the vector and the scalar tail).
     */
    private static void softmaxRun(float[] in, float[] out, int base, int from, int to, int c, int sp) {
        int v = from;
        for (int end = from + F.loopBound(to - from); v < end; v += F.length()) {
            int i = base + v;
            FloatVector max = FloatVector.fromArray(F, in, i);
            for (int k = 1; k < c; k++) max = max.max(FloatVector.fromArray(F, in, i + k * sp));
            FloatVector sum = FloatVector.zero(F);
            for (int k = 0; k < c; k++) {
                FloatVector e = expNonPositive(FloatVector.fromArray(F, in, i + k * sp).sub(max));
                e.intoArray(out, i + k * sp);
                sum = sum.add(e);
            }
            FloatVector inv = FloatVector.broadcast(F, 1f).div(sum);
            for (int k = 0; k < c; k++) FloatVector.fromArray(F, out, i + k * sp).mul(inv).intoArray(out, i + k * sp);
        }
        for (; v < to; v++) {
            int i = base + v;
            float max = in[i];
            for (int k = 1; k < c; k++) max = Math.max(max, in[i + k * sp]);
            float sum = 0f;
            for (int k = 0; k < c; k++) {
                float e = expNonPositive(in[i + k * sp] - max);
                out[i + k * sp] = e;
                sum += e;
            }
            float inv = 1f / sum;
            for (int k = 0; k < c; k++) out[i + k * sp] *= inv;
        }
    }

    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5·2²³: adding it rounds a float of magnitude below 2²² to an integer, held in the low mantissa bits. */
    private static final float MAGIC = 12582912f;
    private static final int MAGIC_BITS = 0x4B400000;
    /** ln 2 split in two (Cody–Waite): n·C1 is exact for the n that occur. */
    private static final float C1 = 0.693359375f;
    private static final float C2 = -2.12194440e-4f;
    /** Below this, exp is under the smallest normal float: 0. */
    private static final float UNDER = -87.33654f;
    /** The polynomial of Cephes' expf (minimax on [−ln2/2, ln2/2]): exp(r) ≈ 1 + r + r²·P(r). */
    private static final float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
            P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;

    /**
     * exp(x) in float for x <= 0 (softmax's shifted logits): x = n·ln2 + r, exp(r) by a degree-7 polynomial, times
     * 2ⁿ; within 2 ulp of the exact value (0 below {@link #UNDER}, NaN for NaN). Only float multiplications and
     * additions in a fixed order (no FMA), so this scalar form and the vector form give the same bits, compiled or not.
     */
    static float expNonPositive(float x) {
        if (x < UNDER) return 0f;
        float t = x * LOG2E + MAGIC;
        float n = t - MAGIC;
        float r = x - n * C1 - n * C2;
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        float e = p * r * r + r + 1f;
        return e * Float.intBitsToFloat((Float.floatToRawIntBits(t) - (MAGIC_BITS - 127)) << 23);
    }

    /** The vector form of {@link #expNonPositive(float)}. */
    static FloatVector expNonPositive(FloatVector x) {
        FloatVector t = x.mul(LOG2E).add(MAGIC);
        FloatVector n = t.sub(MAGIC);
        FloatVector r = x.sub(n.mul(C1)).sub(n.mul(C2));
        FloatVector p = r.mul(P0).add(P1).mul(r).add(P2).mul(r).add(P3).mul(r).add(P4).mul(r).add(P5);
        FloatVector e = p.mul(r).mul(r).add(r).add(1f);
        FloatVector scale = t.reinterpretAsInts().sub(MAGIC_BITS - 127).lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return e.mul(scale).blend(0f, x.compare(VectorOperators.LT, UNDER));
    }

    /** What runs at one voxel {@code v} of the sample whose first channel starts at {@code base}. */
    private interface VoxelBody {
        void at(int base, int v);
    }

    /** Runs {@code body} at every voxel of every sample of {@code s}, in parallel blocks of 1024 voxels. */
    private static void forEachVoxel(Shape s, VoxelBody body) {
        int c = s.c();
        int sp = s.spatialSize();
        int blocks = (sp + 1023) / 1024;
        Parallel.forRange(s.n() * blocks, 1, (lo, hi) -> {
            for (int job = lo; job < hi; job++) {
                int n = job / blocks;
                int from = (job % blocks) * 1024;
                int to = Math.min(sp, from + 1024);
                int base = n * c * sp;
                for (int v = from; v < to; v++) body.at(base, v);
            }
        });
    }

    static void softmaxBackward(Tensor y, Tensor gy, Tensor gx) {
        ShapeChecks.volume("softmaxChannels backward", y);
        ShapeChecks.sameShape("softmaxChannels backward", y, gy);
        ShapeChecks.sameShape("softmaxChannels backward", y, gx);
        Shape s = y.shape();
        int c = s.c();
        int sp = s.spatialSize();
        float[] ys = y.data();
        float[] g = gy.data();
        float[] out = gx.data();
        forEachVoxel(s, (base, v) -> {
            float dot = 0;
            for (int k = 0; k < c; k++) dot += ys[base + k * sp + v] * g[base + k * sp + v];
            for (int k = 0; k < c; k++) {
                int i = base + k * sp + v;
                out[i] = ys[i] * (g[i] - dot);
            }
        });
    }

    static void concat(Tensor[] xs, Tensor y) {
        ShapeChecks.volume("concatChannels", y);
        Shape ys = y.shape();
        int total = 0;
        for (Tensor x : xs) {
            ShapeChecks.volume("concatChannels", x);
            Shape s = x.shape();
            if (s.n() != ys.n() || s.d() != ys.d() || s.h() != ys.h() || s.w() != ys.w()) {
                throw new IllegalArgumentException("concatChannels: input " + s + " does not match output " + ys);
            }
            total += s.c();
        }
        if (total != ys.c()) {
            throw new IllegalArgumentException("concatChannels: inputs have " + total + " channels, output " + ys);
        }
        int sp = ys.spatialSize();
        float[] out = y.data();
        // one copy per (sample, input), split into runs of CpuElementwise.GRAIN floats spread over the cores
        int parts = xs.length * ys.n();
        long[] first = new long[parts + 1];
        for (int p = 0; p < parts; p++) {
            first[p + 1] = first[p] + ((long) xs[p % xs.length].shape().c() * sp + CpuElementwise.GRAIN - 1) / CpuElementwise.GRAIN;
        }
        Parallel.forRange((int) first[parts], 1, (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int p = 0;
                while (first[p + 1] <= r) p++;
                int n = p / xs.length;
                int j = p % xs.length;
                int off = 0;
                for (int q = 0; q < j; q++) off += xs[q].shape().c();
                int len = xs[j].shape().c() * sp;
                int from = (int) (r - first[p]) * CpuElementwise.GRAIN;
                int count = Math.min(CpuElementwise.GRAIN, len - from);
                System.arraycopy(xs[j].data(), n * len + from, out, (n * ys.c() + off) * sp + from, count);
            }
        });
    }

    static void slice(Tensor x, int offset, Tensor y) {
        ShapeChecks.volume("sliceChannels", x);
        ShapeChecks.volume("sliceChannels", y);
        Shape xs = x.shape();
        Shape ys = y.shape();
        if (xs.n() != ys.n() || xs.d() != ys.d() || xs.h() != ys.h() || xs.w() != ys.w() || offset < 0
                || offset + ys.c() > xs.c()) {
            throw new IllegalArgumentException("sliceChannels: cannot take " + ys + " at channel " + offset + " of " + xs);
        }
        int sp = xs.spatialSize();
        for (int n = 0; n < xs.n(); n++) {
            System.arraycopy(x.data(), (n * xs.c() + offset) * sp, y.data(), n * ys.c() * sp, ys.c() * sp);
        }
    }
}
