package org.cloe4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one vector kernel behind {@link CpuConv3d#forward} and {@link CpuConv3d#backwardData}: a 3D correlation of a
 * virtually padded source with a packed weight block, producing {@link #OB} output channels of one output plane, a
 * tile of rows at a time.
 *
 * <p>Virtual coordinates. The source is read through three index maps (depth, row, column) from "virtual" coordinates
 * to source indices, -1 meaning "zero". Forward uses the padded-input coordinates (reflect or zero); backwardData
 * uses gy with a zero margin. Output (plane p, row r, col c) reads virtual (p*s + offD, r*s + offH, c*s + offW) for
 * every tap in the tap lists, so the same code serves a plain 3×3×3 kernel and the stride-2 transposed-conv phases,
 * whose tap lists are sub-sets of the kernel with shifted offsets.
 *
 * <p>Inner loop. For a tile of rows and a chunk of source channels, the needed source rows are first copied into a
 * per-thread buffer with padding applied and, for stride s, split into s column phases (phase q holds virtual
 * columns s*j+q), so that every tap of every output vector is one contiguous unaligned load. Then per output vector:
 * 8 output channels × 2 adjacent vectors = 16 accumulators live in registers across all source channels of the
 * chunk and all taps; each loaded source vector feeds 8 FMAs and each broadcast weight 2 (chunk2; chunk2k3 is the
 * same with the three column taps of a stride-1 row unrolled, chunk1/chunkHalf handle a row's last vector).
 * All output-channel blocks reuse one staged fill. Results go to a per-thread tile whose rows are whole
 * vectors long, then are copied (forward) or folded (backwardData) out: masked vector loads/stores for the row tails
 * measured 5× slower overall on JDK 25, so the kernel has none. Weights are packed [ob][i][tap][8] so the 8
 * broadcasts of one tap are adjacent.
 */
final class ConvCorrelation {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    /** 8 lanes, for row tails when VL is 16. */
    private static final VectorSpecies<Float> HALF = FloatVector.SPECIES_256;
    /** Output channels computed together: 8 accumulators + 1 input + broadcasts fit the 16 (AVX2) or 32 registers. */
    static final int OB = 8;
    /** Output rows per tile: halo rows ((k-1) per tile) stay a small fraction while the buffer stays in L2. */
    static final int ROW_TILE = 8;
    /** Source channels staged per buffer fill; bounds the buffer to CH_CHUNK*3*(ROW_TILE*s+2)*s*J floats. */
    static final int CH_CHUNK = 8;

    private final float[] src;
    private final int srcCh, srcD, srcH, srcW;
    private final int[] mapD, mapH, mapW;
    private final int s;
    private final int[] offD, offH, offW;
    private final int nd, nh, nw, taps, maxOffH;
    private final int[] loadOff; // per column tap: phase*J + offW/s
    private final boolean unrolledTaps; // column taps load at +0, +1, +2: use chunk2k3
    private final float[] pw;
    private final int outCh;
    final int rows, cols;
    private final int j; // buffer row length per phase
    // The columns whose map is the identity shifted by runShift: copied with arraycopy when s == 1.
    private final int runLo, runHi, runShift;

    ConvCorrelation(float[] src, int srcCh, int srcD, int srcH, int srcW, int[] mapD, int[] mapH, int[] mapW,
                    int colShift, int s, int[] offD, int[] offH, int[] offW, float[] packedWeights, int outCh, int rows,
                    int cols) {
        this.src = src;
        this.outCh = outCh;
        this.srcCh = srcCh;
        this.srcD = srcD;
        this.srcH = srcH;
        this.srcW = srcW;
        this.mapD = mapD;
        this.mapH = mapH;
        this.mapW = mapW;
        this.s = s;
        this.offD = offD;
        this.offH = offH;
        this.offW = offW;
        this.nd = offD.length;
        this.nh = offH.length;
        this.nw = offW.length;
        this.taps = nd * nh * nw;
        int mh = 0, mw = 0;
        for (int o : offH) mh = Math.max(mh, o);
        for (int o : offW) mw = Math.max(mw, o);
        this.maxOffH = mh;
        this.pw = packedWeights;
        this.rows = rows;
        this.cols = cols;
        this.j = roundUp(cols, VL) + mw / s + 1;
        this.loadOff = new int[nw];
        for (int t = 0; t < nw; t++) loadOff[t] = (offW[t] % s) * j + offW[t] / s;
        this.unrolledTaps = nw == 3 && loadOff[0] == 0 && loadOff[1] == 1 && loadOff[2] == 2;
        this.runShift = colShift;
        this.runLo = Math.max(0, colShift);
        this.runHi = Math.min(j * s, colShift + srcW);
    }

    static int roundUp(int a, int b) {
        return (a + b - 1) / b * b;
    }

    /** Floats of per-thread buffer {@link #tile} needs. */
    int bufferSize() {
        int rn = (ROW_TILE - 1) * s + maxOffH + 1;
        return CH_CHUNK * nd * rn * s * j;
    }

    /** Source channels (the reduction length), for packing. */
    int taps() {
        return taps;
    }

    /** Row stride of the accumulator tile: whole vectors, so the kernel never needs a masked load or store. */
    int tileRowStride() {
        return roundUp(cols, VL);
    }

    /** Floats of the per-thread accumulator tile: output channels (whole blocks) × ROW_TILE rows × row stride. */
    int tileSize() {
        return roundUp(outCh, OB) * ROW_TILE * tileRowStride();
    }

    /**
     * Computes rows [r0, r0+tr) of output plane {@code plane} for all output channels o into
     * tile[o*ROW_TILE*stride + r*stride + c] (r relative to r0; stride = {@link #tileRowStride()}), bias added when
     * non-null. Columns past {@link #cols} hold junk. The caller copies or folds the tile into its destination.
     */
    void tile(int srcBase, int plane, int r0, int tr, float[] bias, float[] buf, float[] tile) {
        int rn = (tr - 1) * s + maxOffH + 1;
        for (int i0 = 0; i0 < srcCh; i0 += CH_CHUNK) {
            int ic = Math.min(CH_CHUNK, srcCh - i0);
            // One fill serves every output-channel block: the staging cost is paid once per source row, not per block.
            fill(buf, srcBase, i0, ic, plane, r0, rn);
            for (int ob = 0; ob * OB < outCh; ob++) {
                accumulate(buf, rn, ob, Math.min(OB, outCh - ob * OB), i0, ic, tr, tile, i0 == 0, bias);
            }
        }
    }

    /** Copies the tr rows of a tile to out[outBase + o*outChStride + (r0+r)*cols + c] for every output channel. */
    void copyOut(float[] tile, int r0, int tr, float[] out, int outBase, int outChStride) {
        int st = tileRowStride();
        for (int o = 0; o < outCh; o++) {
            for (int r = 0; r < tr; r++) {
                System.arraycopy(tile, (o * ROW_TILE + r) * st, out, outBase + o * outChStride + (r0 + r) * cols, cols);
            }
        }
    }

    /** Copies the padded, phase-split source rows of one row tile and channel chunk into buf. */
    private void fill(float[] buf, int srcBase, int i0, int ic, int plane, int r0, int rn) {
        int sj = s * j;
        for (int i = 0; i < ic; i++) {
            for (int td = 0; td < nd; td++) {
                int sd = mapD[plane * s + offD[td]];
                for (int yl = 0; yl < rn; yl++) {
                    int dst = ((i * nd + td) * rn + yl) * sj;
                    int sh = sd < 0 ? -1 : mapH[r0 * s + yl];
                    if (sh < 0) {
                        java.util.Arrays.fill(buf, dst, dst + sj, 0f);
                        continue;
                    }
                    int row = srcBase + (((i0 + i) * srcD + sd) * srcH + sh) * srcW;
                    if (s == 1) {
                        // Bulk of the row is a straight copy; only the padding columns go through the map.
                        for (int x = 0; x < runLo; x++) buf[dst + x] = mapped(row, mapW[x]);
                        if (runHi > runLo) System.arraycopy(src, row + runLo - runShift, buf, dst + runLo, runHi - runLo);
                        for (int x = Math.max(runHi, runLo); x < j; x++) buf[dst + x] = mapped(row, mapW[x]);
                    } else {
                        for (int q = 0; q < s; q++) {
                            int d = dst + q * j;
                            for (int jj = 0, x = q; jj < j; jj++, x += s) buf[d + jj] = mapped(row, mapW[x]);
                        }
                    }
                }
            }
        }
    }

    private float mapped(int row, int sw) {
        return sw < 0 ? 0f : src[row + sw];
    }

    private void accumulate(float[] buf, int rn, int ob, int oValid, int i0, int ic, int tr, float[] tile,
                            boolean first, float[] bias) {
        int r = 0;
        // Blocks with few valid channels (4-channel layers, 1-channel outputs, the tail block of co = 4 mod 8) use
        // kernels that spend their registers on more rows instead of absent channels: same summation order per
        // output element, so the results are bit-identical to the 8-channel path.
        if (oValid == 1) {
            for (; r + 4 <= tr; r += 4) {
                int c = 0;
                for (; c + VL < cols; c += 2 * VL) single4(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
                for (int q = 0; q < 4; q++) rowTail(buf, rn, ob, oValid, i0, ic, r + q, c, tile, first, bias);
            }
        } else if (oValid <= 4) {
            for (; r + 2 <= tr; r += 2) {
                int c = 0;
                for (; c + VL < cols; c += 2 * VL) quad2(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
                for (int q = 0; q < 2; q++) rowTail(buf, rn, ob, oValid, i0, ic, r + q, c, tile, first, bias);
            }
        }
        for (; r < tr; r++) {
            int c = 0;
            if (unrolledTaps) {
                for (; c + VL < cols; c += 2 * VL) chunk2k3(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
            } else {
                for (; c + VL < cols; c += 2 * VL) chunk2(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
            }
            rowTail(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
        }
    }

    /** The last columns [c, cols) of row r, narrower than two vectors. */
    private void rowTail(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                         boolean first, float[] bias) {
        if (c >= cols) return;
        if (VL == 16 && cols - c <= 8) chunkHalf(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
        else chunk1(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
    }

    /** Channels 0..3 of the block, rows r and r+1, columns c..c+2VL-1: 16 accumulators, 4 loads + 4 broadcasts per tap. */
    private void quad2(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                       boolean first, float[] bias) {
        final int sj = s * j, rs = s * sj;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = tileRowStride(), cs = ROW_TILE * st;
        int o = ob * OB * cs + r * st + c;
        FloatVector a0, a1, a2, a3, b0, b1, b2, b3, p0, p1, p2, p3, q0, q1, q2, q3;
        if (first) {
            a0 = init(bias, ob, 0, oValid);
            a1 = init(bias, ob, 1, oValid);
            a2 = init(bias, ob, 2, oValid);
            a3 = init(bias, ob, 3, oValid);
            b0 = a0; b1 = a1; b2 = a2; b3 = a3;
            p0 = a0; p1 = a1; p2 = a2; p3 = a3;
            q0 = a0; q1 = a1; q2 = a2; q3 = a3;
        } else {
            a0 = FloatVector.fromArray(SPECIES, tile, o);
            b0 = FloatVector.fromArray(SPECIES, tile, o + VL);
            p0 = FloatVector.fromArray(SPECIES, tile, o + st);
            q0 = FloatVector.fromArray(SPECIES, tile, o + st + VL);
            a1 = FloatVector.fromArray(SPECIES, tile, o + cs);
            b1 = FloatVector.fromArray(SPECIES, tile, o + cs + VL);
            p1 = FloatVector.fromArray(SPECIES, tile, o + cs + st);
            q1 = FloatVector.fromArray(SPECIES, tile, o + cs + st + VL);
            a2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs);
            b2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs + VL);
            p2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs + st);
            q2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs + st + VL);
            a3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs);
            b3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs + VL);
            p3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs + st);
            q3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs + st + VL);
        }
        for (int i = 0; i < ic; i++) {
            int wb = (ob * srcCh + i0 + i) * taps * OB;
            for (int td = 0; td < nd; td++) {
                int plane = (i * nd + td) * rn + r * s;
                for (int th = 0; th < nh; th++) {
                    int rowOff = (plane + offH[th]) * sj + c;
                    for (int tw = 0; tw < nw; tw++, wb += OB) {
                        int at = rowOff + loadOff[tw];
                        FloatVector v = FloatVector.fromArray(SPECIES, buf, at);
                        FloatVector u = FloatVector.fromArray(SPECIES, buf, at + VL);
                        FloatVector v2 = FloatVector.fromArray(SPECIES, buf, at + rs);
                        FloatVector u2 = FloatVector.fromArray(SPECIES, buf, at + rs + VL);
                        FloatVector w0 = FloatVector.broadcast(SPECIES, pw[wb]);
                        a0 = v.fma(w0, a0);
                        b0 = u.fma(w0, b0);
                        p0 = v2.fma(w0, p0);
                        q0 = u2.fma(w0, q0);
                        FloatVector w1 = FloatVector.broadcast(SPECIES, pw[wb + 1]);
                        a1 = v.fma(w1, a1);
                        b1 = u.fma(w1, b1);
                        p1 = v2.fma(w1, p1);
                        q1 = u2.fma(w1, q1);
                        FloatVector w2 = FloatVector.broadcast(SPECIES, pw[wb + 2]);
                        a2 = v.fma(w2, a2);
                        b2 = u.fma(w2, b2);
                        p2 = v2.fma(w2, p2);
                        q2 = u2.fma(w2, q2);
                        FloatVector w3 = FloatVector.broadcast(SPECIES, pw[wb + 3]);
                        a3 = v.fma(w3, a3);
                        b3 = u.fma(w3, b3);
                        p3 = v2.fma(w3, p3);
                        q3 = u2.fma(w3, q3);
                    }
                }
            }
        }
        a0.intoArray(tile, o);
        b0.intoArray(tile, o + VL);
        p0.intoArray(tile, o + st);
        q0.intoArray(tile, o + st + VL);
        a1.intoArray(tile, o + cs);
        b1.intoArray(tile, o + cs + VL);
        p1.intoArray(tile, o + cs + st);
        q1.intoArray(tile, o + cs + st + VL);
        a2.intoArray(tile, o + 2 * cs);
        b2.intoArray(tile, o + 2 * cs + VL);
        p2.intoArray(tile, o + 2 * cs + st);
        q2.intoArray(tile, o + 2 * cs + st + VL);
        a3.intoArray(tile, o + 3 * cs);
        b3.intoArray(tile, o + 3 * cs + VL);
        p3.intoArray(tile, o + 3 * cs + st);
        q3.intoArray(tile, o + 3 * cs + st + VL);
    }

    /** Channel 0 of the block, rows r..r+3, columns c..c+2VL-1: 8 accumulators, 8 loads + 1 broadcast per tap. */
    private void single4(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                         boolean first, float[] bias) {
        final int sj = s * j, rs = s * sj;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = tileRowStride();
        int o = ob * OB * ROW_TILE * st + r * st + c;
        FloatVector a0, b0, a1, b1, a2, b2, a3, b3;
        if (first) {
            a0 = init(bias, ob, 0, oValid);
            b0 = a0; a1 = a0; b1 = a0; a2 = a0; b2 = a0; a3 = a0; b3 = a0;
        } else {
            a0 = FloatVector.fromArray(SPECIES, tile, o);
            b0 = FloatVector.fromArray(SPECIES, tile, o + VL);
            a1 = FloatVector.fromArray(SPECIES, tile, o + st);
            b1 = FloatVector.fromArray(SPECIES, tile, o + st + VL);
            a2 = FloatVector.fromArray(SPECIES, tile, o + 2 * st);
            b2 = FloatVector.fromArray(SPECIES, tile, o + 2 * st + VL);
            a3 = FloatVector.fromArray(SPECIES, tile, o + 3 * st);
            b3 = FloatVector.fromArray(SPECIES, tile, o + 3 * st + VL);
        }
        for (int i = 0; i < ic; i++) {
            int wb = (ob * srcCh + i0 + i) * taps * OB;
            for (int td = 0; td < nd; td++) {
                int plane = (i * nd + td) * rn + r * s;
                for (int th = 0; th < nh; th++) {
                    int rowOff = (plane + offH[th]) * sj + c;
                    for (int tw = 0; tw < nw; tw++, wb += OB) {
                        int at = rowOff + loadOff[tw];
                        FloatVector w0 = FloatVector.broadcast(SPECIES, pw[wb]);
                        a0 = FloatVector.fromArray(SPECIES, buf, at).fma(w0, a0);
                        b0 = FloatVector.fromArray(SPECIES, buf, at + VL).fma(w0, b0);
                        a1 = FloatVector.fromArray(SPECIES, buf, at + rs).fma(w0, a1);
                        b1 = FloatVector.fromArray(SPECIES, buf, at + rs + VL).fma(w0, b1);
                        a2 = FloatVector.fromArray(SPECIES, buf, at + 2 * rs).fma(w0, a2);
                        b2 = FloatVector.fromArray(SPECIES, buf, at + 2 * rs + VL).fma(w0, b2);
                        a3 = FloatVector.fromArray(SPECIES, buf, at + 3 * rs).fma(w0, a3);
                        b3 = FloatVector.fromArray(SPECIES, buf, at + 3 * rs + VL).fma(w0, b3);
                    }
                }
            }
        }
        a0.intoArray(tile, o);
        b0.intoArray(tile, o + VL);
        a1.intoArray(tile, o + st);
        b1.intoArray(tile, o + st + VL);
        a2.intoArray(tile, o + 2 * st);
        b2.intoArray(tile, o + 2 * st + VL);
        a3.intoArray(tile, o + 3 * st);
        b3.intoArray(tile, o + 3 * st + VL);
    }

    /** One output vector (columns c..c+VL-1 of row r) for the 8 channels. */
    private void chunk1(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                        boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = tileRowStride(), cs = ROW_TILE * st;
        int o = ob * OB * cs + r * st + c;
        FloatVector a0, a1, a2, a3, a4, a5, a6, a7;
        if (first) {
            a0 = init(bias, ob, 0, oValid);
            a1 = init(bias, ob, 1, oValid);
            a2 = init(bias, ob, 2, oValid);
            a3 = init(bias, ob, 3, oValid);
            a4 = init(bias, ob, 4, oValid);
            a5 = init(bias, ob, 5, oValid);
            a6 = init(bias, ob, 6, oValid);
            a7 = init(bias, ob, 7, oValid);
        } else {
            a0 = FloatVector.fromArray(SPECIES, tile, o);
            a1 = FloatVector.fromArray(SPECIES, tile, o + cs);
            a2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs);
            a3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs);
            a4 = FloatVector.fromArray(SPECIES, tile, o + 4 * cs);
            a5 = FloatVector.fromArray(SPECIES, tile, o + 5 * cs);
            a6 = FloatVector.fromArray(SPECIES, tile, o + 6 * cs);
            a7 = FloatVector.fromArray(SPECIES, tile, o + 7 * cs);
        }
        for (int i = 0; i < ic; i++) {
            int wb = (ob * srcCh + i0 + i) * taps * OB;
            for (int td = 0; td < nd; td++) {
                int plane = (i * nd + td) * rn + r * s;
                for (int th = 0; th < nh; th++) {
                    int rowOff = (plane + offH[th]) * sj + c;
                    for (int tw = 0; tw < nw; tw++, wb += OB) {
                        FloatVector v = FloatVector.fromArray(SPECIES, buf, rowOff + loadOff[tw]);
                        a0 = v.fma(FloatVector.broadcast(SPECIES, pw[wb]), a0);
                        a1 = v.fma(FloatVector.broadcast(SPECIES, pw[wb + 1]), a1);
                        a2 = v.fma(FloatVector.broadcast(SPECIES, pw[wb + 2]), a2);
                        a3 = v.fma(FloatVector.broadcast(SPECIES, pw[wb + 3]), a3);
                        a4 = v.fma(FloatVector.broadcast(SPECIES, pw[wb + 4]), a4);
                        a5 = v.fma(FloatVector.broadcast(SPECIES, pw[wb + 5]), a5);
                        a6 = v.fma(FloatVector.broadcast(SPECIES, pw[wb + 6]), a6);
                        a7 = v.fma(FloatVector.broadcast(SPECIES, pw[wb + 7]), a7);
                    }
                }
            }
        }
        a0.intoArray(tile, o);
        a1.intoArray(tile, o + cs);
        a2.intoArray(tile, o + 2 * cs);
        a3.intoArray(tile, o + 3 * cs);
        a4.intoArray(tile, o + 4 * cs);
        a5.intoArray(tile, o + 5 * cs);
        a6.intoArray(tile, o + 6 * cs);
        a7.intoArray(tile, o + 7 * cs);
    }

    /** Like chunk1 with half-width vectors: for a row tail of at most VL/2 columns (e.g. 66 = 4×16 + 2). */
    private void chunkHalf(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                        boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = tileRowStride(), cs = ROW_TILE * st;
        int o = ob * OB * cs + r * st + c;
        FloatVector a0, a1, a2, a3, a4, a5, a6, a7;
        if (first) {
            a0 = initHalf(bias, ob, 0, oValid);
            a1 = initHalf(bias, ob, 1, oValid);
            a2 = initHalf(bias, ob, 2, oValid);
            a3 = initHalf(bias, ob, 3, oValid);
            a4 = initHalf(bias, ob, 4, oValid);
            a5 = initHalf(bias, ob, 5, oValid);
            a6 = initHalf(bias, ob, 6, oValid);
            a7 = initHalf(bias, ob, 7, oValid);
        } else {
            a0 = FloatVector.fromArray(HALF, tile, o);
            a1 = FloatVector.fromArray(HALF, tile, o + cs);
            a2 = FloatVector.fromArray(HALF, tile, o + 2 * cs);
            a3 = FloatVector.fromArray(HALF, tile, o + 3 * cs);
            a4 = FloatVector.fromArray(HALF, tile, o + 4 * cs);
            a5 = FloatVector.fromArray(HALF, tile, o + 5 * cs);
            a6 = FloatVector.fromArray(HALF, tile, o + 6 * cs);
            a7 = FloatVector.fromArray(HALF, tile, o + 7 * cs);
        }
        for (int i = 0; i < ic; i++) {
            int wb = (ob * srcCh + i0 + i) * taps * OB;
            for (int td = 0; td < nd; td++) {
                int plane = (i * nd + td) * rn + r * s;
                for (int th = 0; th < nh; th++) {
                    int rowOff = (plane + offH[th]) * sj + c;
                    for (int tw = 0; tw < nw; tw++, wb += OB) {
                        FloatVector v = FloatVector.fromArray(HALF, buf, rowOff + loadOff[tw]);
                        a0 = v.fma(FloatVector.broadcast(HALF, pw[wb]), a0);
                        a1 = v.fma(FloatVector.broadcast(HALF, pw[wb + 1]), a1);
                        a2 = v.fma(FloatVector.broadcast(HALF, pw[wb + 2]), a2);
                        a3 = v.fma(FloatVector.broadcast(HALF, pw[wb + 3]), a3);
                        a4 = v.fma(FloatVector.broadcast(HALF, pw[wb + 4]), a4);
                        a5 = v.fma(FloatVector.broadcast(HALF, pw[wb + 5]), a5);
                        a6 = v.fma(FloatVector.broadcast(HALF, pw[wb + 6]), a6);
                        a7 = v.fma(FloatVector.broadcast(HALF, pw[wb + 7]), a7);
                    }
                }
            }
        }
        a0.intoArray(tile, o);
        a1.intoArray(tile, o + cs);
        a2.intoArray(tile, o + 2 * cs);
        a3.intoArray(tile, o + 3 * cs);
        a4.intoArray(tile, o + 4 * cs);
        a5.intoArray(tile, o + 5 * cs);
        a6.intoArray(tile, o + 6 * cs);
        a7.intoArray(tile, o + 7 * cs);
    }

    /** Two adjacent output vectors (columns c..c+2VL-1 of row r): each broadcast weight feeds two FMAs. */
    private void chunk2(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                        boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = tileRowStride(), cs = ROW_TILE * st;
        int o = ob * OB * cs + r * st + c;
        FloatVector a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7;
        if (first) {
            a0 = init(bias, ob, 0, oValid);
            b0 = a0;
            a1 = init(bias, ob, 1, oValid);
            b1 = a1;
            a2 = init(bias, ob, 2, oValid);
            b2 = a2;
            a3 = init(bias, ob, 3, oValid);
            b3 = a3;
            a4 = init(bias, ob, 4, oValid);
            b4 = a4;
            a5 = init(bias, ob, 5, oValid);
            b5 = a5;
            a6 = init(bias, ob, 6, oValid);
            b6 = a6;
            a7 = init(bias, ob, 7, oValid);
            b7 = a7;
        } else {
            a0 = FloatVector.fromArray(SPECIES, tile, o);
            b0 = FloatVector.fromArray(SPECIES, tile, o + VL);
            a1 = FloatVector.fromArray(SPECIES, tile, o + cs);
            b1 = FloatVector.fromArray(SPECIES, tile, o + cs + VL);
            a2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs);
            b2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs + VL);
            a3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs);
            b3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs + VL);
            a4 = FloatVector.fromArray(SPECIES, tile, o + 4 * cs);
            b4 = FloatVector.fromArray(SPECIES, tile, o + 4 * cs + VL);
            a5 = FloatVector.fromArray(SPECIES, tile, o + 5 * cs);
            b5 = FloatVector.fromArray(SPECIES, tile, o + 5 * cs + VL);
            a6 = FloatVector.fromArray(SPECIES, tile, o + 6 * cs);
            b6 = FloatVector.fromArray(SPECIES, tile, o + 6 * cs + VL);
            a7 = FloatVector.fromArray(SPECIES, tile, o + 7 * cs);
            b7 = FloatVector.fromArray(SPECIES, tile, o + 7 * cs + VL);
        }
        for (int i = 0; i < ic; i++) {
            int wb = (ob * srcCh + i0 + i) * taps * OB;
            for (int td = 0; td < nd; td++) {
                int plane = (i * nd + td) * rn + r * s;
                for (int th = 0; th < nh; th++) {
                    int rowOff = (plane + offH[th]) * sj + c;
                    for (int tw = 0; tw < nw; tw++, wb += OB) {
                        FloatVector v = FloatVector.fromArray(SPECIES, buf, rowOff + loadOff[tw]);
                        FloatVector u = FloatVector.fromArray(SPECIES, buf, rowOff + loadOff[tw] + VL);
                        FloatVector w0 = FloatVector.broadcast(SPECIES, pw[wb]);
                        a0 = v.fma(w0, a0);
                        b0 = u.fma(w0, b0);
                        FloatVector w1 = FloatVector.broadcast(SPECIES, pw[wb + 1]);
                        a1 = v.fma(w1, a1);
                        b1 = u.fma(w1, b1);
                        FloatVector w2 = FloatVector.broadcast(SPECIES, pw[wb + 2]);
                        a2 = v.fma(w2, a2);
                        b2 = u.fma(w2, b2);
                        FloatVector w3 = FloatVector.broadcast(SPECIES, pw[wb + 3]);
                        a3 = v.fma(w3, a3);
                        b3 = u.fma(w3, b3);
                        FloatVector w4 = FloatVector.broadcast(SPECIES, pw[wb + 4]);
                        a4 = v.fma(w4, a4);
                        b4 = u.fma(w4, b4);
                        FloatVector w5 = FloatVector.broadcast(SPECIES, pw[wb + 5]);
                        a5 = v.fma(w5, a5);
                        b5 = u.fma(w5, b5);
                        FloatVector w6 = FloatVector.broadcast(SPECIES, pw[wb + 6]);
                        a6 = v.fma(w6, a6);
                        b6 = u.fma(w6, b6);
                        FloatVector w7 = FloatVector.broadcast(SPECIES, pw[wb + 7]);
                        a7 = v.fma(w7, a7);
                        b7 = u.fma(w7, b7);
                    }
                }
            }
        }
        a0.intoArray(tile, o);
        b0.intoArray(tile, o + VL);
        a1.intoArray(tile, o + cs);
        b1.intoArray(tile, o + cs + VL);
        a2.intoArray(tile, o + 2 * cs);
        b2.intoArray(tile, o + 2 * cs + VL);
        a3.intoArray(tile, o + 3 * cs);
        b3.intoArray(tile, o + 3 * cs + VL);
        a4.intoArray(tile, o + 4 * cs);
        b4.intoArray(tile, o + 4 * cs + VL);
        a5.intoArray(tile, o + 5 * cs);
        b5.intoArray(tile, o + 5 * cs + VL);
        a6.intoArray(tile, o + 6 * cs);
        b6.intoArray(tile, o + 6 * cs + VL);
        a7.intoArray(tile, o + 7 * cs);
        b7.intoArray(tile, o + 7 * cs + VL);
    }

    /** chunk2 for stride 1 with three column taps at offsets 0, 1, 2 (every k=3 stride-1 conv): taps unrolled. */
    private void chunk2k3(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                        boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = tileRowStride(), cs = ROW_TILE * st;
        int o = ob * OB * cs + r * st + c;
        FloatVector a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7;
        if (first) {
            a0 = init(bias, ob, 0, oValid);
            b0 = a0;
            a1 = init(bias, ob, 1, oValid);
            b1 = a1;
            a2 = init(bias, ob, 2, oValid);
            b2 = a2;
            a3 = init(bias, ob, 3, oValid);
            b3 = a3;
            a4 = init(bias, ob, 4, oValid);
            b4 = a4;
            a5 = init(bias, ob, 5, oValid);
            b5 = a5;
            a6 = init(bias, ob, 6, oValid);
            b6 = a6;
            a7 = init(bias, ob, 7, oValid);
            b7 = a7;
        } else {
            a0 = FloatVector.fromArray(SPECIES, tile, o);
            b0 = FloatVector.fromArray(SPECIES, tile, o + VL);
            a1 = FloatVector.fromArray(SPECIES, tile, o + cs);
            b1 = FloatVector.fromArray(SPECIES, tile, o + cs + VL);
            a2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs);
            b2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs + VL);
            a3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs);
            b3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs + VL);
            a4 = FloatVector.fromArray(SPECIES, tile, o + 4 * cs);
            b4 = FloatVector.fromArray(SPECIES, tile, o + 4 * cs + VL);
            a5 = FloatVector.fromArray(SPECIES, tile, o + 5 * cs);
            b5 = FloatVector.fromArray(SPECIES, tile, o + 5 * cs + VL);
            a6 = FloatVector.fromArray(SPECIES, tile, o + 6 * cs);
            b6 = FloatVector.fromArray(SPECIES, tile, o + 6 * cs + VL);
            a7 = FloatVector.fromArray(SPECIES, tile, o + 7 * cs);
            b7 = FloatVector.fromArray(SPECIES, tile, o + 7 * cs + VL);
        }
        for (int i = 0; i < ic; i++) {
            int wb = (ob * srcCh + i0 + i) * taps * OB;
            for (int td = 0; td < nd; td++) {
                int plane = (i * nd + td) * rn + r * s;
                for (int th = 0; th < nh; th++) {
                    int rowOff = (plane + offH[th]) * sj + c;
                    FloatVector v0 = FloatVector.fromArray(SPECIES, buf, rowOff);
                    FloatVector u0 = FloatVector.fromArray(SPECIES, buf, rowOff + VL);
                    FloatVector w0_0 = FloatVector.broadcast(SPECIES, pw[wb]);
                    a0 = v0.fma(w0_0, a0);
                    b0 = u0.fma(w0_0, b0);
                    FloatVector w1_0 = FloatVector.broadcast(SPECIES, pw[wb + 1]);
                    a1 = v0.fma(w1_0, a1);
                    b1 = u0.fma(w1_0, b1);
                    FloatVector w2_0 = FloatVector.broadcast(SPECIES, pw[wb + 2]);
                    a2 = v0.fma(w2_0, a2);
                    b2 = u0.fma(w2_0, b2);
                    FloatVector w3_0 = FloatVector.broadcast(SPECIES, pw[wb + 3]);
                    a3 = v0.fma(w3_0, a3);
                    b3 = u0.fma(w3_0, b3);
                    FloatVector w4_0 = FloatVector.broadcast(SPECIES, pw[wb + 4]);
                    a4 = v0.fma(w4_0, a4);
                    b4 = u0.fma(w4_0, b4);
                    FloatVector w5_0 = FloatVector.broadcast(SPECIES, pw[wb + 5]);
                    a5 = v0.fma(w5_0, a5);
                    b5 = u0.fma(w5_0, b5);
                    FloatVector w6_0 = FloatVector.broadcast(SPECIES, pw[wb + 6]);
                    a6 = v0.fma(w6_0, a6);
                    b6 = u0.fma(w6_0, b6);
                    FloatVector w7_0 = FloatVector.broadcast(SPECIES, pw[wb + 7]);
                    a7 = v0.fma(w7_0, a7);
                    b7 = u0.fma(w7_0, b7);
                    FloatVector v1 = FloatVector.fromArray(SPECIES, buf, rowOff + 1);
                    FloatVector u1 = FloatVector.fromArray(SPECIES, buf, rowOff + 1 + VL);
                    FloatVector w0_1 = FloatVector.broadcast(SPECIES, pw[wb + 8]);
                    a0 = v1.fma(w0_1, a0);
                    b0 = u1.fma(w0_1, b0);
                    FloatVector w1_1 = FloatVector.broadcast(SPECIES, pw[wb + 9]);
                    a1 = v1.fma(w1_1, a1);
                    b1 = u1.fma(w1_1, b1);
                    FloatVector w2_1 = FloatVector.broadcast(SPECIES, pw[wb + 10]);
                    a2 = v1.fma(w2_1, a2);
                    b2 = u1.fma(w2_1, b2);
                    FloatVector w3_1 = FloatVector.broadcast(SPECIES, pw[wb + 11]);
                    a3 = v1.fma(w3_1, a3);
                    b3 = u1.fma(w3_1, b3);
                    FloatVector w4_1 = FloatVector.broadcast(SPECIES, pw[wb + 12]);
                    a4 = v1.fma(w4_1, a4);
                    b4 = u1.fma(w4_1, b4);
                    FloatVector w5_1 = FloatVector.broadcast(SPECIES, pw[wb + 13]);
                    a5 = v1.fma(w5_1, a5);
                    b5 = u1.fma(w5_1, b5);
                    FloatVector w6_1 = FloatVector.broadcast(SPECIES, pw[wb + 14]);
                    a6 = v1.fma(w6_1, a6);
                    b6 = u1.fma(w6_1, b6);
                    FloatVector w7_1 = FloatVector.broadcast(SPECIES, pw[wb + 15]);
                    a7 = v1.fma(w7_1, a7);
                    b7 = u1.fma(w7_1, b7);
                    FloatVector v2 = FloatVector.fromArray(SPECIES, buf, rowOff + 2);
                    FloatVector u2 = FloatVector.fromArray(SPECIES, buf, rowOff + 2 + VL);
                    FloatVector w0_2 = FloatVector.broadcast(SPECIES, pw[wb + 16]);
                    a0 = v2.fma(w0_2, a0);
                    b0 = u2.fma(w0_2, b0);
                    FloatVector w1_2 = FloatVector.broadcast(SPECIES, pw[wb + 17]);
                    a1 = v2.fma(w1_2, a1);
                    b1 = u2.fma(w1_2, b1);
                    FloatVector w2_2 = FloatVector.broadcast(SPECIES, pw[wb + 18]);
                    a2 = v2.fma(w2_2, a2);
                    b2 = u2.fma(w2_2, b2);
                    FloatVector w3_2 = FloatVector.broadcast(SPECIES, pw[wb + 19]);
                    a3 = v2.fma(w3_2, a3);
                    b3 = u2.fma(w3_2, b3);
                    FloatVector w4_2 = FloatVector.broadcast(SPECIES, pw[wb + 20]);
                    a4 = v2.fma(w4_2, a4);
                    b4 = u2.fma(w4_2, b4);
                    FloatVector w5_2 = FloatVector.broadcast(SPECIES, pw[wb + 21]);
                    a5 = v2.fma(w5_2, a5);
                    b5 = u2.fma(w5_2, b5);
                    FloatVector w6_2 = FloatVector.broadcast(SPECIES, pw[wb + 22]);
                    a6 = v2.fma(w6_2, a6);
                    b6 = u2.fma(w6_2, b6);
                    FloatVector w7_2 = FloatVector.broadcast(SPECIES, pw[wb + 23]);
                    a7 = v2.fma(w7_2, a7);
                    b7 = u2.fma(w7_2, b7);
                    wb += 3 * OB;
                }
            }
        }
        a0.intoArray(tile, o);
        b0.intoArray(tile, o + VL);
        a1.intoArray(tile, o + cs);
        b1.intoArray(tile, o + cs + VL);
        a2.intoArray(tile, o + 2 * cs);
        b2.intoArray(tile, o + 2 * cs + VL);
        a3.intoArray(tile, o + 3 * cs);
        b3.intoArray(tile, o + 3 * cs + VL);
        a4.intoArray(tile, o + 4 * cs);
        b4.intoArray(tile, o + 4 * cs + VL);
        a5.intoArray(tile, o + 5 * cs);
        b5.intoArray(tile, o + 5 * cs + VL);
        a6.intoArray(tile, o + 6 * cs);
        b6.intoArray(tile, o + 6 * cs + VL);
        a7.intoArray(tile, o + 7 * cs);
        b7.intoArray(tile, o + 7 * cs + VL);
    }

    private static FloatVector initHalf(float[] bias, int ob, int k, int oValid) {
        return bias != null && k < oValid ? FloatVector.broadcast(HALF, bias[ob * OB + k]) : FloatVector.zero(HALF);
    }

    private static FloatVector init(float[] bias, int ob, int k, int oValid) {
        return bias != null && k < oValid ? FloatVector.broadcast(SPECIES, bias[ob * OB + k]) : FloatVector.zero(SPECIES);
    }
}
