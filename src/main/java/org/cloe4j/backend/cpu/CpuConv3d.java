package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ConvSpec.Padding;

import java.util.ArrayList;
import java.util.List;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * 3D convolution (PyTorch nn.Conv3d semantics: cross-correlation, padding_mode 'zeros' or 'reflect') on float32
 * NCDHW arrays, forward and both backward passes, vectorised along W and spread over {@link Parallel}'s pool.
 *
 * <p>Design. Forward and backwardData share one kernel, {@link ConvCorrelation}: blocks of 8 output channels × one
 * output plane × a tile of rows, accumulating in registers over source channels and taps from a small per-thread
 * buffer of padded source rows (no padded copy of a tensor is ever made). backwardData is the transposed
 * convolution: the gradient over the padded input domain is a correlation of zero-margined gy with the
 * flipped, channel-transposed kernel — for stride 2 split into 2³ phases (even/odd virtual positions), each a
 * stride-1 correlation with the sub-set of taps of that parity — and the padded-domain gradient is then folded
 * back: interior positions map 1:1, padding positions add into the voxel they reflect (REFLECT) or vanish (ZERO).
 * backwardWeight is {@link ConvWeightGradient}: per block of 16 input × 16 or 32 output channels and slab of planes,
 * products of staged padded input rows with staged gy (3³ kernels with 16 or 32·m outputs: gy transposed, output
 * channels in the lanes; otherwise lane-wise partial dot products over positions), accumulated in registers over
 * tiles of rows and reduced in a fixed order (independent of the thread count).
 *
 * <p>Supported: k 1 (pad 0) or 3 (pad 1), stride 1 or 2, ZERO or REFLECT padding. Anything else is rejected.
 */
public final class CpuConv3d {
    private CpuConv3d() {
    }

    private static final int OB = ConvCorrelation.OB;

