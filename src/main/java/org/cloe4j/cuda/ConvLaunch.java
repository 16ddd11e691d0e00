package org.cloe4j.cuda;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.tensor.Shape;

import java.util.List;

/**
 * The launches of our conv3d kernels ({@code kernels/conv3d.cu}), planned without a GPU: kernel name, grid, block
 * and arguments for a problem, a kernel version and a precision. {@link CudaBackend} runs them; a CPU test checks
 * every plan against the kernels' generated descriptors and the grid limits.
 */
final class ConvLaunch {
    /** Threads per block of the version-2 implicit-GEMM kernels and their tile sizes (conv3d.cu). */
    static final int IG_THREADS = 128, IG_TILE = 64, IG_BK = 16;
    /** Threads per block of the version-1 kernels. */
    static final int V1_BLOCK = 256;

    private ConvLaunch() {
    }

    /** Threads per block of {@code cloe_reduce_columns} when it adds backward-weight's split partials. */
    static final int REDUCE_BLOCK = 256;

    /** One kernel launch. */
    record Launch(String kernel, int gridX, int gridY, int gridZ, int block, Object[] args) {
    }

    /**
     * Backward-weight as planned: with one K split the GEMM writes {@code gw} directly; with several it writes
     * {@code partialFloats} floats of split partials to a scratch buffer, which {@code cloe_reduce_columns} then adds
     * in a fixed order into {@code gw} (deterministic: no atomics). {@link #launches} gives the launches once the
     * scratch buffer exists.
     */
    record WeightPlan(String kernel, int gridX, int gridY, int splits, int block, Object[] args, long gw, long weights,
                      int maxBlocks) {
        /** Floats of scratch the launches need (0: none). */
        long partialFloats() {
            return splits > 1 ? (long) splits * weights : 0;
        }

        /** The launches, with {@code partials} a device buffer of {@link #partialFloats} floats (ignored when 0). */
        List<Launch> launches(long partials) {
            if (partialFloats() == 0) return List.of(new Launch(kernel, gridX, gridY, splits, block, args));
            Object[] a = args.clone();
            a[2] = partials;
            int cols = (int) weights;
            return List.of(new Launch(kernel, gridX, gridY, splits, block, a),
                    new Launch("cloe_reduce_columns", Math.max(1, Math.min(cols, Math.min(maxBlocks, 65535))), 1, 1,
                            REDUCE_BLOCK, new Object[]{partials, splits, cols, gw, 1f}));
        }
    }

    /** The geometry arguments every conv3d kernel takes after its pointers (see cloe_kernels.h). */
    static Object[] geometry(Shape xs, Shape ws, Shape ys, ConvSpec spec) {
        return new Object[]{xs.n(), xs.c(), xs.d(), xs.h(), xs.w(), ws.dim(0), ys.d(), ys.h(), ys.w(), spec.k(),
                spec.stride(), spec.pad(), spec.padding() == ConvSpec.Padding.REFLECT && spec.pad() > 0 ? 1 : 0};
    }

