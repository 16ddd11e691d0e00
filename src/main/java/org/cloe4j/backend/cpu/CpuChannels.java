package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/** Ops across the channel dimension of NCDHW tensors: softmax, concat, slice. */
final class CpuChannels {
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
        forEachVoxel(s, (base, v) -> {
            float max = Float.NEGATIVE_INFINITY;
            for (int k = 0; k < c; k++) max = Math.max(max, in[base + k * sp + v]);
            double sum = 0;
            for (int k = 0; k < c; k++) {
                float e = (float) Math.exp(in[base + k * sp + v] - max);
                out[base + k * sp + v] = e;
                sum += e;
            }
            float inv = (float) (1.0 / sum);
            for (int k = 0; k < c; k++) out[base + k * sp + v] *= inv;
        });
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