    /** Output size along one axis: (in + 2*pad - k)/stride + 1. */
    public static int outSize(int in, int k, int stride, int pad) {
        return (in + 2 * pad - k) / stride + 1;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // forward

    /** y[N,Co,Do,Ho,Wo] = conv(x[N,Ci,D,H,W], w[Co,Ci,k,k,k]) + bias[Co] (bias may be null). Overwrites y. */
    public static void forward(float[] x, float[] w, float[] bias, float[] y,
                               int n, int ci, int d, int h, int wd, int co, int k, int stride, int pad, Padding padding) {
        String shapes = check(n, ci, d, h, wd, co, k, stride, pad, padding);
        int dO = outSize(d, k, stride, pad), hO = outSize(h, k, stride, pad), wO = outSize(wd, k, stride, pad);
        length("x", x, (long) n * ci * d * h * wd, shapes);
        length("w", w, (long) co * ci * k * k * k, shapes);
        if (bias != null) length("bias", bias, co, shapes);
        length("y", y, (long) n * co * dO * hO * wO, shapes);

        if (k == 1 && stride == 1 && co < OB) {
            pointwiseFewOutputs(x, w, bias, y, n, ci, d * h * wd, co);
            return;
        }
        int[] taps = range(k);
        int mapLen = mapLength(d, h, wd, pad, stride, wO);
        int[] mapD = sourceMap(d, pad, padding, mapLen), mapH = sourceMap(h, pad, padding, mapLen),
                mapW = sourceMap(wd, pad, padding, mapLen);
        float[] pw = pack(w, co, ci, k, taps, taps, taps);
        ConvCorrelation cc = new ConvCorrelation(x, ci, d, h, wd, mapD, mapH, mapW, pad, stride, taps, taps, taps,
                pw, co, hO, wO);
        int rowTile = cc.rowTile(), tiles = ceilDiv(hO, rowTile);
        int planeOut = dO * hO * wO;
        Parallel.forRange(n * dO * tiles, 1, (lo, hi) -> {
            ConvScratch sc = ConvScratch.get();
            float[] buf = sc.first(cc.bufferSize());
            float[] acc = sc.second(cc.tileSize());
            for (int it = lo; it < hi; it++) {
                int tile = it % tiles, od = it / tiles % dO, b = it / tiles / dO;
                int r0 = tile * rowTile, tr = Math.min(rowTile, hO - r0);
                cc.tile(b * ci * d * h * wd, od, r0, tr, bias, buf, acc);
                cc.copyOut(acc, r0, tr, y, b * co * planeOut + od * hO * wO, planeOut);
            }
        });
    }

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    /** Voxels per work item of {@link #pointwiseFewOutputs}. */
    private static final int RUN = 2048;

    /**
     * A 1³ stride-1 conv with fewer output channels than a kernel block (the decoders' class logits, the region head):
     * memory-bound, so per run of voxels each output vector is the bias plus the source channels' vectors times their
     * weights, FMA in source-channel order (the run's sources stay in the cache across the outputs). The block kernel
     * would compute a whole block of 8 outputs, most of them discarded.
     */
    private static void pointwiseFewOutputs(float[] x, float[] w, float[] bias, float[] y, int n, int ci, int sp, int co) {
        int runs = ceilDiv(sp, RUN);
        Parallel.forRange(n * runs, 1, (lo, hi) -> {
            for (int it = lo; it < hi; it++) {
                int b = it / runs;
                int v0 = (it % runs) * RUN;
                fewOutputsRun(x, w, bias, y, b * ci * sp, b * co * sp, v0, Math.min(sp, v0 + RUN), ci, co, sp);
            }
        });
    }

    /** One run [v0, v1) of voxels of {@link #pointwiseFewOutputs} (its own method: compiled early, by call count). */
    private static void fewOutputsRun(float[] x, float[] w, float[] bias, float[] y, int xb, int yb, int v0, int v1,
                                      int ci, int co, int sp) {
        for (int o = 0; o < co; o++) {
            float b0 = bias == null ? 0f : bias[o];
            int wo = o * ci;
            int yo = yb + o * sp;
            int v = v0;
            for (int end = v0 + F.loopBound(v1 - v0); v < end; v += F.length()) {
                FloatVector acc = FloatVector.broadcast(F, b0);
                for (int c = 0; c < ci; c++) {
                    acc = FloatVector.fromArray(F, x, xb + c * sp + v).fma(FloatVector.broadcast(F, w[wo + c]), acc);
                }
                acc.intoArray(y, yo + v);
            }
            for (; v < v1; v++) {
                float acc = b0;
                for (int c = 0; c < ci; c++) acc = Math.fma(x[xb + c * sp + v], w[wo + c], acc);
                y[yo + v] = acc;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // backwardData

    /** gx = dL/dx given gy = dL/dy. Overwrites gx. */
    public static void backwardData(float[] gy, float[] w, float[] gx,
                                    int n, int ci, int d, int h, int wd, int co, int k, int stride, int pad, Padding padding) {
        String shapes = check(n, ci, d, h, wd, co, k, stride, pad, padding);
        int dO = outSize(d, k, stride, pad), hO = outSize(h, k, stride, pad), wO = outSize(wd, k, stride, pad);
        length("gy", gy, (long) n * co * dO * hO * wO, shapes);
        length("w", w, (long) co * ci * k * k * k, shapes);
        length("gx", gx, (long) n * ci * d * h * wd, shapes);

        int s = stride;
        int dp = d + 2 * pad, hp = h + 2 * pad, wp = wd + 2 * pad;
        // Virtual gy coordinates carry a zero margin of `shift` so that every tap offset is >= 0.
        int shift = (k - 1) / s;
        int mapLen = mapLength(d, h, wd, pad, 1, wp) + 2 * k;
        int[] gD = sourceMap(dO, shift, Padding.ZERO, mapLen), gH = sourceMap(hO, shift, Padding.ZERO, mapLen),
                gW = sourceMap(wO, shift, Padding.ZERO, mapLen);
        // Maps from the padded input domain back to x: the fold targets.
        int[] fD = sourceMap(d, pad, padding, mapLen), fH = sourceMap(h, pad, padding, mapLen),
                fW = sourceMap(wd, pad, padding, mapLen);

        // phase[a][b][c]: the correlation producing padded-domain positions (s*P+a, s*R+b, s*C+c); null when no tap
        // has that parity (k = 1, stride 2, odd positions get no gradient).
        ConvCorrelation[][][] phase = new ConvCorrelation[s][s][s];
        int bufSize = 0, gSize = 0;
        for (int a = 0; a < s; a++) {
            for (int b = 0; b < s; b++) {
                for (int c = 0; c < s; c++) {
                    int[][] td = phaseTaps(k, s, a, shift), th = phaseTaps(k, s, b, shift), tw = phaseTaps(k, s, c, shift);
                    if (td[0].length == 0 || th[0].length == 0 || tw[0].length == 0) continue;
                    float[] pw = packTransposed(w, co, ci, k, td[1], th[1], tw[1]);
                    int rows = ceilDiv(hp - b, s), cols = ceilDiv(wp - c, s);
                    ConvCorrelation cc = new ConvCorrelation(gy, co, dO, hO, wO, gD, gH, gW, shift, 1,
                            td[0], th[0], tw[0], pw, ci, rows, cols);
                    phase[a][b][c] = cc;
                    bufSize = Math.max(bufSize, cc.bufferSize());
                    gSize = Math.max(gSize, cc.tileSize());
                }
            }
        }
        // Padded-domain planes z that fold into each input plane id (itself, plus its reflection partner).
        int[][] planesOf = foldSources(fD, dp, d);
        int planeIn = d * h * wd;
        int fBuf = bufSize, fG = gSize;
        Parallel.forRange(n * d, 1, (lo, hi) -> {
            ConvScratch sc = ConvScratch.get();
            float[] buf = sc.first(fBuf);
            float[] g = sc.second(fG);
            for (int it = lo; it < hi; it++) {
                int id = it % d, bn = it / d;
                int gxBase = bn * ci * planeIn + id * h * wd;
                for (int o = 0; o < ci; o++) {
                    java.util.Arrays.fill(gx, gxBase + o * planeIn, gxBase + o * planeIn + h * wd, 0f);
                }
                for (int z : planesOf[id]) {
                    for (int b = 0; b < s; b++) {
                        for (int c = 0; c < s; c++) {
                            ConvCorrelation cc = phase[z % s][b][c];
                            if (cc == null) continue;
                            int rows = cc.rows;
                            for (int r0 = 0; r0 < rows; r0 += cc.rowTile()) {
                                int tr = Math.min(cc.rowTile(), rows - r0);
                                cc.tile(bn * co * dO * hO * wO, z / s, r0, tr, null, buf, g);
                                fold(g, cc.tileRowStride(), cc.rowTile(), cc.cols, r0, tr, b, c, s, ci, gx, gxBase,
                                        planeIn, h, wd, pad, fH, fW);
                            }
                        }
                    }
                }
            }
        });
    }

    /**
     * Adds a tile of the padded-domain gradient phase, g[o][r][C] = position (s*(r0+r)+b, s*C+c), into the gx
     * planes it maps to, for channels o < oValid.
     */
    private static void fold(float[] g, int st, int rowTile, int cols, int r0, int tr, int b, int c, int s, int oValid, float[] gx,
                             int gxBase, int planeIn, int h, int wd, int pad, int[] fH, int[] fW) {
        for (int o = 0; o < oValid; o++) {
            int go = o * rowTile * st, xo = gxBase + o * planeIn;
            for (int r = 0; r < tr; r++) {
                int sh = fH[s * (r0 + r) + b];
                if (sh < 0) continue;
                int gr = go + r * st, xr = xo + sh * wd;
                if (s == 1) {
                    // Interior columns C in [pad, pad+W) map to x column C-pad: a vector add; then the 2*pad edges.
                    int col = 0;
                    for (; col + ConvCorrelation.VL <= wd; col += ConvCorrelation.VL) {
                        var v = jdk.incubator.vector.FloatVector.fromArray(ConvCorrelation.SPECIES, gx, xr + col);
                        v.add(jdk.incubator.vector.FloatVector.fromArray(ConvCorrelation.SPECIES, g, gr + pad + col))
                                .intoArray(gx, xr + col);
                    }
                    for (; col < wd; col++) gx[xr + col] += g[gr + pad + col];
                    for (int e = 0; e < pad; e++) {
                        int left = fW[e], right = fW[pad + wd + e];
                        if (left >= 0) gx[xr + left] += g[gr + e];
                        if (right >= 0) gx[xr + right] += g[gr + pad + wd + e];
                    }
                } else {
                    // Interior: column s*cc+c of the padded domain is x column s*cc+c-pad, no map needed; the
                    // (at most two) padding columns at either end go through the map.
                    int lo = Math.max(0, (pad - c + s - 1) / s), hi = Math.min(cols, (pad + wd - c + s - 1) / s);
                    for (int cc = 0; cc < Math.min(lo, cols); cc++) {
                        int sw = fW[s * cc + c];
                        if (sw >= 0) gx[xr + sw] += g[gr + cc];
                    }
                    int xs = xr + c - pad;
                    for (int cc = lo; cc < hi; cc++) gx[xs + s * cc] += g[gr + cc];
                    for (int cc = Math.max(hi, lo); cc < cols; cc++) {
                        int sw = fW[s * cc + c];
                        if (sw >= 0) gx[xr + sw] += g[gr + cc];
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // backwardWeight

    /** gw = dL/dw, gb = dL/dbias (gb may be null). Overwrites both. */
    public static void backwardWeight(float[] x, float[] gy, float[] gw, float[] gb,
                                      int n, int ci, int d, int h, int wd, int co, int k, int stride, int pad, Padding padding) {
        String shapes = check(n, ci, d, h, wd, co, k, stride, pad, padding);
        int dO = outSize(d, k, stride, pad), hO = outSize(h, k, stride, pad), wO = outSize(wd, k, stride, pad);
        length("x", x, (long) n * ci * d * h * wd, shapes);
        length("gy", gy, (long) n * co * dO * hO * wO, shapes);
        length("gw", gw, (long) co * ci * k * k * k, shapes);
        if (gb != null) length("gb", gb, co, shapes);

        int mapLen = mapLength(d, h, wd, pad, stride, wO);
        ConvWeightGradient kernel = new ConvWeightGradient(x, gy, n, ci, d, h, wd, co, k, stride, pad, dO, hO, wO,
                sourceMap(d, pad, padding, d + 2 * pad), sourceMap(h, pad, padding, mapLen),
                sourceMap(wd, pad, padding, mapLen));
        // Items and slabs depend on the shape only, and the slabs' partial sums are added in order: the result does
        // not depend on the number of threads.
        float[] part = new float[kernel.partLength()];
        Parallel.forRange(kernel.items(), 1, (lo, hi) -> {
            float[] buf = ConvScratch.get().first(kernel.scratchSize());
            for (int it = lo; it < hi; it++) kernel.item(it, part, buf);
        });
        kernel.reduce(part, gw);
        if (gb != null) biasGradient(gy, gb, n, co, dO * hO * wO);
    }

    private static void biasGradient(float[] gy, float[] gb, int n, int co, int plane) {
        var sp = ConvCorrelation.SPECIES;
        int vl = ConvCorrelation.VL;
        Parallel.forRange(co, 1, (lo, hi) -> {
            for (int o = lo; o < hi; o++) {
                var acc = jdk.incubator.vector.FloatVector.zero(sp);
                float tail = 0;
                for (int b = 0; b < n; b++) {
                    int base = (b * co + o) * plane, i = 0;
                    for (; i + vl <= plane; i += vl) acc = acc.add(jdk.incubator.vector.FloatVector.fromArray(sp, gy, base + i));
                    for (; i < plane; i++) tail += gy[base + i];
                }
                // fixed lane order (see ConvWeightGradient): reduceLanes(ADD) may differ between JIT tiers
                float[] lanes = acc.toArray();
                float sum = 0;
                for (float l : lanes) sum += l;
                gb[o] = sum + tail;
            }
        });
    }

    // ---------------------------------------------------------------------------------------------------------------
    // geometry, packing, validation

    /** Long enough for every virtual index any kernel reads: padded extent plus a vector-rounded row with margin. */
    private static int mapLength(int d, int h, int wd, int pad, int s, int wO) {
        int j = ConvCorrelation.roundUp(Math.max(wO, wd + 2 * pad), ConvCorrelation.VL) + 4;
        return Math.max(Math.max(d, h), wd) + 2 * pad + s * j + 8;
    }

    /** Virtual (padded) index v -> source index along an axis of size n padded by pad; -1 reads as zero. */
    static int[] sourceMap(int n, int pad, Padding padding, int len) {
        int[] m = new int[len];
        for (int v = 0; v < len; v++) {
            int i = v - pad;
            if (i >= 0 && i < n) m[v] = i;
            else if (padding == Padding.REFLECT && i >= -pad && i < n + pad) m[v] = i < 0 ? -i : 2 * n - 2 - i;
            else m[v] = -1;
        }
        return m;
    }

    /** For each input plane, the padded-domain planes whose gradient folds into it. */
    private static int[][] foldSources(int[] fD, int dp, int d) {
        List<List<Integer>> lists = new ArrayList<>();
        for (int i = 0; i < d; i++) lists.add(new ArrayList<>());
        for (int z = 0; z < dp; z++) if (fD[z] >= 0) lists.get(fD[z]).add(z);
        int[][] out = new int[d][];
        for (int i = 0; i < d; i++) out[i] = lists.get(i).stream().mapToInt(Integer::intValue).toArray();
        return out;
    }

    /**
     * Taps of one transposed-conv phase along one axis: kernel indices kk with kk ≡ a (mod s); padded position s*P+a
     * reads gy[P + (a-kk)/s], i.e. virtual gy index P + offset with offset = (a-kk)/s + shift >= 0.
     * Returns {offsets, kernel indices}.
     */
    private static int[][] phaseTaps(int k, int s, int a, int shift) {
        int count = 0;
        for (int kk = 0; kk < k; kk++) if ((kk - a) % s == 0) count++;
        int[] off = new int[count], idx = new int[count];
        // Descending kk gives ascending offsets, so stride 1 gets offsets 0, 1, 2 and the unrolled kernel path.
        for (int kk = k - 1, t = 0; kk >= 0; kk--) {
            if ((kk - a) % s != 0) continue;
            off[t] = (a - kk) / s + shift;
            idx[t++] = kk;
        }
        return new int[][]{off, idx};
    }

    private static int[] range(int k) {
        int[] r = new int[k];
        for (int i = 0; i < k; i++) r[i] = i;
        return r;
    }

    /** Packs w[co][ci][k³] as [ceil(co/8)][ci][tap][8], zero-filled past co, taps in (d, h, w) list order. */
    private static float[] pack(float[] w, int co, int ci, int k, int[] kd, int[] kh, int[] kw) {
        int taps = kd.length * kh.length * kw.length, blocks = ceilDiv(co, OB);
        float[] p = new float[blocks * ci * taps * OB];
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < ci; i++) {
                int t = 0;
                for (int a : kd) for (int b : kh) for (int c : kw) {
                    p[((o / OB * ci + i) * taps + t++) * OB + o % OB] = w[(o * ci + i) * k * k * k + (a * k + b) * k + c];
                }
            }
        }
        return p;
    }

    /** Packs the transposed kernel: outputs are x's channels ci, sources gy's channels co. */
    private static float[] packTransposed(float[] w, int co, int ci, int k, int[] kd, int[] kh, int[] kw) {
        int taps = kd.length * kh.length * kw.length, blocks = ceilDiv(ci, OB);
        float[] p = new float[blocks * co * taps * OB];
        for (int o = 0; o < ci; o++) {
            for (int i = 0; i < co; i++) {
                int t = 0;
                for (int a : kd) for (int b : kh) for (int c : kw) {
                    p[((o / OB * co + i) * taps + t++) * OB + o % OB] = w[(i * ci + o) * k * k * k + (a * k + b) * k + c];
                }
            }
        }
        return p;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Validates the configuration; returns a description of it for error messages. */
    private static String check(int n, int ci, int d, int h, int wd, int co, int k, int stride, int pad, Padding padding) {
        String shapes = "conv3d(x=[" + n + "," + ci + "," + d + "," + h + "," + wd + "], w=[" + co + "," + ci + ","
                + k + "," + k + "," + k + "], stride=" + stride + ", pad=" + pad + ", padding=" + padding + ")";
        if (n <= 0 || ci <= 0 || co <= 0 || d <= 0 || h <= 0 || wd <= 0) {
            throw new IllegalArgumentException("conv3d: all dimensions must be positive: " + shapes);
        }
        if (padding == null) throw new IllegalArgumentException("conv3d: padding mode is null: " + shapes);
        if (!((k == 3 && pad == 1) || (k == 1 && pad == 0))) {
            throw new IllegalArgumentException("conv3d: supported kernels are k=3 with pad=1 and k=1 with pad=0: " + shapes);
        }
        if (stride != 1 && stride != 2) {
            throw new IllegalArgumentException("conv3d: stride must be 1 or 2: " + shapes);
        }
        if (padding == Padding.REFLECT && pad > 0 && (d <= pad || h <= pad || wd <= pad)) {
            throw new IllegalArgumentException("conv3d: reflect padding needs every spatial size > pad: " + shapes);
        }
        if (outSize(d, k, stride, pad) <= 0 || outSize(h, k, stride, pad) <= 0 || outSize(wd, k, stride, pad) <= 0) {
            throw new IllegalArgumentException("conv3d: input smaller than the kernel: " + shapes);
        }
        long big = (long) n * Math.max(ci, co) * (d + 2L) * (h + 2L) * (wd + 2L);
        if (big > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("conv3d: tensor too large for a Java array: " + shapes);
        }
        return shapes;
    }

    private static void length(String name, float[] a, long expected, String shapes) {
        if (a == null) throw new IllegalArgumentException("conv3d: " + name + " is null: " + shapes);
        if (a.length != expected) {
            throw new IllegalArgumentException("conv3d: " + name + " has " + a.length + " elements, expected "
                    + expected + ": " + shapes);
        }
    }
}