    private static Object[] concat(Object[] a, Object[] b) {
        Object[] o = new Object[a.length + b.length];
        System.arraycopy(a, 0, o, 0, a.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }

    static int tiles(long n, int tile) {
        long t = (n + tile - 1) / tile;
        if (t > Integer.MAX_VALUE) throw new IllegalArgumentException("conv3d: " + n + " rows is too many");
        return (int) Math.max(1, t);
    }

    private static int grid1d(long n, int maxBlocks) {
        return (int) Math.max(1, Math.min((n + V1_BLOCK - 1) / V1_BLOCK, maxBlocks));
    }

    private static void precision(String p) {
        if (!p.equals("fp32") && !p.equals("tf32") && !p.equals("bf16")) throw new IllegalArgumentException("precision " + p);
    }

    /** Version 3's narrow tiles (conv3d.cu): 128 x 16 for fwd / bwd-data, 16 x 128 for bwd-weight, up to 16 channels. */
    static final int NARROW = 16, LONG = 128;

    static Launch forward(int version, String prec, long x, long w, long bias, long y, Shape xs, Shape ws, Shape ys,
                          ConvSpec spec, int maxBlocks) {
        Object[] args = concat(new Object[]{x, w, bias, y}, geometry(xs, ws, ys, spec));
        if (version == 1) return new Launch("cloe_conv3d_fwd_v1", grid1d(ys.size(), maxBlocks), 1, 1, V1_BLOCK, args);
        return implicitGemm("cloe_conv3d_fwd", version, prec, ys, args);
    }

    static Launch backwardData(int version, String prec, long gy, long w, long gx, Shape xs, Shape ws, Shape ys,
                               ConvSpec spec, int maxBlocks) {
        Object[] args = concat(new Object[]{gy, w, gx}, geometry(xs, ws, ys, spec));
        if (version == 1) return new Launch("cloe_conv3d_bwd_data_v1", grid1d(xs.size(), maxBlocks), 1, 1, V1_BLOCK, args);
        return implicitGemm("cloe_conv3d_bwd_data", version, prec, xs, args);
    }

    /**
     * The implicit-GEMM launch of forward or backward-data writing {@code out}: M = N * positions of {@code out} by
     * its channels, in 64x64 tiles (v2), or 128x16 tiles (v3) when it has at most 16 channels.
     */
    private static Launch implicitGemm(String kernel, int version, String prec, Shape out, Object[] args) {
        precision(prec);
        long m = (long) out.n() * out.spatialSize();
        if (version >= 3 && out.c() <= NARROW) {
            return new Launch(kernel + "_v3_" + prec, tiles(m, LONG), tiles(out.c(), NARROW), 1, IG_THREADS, args);
        }
        return new Launch(kernel + "_v2_" + prec, tiles(m, IG_TILE), tiles(out.c(), IG_TILE), 1, IG_THREADS, args);
    }

    /**
     * Backward-weight. Version 2 splits K = N * output positions over gridDim.z so that the few (Co, Ci * k³) tiles
     * still fill the GPU: about 8 blocks per multiprocessor, each chunk a multiple of 16 and at least 128 long.
     */
    static WeightPlan backwardWeight(int version, String prec, long x, long gy, long gw, Shape xs, Shape ws, Shape ys,
                                     ConvSpec spec, int maxBlocks, int multiprocessors) {
        Object[] args = concat(new Object[]{x, gy, gw}, geometry(xs, ws, ys, spec));
        long weights = ws.size();
        if (weights > Integer.MAX_VALUE) throw new IllegalArgumentException("conv3d: " + ws + " has more than 2^31 weights");
        if (version == 1) {
            return new WeightPlan("cloe_conv3d_bwd_weight_v1", (int) Math.max(1, Math.min(weights, maxBlocks)), 1, 1, V1_BLOCK,
                    args, gw, weights, maxBlocks);
        }
        precision(prec);
        boolean narrow = version >= 3 && ws.dim(0) <= NARROW;
        long kTotal = (long) ys.n() * ys.spatialSize();
        int tm = narrow ? tiles(ws.dim(0), NARROW) : tiles(ws.dim(0), IG_TILE);
        int tn = narrow ? tiles(weights / ws.dim(0), LONG) : tiles(weights / ws.dim(0), IG_TILE);
        long want = Math.max(1, (multiprocessors * 8L) / ((long) tm * tn));
        long chunk = roundUp(Math.max(8L * IG_BK, (kTotal + want - 1) / want), IG_BK);
        int splits = (int) Math.min(65535, (kTotal + chunk - 1) / chunk);
        chunk = Math.max(chunk, roundUp((kTotal + splits - 1) / splits, IG_BK));
        return new WeightPlan("cloe_conv3d_bwd_weight_" + (narrow ? "v3_" : "v2_") + prec, tm, tn, splits, IG_THREADS,
                concat(args, new Object[]{(int) chunk}), gw, weights, maxBlocks);
    }

    private static long roundUp(long v, int m) {
        return (v + m - 1) / m * m;
    }
}
