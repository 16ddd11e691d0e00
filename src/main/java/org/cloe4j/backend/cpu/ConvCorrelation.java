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
 * columns s*j+q), so that every tap of every output vector is one contiguous unaligned load. Then per pair of output
 * vectors (adjacent in a row, or the last of one row and the first of the next): 8 output channels × 2 vectors = 16
 * accumulators live in registers across all source channels of the chunk and all taps; each loaded source vector
 * feeds 8 FMAs and each broadcast weight 2 (the micro-kernels are in {@link ConvTileKernels}: chunk2; in {@link ConvUnrolledTapKernels} chunk2k3,
 * chunk2k2, chunk2k1 the same with the three, two or one column taps unrolled, chunk2k3 (stride 1) as a loop over the
 * chunk's (channel, kd) planes per kh row, the others walking (source channel, kd, kh) as one flat loop with the
 * staged-row offsets from a per-tile table, so that the weight index is linear in the loop counter; chunk1/chunkHalf
 * for a last single vector, quad2/single4 blocks of 4 or 1 valid channels). Stride-1 3³ correlations with whole
 * 8-channel blocks whose rows are narrower than their vector-rounded width (28 or 56 columns) use a flat layout
 * instead ({@link #flatRowStride}): vectors run on across row ends, so less of each vector is padding.
 * All output-channel blocks reuse one staged fill. Results go to a per-thread tile whose rows are whole
 * vectors long, then are copied (forward) or folded (backwardData) out: masked vector loads/stores for the row tails
 * measured 5× slower overall on JDK 25, so the kernel has none. Weights are packed [ob][i][tap][8] so the 8
 * broadcasts of one tap are adjacent.
 */
final class ConvCorrelation {
    static final VectorSpecies<Float> SPECIES = FloatVector.SPECIES_PREFERRED;
    static final int VL = SPECIES.length();
    /** Output channels computed together: 8 accumulators + 1 input + broadcasts fit the 16 (AVX2) or 32 registers. */
    static final int OB = 8;
    /** Output rows per tile: halo rows ((k-1) per tile) stay a small fraction while the buffer stays in L2. */
    static final int ROW_TILE = 8;
    /**
     * Output rows per tile in the flat layout ({@link #flatRowStride}): 16 rows of 28 or 56 columns (stride 30 or 58)
     * are an even number of vectors, so a tile runs in pairs only, and its two halo rows are a smaller share.
     */
    static final int FLAT_ROW_TILE = 16;
    /**
     * Source channels staged per buffer fill for a full 3³ kernel; bounds the buffer to CH_CHUNK*3*(ROW_TILE*s+2)*s*J
     * floats. Correlations with fewer taps (1³ convs, backwardData's stride-2 phases of 1–8 taps) stage more
     * channels per fill ({@link #chChunk}), so that each kernel call still runs about CH_CHUNK*27 taps between
     * loading and storing its accumulators; the summation order is the same for any chunk size.
     */
    static final int CH_CHUNK = 8;

    private final float[] src;
    private final int srcCh, srcD, srcH, srcW;
    private final int[] mapD, mapH, mapW;
    private final int s;
    private final int[] offD, offH, offW;
    private final int nd, nh, nw, taps, maxOffH;
    private final int[] loadOff; // per column tap: phase*J + offW/s
    private final boolean unrolledTaps; // three row and column taps: chunk2k3 (chunk2k3Phases at stride 2)
    private final boolean unitCols; // column taps at staged offsets 0, 1, 2 (stride 1): chunk2k3's constants
    // Flat rows (see flatRowStride): staged rows and tile rows share one stride of cols + 2 (even), and output vectors
    // run on across row ends, so rows of 28 or 56 columns no longer pay for 32 or 64.
    private final boolean flat;
    private final int st; // accumulator tile row stride
    private final int rowTile; // output rows per tile: ROW_TILE, twice that in the flat layout
    private final int outCh;
    final int rows, cols;
    private final int j; // buffer row length per phase
    // The columns whose map is the identity shifted by runShift: copied with arraycopy when s == 1.
    private final int runLo, runHi, runShift;
    private final ConvUnrolledTapKernels kernels;
    private final int chChunk; // source channels per fill

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
        this.rows = rows;
        this.cols = cols;
        this.unrolledTaps = nw == 3 && nh == 3;
        this.unitCols = s == 1 && nw == 3 && offW[0] == 0 && offW[1] == 1 && offW[2] == 2;
        int stFlat = flatRowStride(cols);
        this.flat = unrolledTaps && unitCols && outCh % OB == 0 && !(VL == 16 && cols <= 8)
                && stFlat < roundUp(cols, VL);
        this.rowTile = flat ? FLAT_ROW_TILE : ROW_TILE;
        this.j = flat ? stFlat : roundUp(cols, VL) + mw / s + 1;
        this.st = flat ? stFlat : roundUp(cols, VL);
        this.loadOff = new int[nw];
        for (int t = 0; t < nw; t++) loadOff[t] = (offW[t] % s) * j + offW[t] / s;
        this.runShift = colShift;
        this.runLo = Math.max(0, colShift);
        this.runHi = Math.min(j * s, colShift + srcW);
        this.chChunk = Math.min(Math.max(CH_CHUNK, CH_CHUNK * 27 / taps), Math.max(CH_CHUNK, srcCh));
        this.kernels = new ConvUnrolledTapKernels(packedWeights, srcCh, taps, s, j, st, rowTile * st, offH, loadOff, nd,
                nh, nw);
    }

    static int roundUp(int a, int b) {
        return (a + b - 1) / b * b;
    }

    /**
     * Row stride of the flat layout for a stride-1 3³ correlation: cols + 2 (the two extra columns are the last taps'
     * halo, and junk in the tile), rounded up so that {@link #ROW_TILE} rows are whole vectors. An output vector then
     * covers flat positions q..q+VL-1 of the tile, row r column c at q = r*st + c, and reads the staged source at
     * q + kh*st + kw: the same flat offset, because staged rows have the same stride. Positions with c >= cols are
     * junk and are never copied out; {@link #FLAT_ROW_TILE} rows are a whole number of vector pairs, so the last
     * vector of a tile ends at or before FLAT_ROW_TILE*st and a full tile needs no single-vector kernel.
     */
    static int flatRowStride(int cols) {
        int m = 2 * VL / gcd(FLAT_ROW_TILE, 2 * VL);
        return roundUp(cols + 2, m);
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /** Floats of per-thread buffer {@link #tile} needs. */
    int bufferSize() {
        int rn = (rowTile - 1) * s + maxOffH + 1;
        // flat: the last vectors of a tile read up to VL - 1 floats past the last staged row (junk outputs only)
        return chChunk * nd * rn * s * j + (flat ? VL : 0);
    }

    /** Source channels (the reduction length), for packing. */
    int taps() {
        return taps;
    }

    /** Row stride of the accumulator tile: whole vectors, so the kernel never needs a masked load or store. */
    int tileRowStride() {
        return st;
    }

    /** Output rows per tile: {@link #ROW_TILE}, or {@link #FLAT_ROW_TILE} in the flat layout. */
    int rowTile() {
        return rowTile;
    }

    /** Floats of the per-thread accumulator tile: output channels (whole blocks) × ROW_TILE rows × row stride. */
    int tileSize() {
        return roundUp(outCh, OB) * rowTile * st;
    }

    /**
     * Computes rows [r0, r0+tr) of output plane {@code plane} for all output channels o into
     * tile[(o*rowTile + r)*stride + c] (r relative to r0; stride = {@link #tileRowStride()}, rowTile = {@link #rowTile()}), bias added when
     * non-null. Columns past {@link #cols} hold junk. The caller copies or folds the tile into its destination.
     */
    void tile(int srcBase, int plane, int r0, int tr, float[] bias, float[] buf, float[] tile) {
        int rn = (tr - 1) * s + maxOffH + 1;
        // rows[(i*nd + td)*nh + th]: offset in buf of the staged row that output row 0 of the tile reads for source
        // channel i of a chunk at taps td, th (the unrolled-tap kernels walk (i, td, th) as one flat loop)
        int[] rows = new int[chChunk * nd * nh];
        for (int i = 0, t = 0; i < chChunk; i++) {
            for (int td = 0; td < nd; td++) {
                for (int th = 0; th < nh; th++) rows[t++] = ((i * nd + td) * rn + offH[th]) * s * j;
            }
        }
        for (int i0 = 0; i0 < srcCh; i0 += chChunk) {
            int ic = Math.min(chChunk, srcCh - i0);
            // One fill serves every output-channel block: the staging cost is paid once per source row, not per block.
            fill(buf, srcBase, i0, ic, plane, r0, rn);
            for (int ob = 0; ob * OB < outCh; ob++) {
                accumulate(buf, rn, rows, ob, Math.min(OB, outCh - ob * OB), i0, ic, tr, tile, i0 == 0, bias);
            }
        }
    }

    /** Copies the tr rows of a tile to out[outBase + o*outChStride + (r0+r)*cols + c] for every output channel. */
    void copyOut(float[] tile, int r0, int tr, float[] out, int outBase, int outChStride) {
        int st = tileRowStride();
        for (int o = 0; o < outCh; o++) {
            for (int r = 0; r < tr; r++) {
                System.arraycopy(tile, (o * rowTile + r) * st, out, outBase + o * outChStride + (r0 + r) * cols, cols);
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

    private void accumulate(float[] buf, int rn, int[] rows, int ob, int oValid, int i0, int ic, int tr, float[] tile,
                            boolean first, float[] bias) {
        if (flat) {
            accumulateFlat(buf, rn, ob, oValid, i0, ic, tr, tile, first, bias);
            return;
        }
        if (oValid > 4 && !(VL == 16 && cols <= 8)) {
            accumulatePairs(buf, rn, rows, ob, oValid, i0, ic, tr, tile, first, bias);
            return;
        }
        int r = 0;
        // Blocks with few valid channels (4-channel layers, 1-channel outputs, the tail block of co = 4 mod 8) use
        // kernels that spend their registers on more rows instead of absent channels: same summation order per
        // output element, so the results are bit-identical to the 8-channel path.
        if (oValid == 1) {
            for (; r + 4 <= tr; r += 4) {
                int c = 0;
                for (; c + VL < cols; c += 2 * VL) kernels.single4(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
                for (int q = 0; q < 4; q++) rowTail(buf, rn, ob, oValid, i0, ic, r + q, c, tile, first, bias);
            }
        } else if (oValid <= 4) {
            for (; r + 2 <= tr; r += 2) {
                int c = 0;
                for (; c + VL < cols; c += 2 * VL) kernels.quad2(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
                for (int q = 0; q < 2; q++) rowTail(buf, rn, ob, oValid, i0, ic, r + q, c, tile, first, bias);
            }
        }
        for (; r < tr; r++) {
            int c = 0;
            if (unrolledTaps) {
                for (; c + VL < cols; c += 2 * VL) {
                    if (unitCols) kernels.chunk2k3(buf, rn, ob, oValid, i0, ic, r, c, VL, VL, tile, first, bias);
                    else kernels.chunk2k3Phases(buf, rows, ob, oValid, i0, ic, r, c, VL, VL, tile, first, bias);
                }
            } else {
                for (; c + VL < cols; c += 2 * VL) kernels.chunk2(buf, rn, ob, oValid, i0, ic, r, c, VL, VL, tile, first, bias);
            }
            rowTail(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
        }
    }

    /**
     * Blocks of more than 4 valid channels: the tile's output vectors (tr rows × ceil(cols/VL) vectors, row-major) in
     * pairs for chunk2 / chunk2k3, a pair straddling two rows where a row has an odd number of vectors, so narrow
     * levels (a row of one vector, e.g. 14 columns) get the register reuse of wide ones (2 loads + 8 broadcasts per
     * 16 FMAs rather than 1 + 8 per 8); an odd last vector goes to chunk1. (Three vectors × 8 channels = 24
     * accumulators measured 4× slower on JDK 25: C2 spills.)
     */
    private void accumulatePairs(float[] buf, int rn, int[] rows, int ob, int oValid, int i0, int ic, int tr, float[] tile,
                                 boolean first, float[] bias) {
        int nf = (cols + VL - 1) / VL, total = tr * nf, rs = s * s * j, st = tileRowStride();
        int q = 0;
        for (; q + 2 <= total; q += 2) {
            int r0 = q / nf, c0 = q % nf, r1 = (q + 1) / nf, c1 = (q + 1) % nf;
            int d1 = (r1 - r0) * rs + (c1 - c0) * VL, e1 = (r1 - r0) * st + (c1 - c0) * VL;
            if (unrolledTaps && unitCols) kernels.chunk2k3(buf, rn, ob, oValid, i0, ic, r0, c0 * VL, d1, e1, tile, first, bias);
            else if (unrolledTaps) kernels.chunk2k3Phases(buf, rows, ob, oValid, i0, ic, r0, c0 * VL, d1, e1, tile, first, bias);
            else if (nw == 1) kernels.chunk2k1(buf, rows, ob, oValid, i0, ic, r0, c0 * VL, d1, e1, tile, first, bias);
            else if (nw == 2) kernels.chunk2k2(buf, rows, ob, oValid, i0, ic, r0, c0 * VL, d1, e1, tile, first, bias);
            else kernels.chunk2(buf, rn, ob, oValid, i0, ic, r0, c0 * VL, d1, e1, tile, first, bias);
        }
        if (q < total) kernels.chunk1(buf, rn, ob, oValid, i0, ic, q / nf, q % nf * VL, tile, first, bias);
    }

    /**
     * The flat layout ({@link #flatRowStride}): the tile's output vectors at flat positions 0, VL, 2VL, ... up to the
     * last valid column of row tr-1, in pairs for chunk2k3 (the second vector VL further on in both the staged rows
     * and the tile), an odd last one to chunk1.
     */
    private void accumulateFlat(float[] buf, int rn, int ob, int oValid, int i0, int ic, int tr, float[] tile,
                                boolean first, float[] bias) {
        int total = ((tr - 1) * st + cols + VL - 1) / VL;
        int q = 0;
        for (; q + 2 <= total; q += 2) kernels.chunk2k3(buf, rn, ob, oValid, i0, ic, 0, q * VL, VL, VL, tile, first, bias);
        if (q < total) kernels.chunk1(buf, rn, ob, oValid, i0, ic, 0, q * VL, tile, first, bias);
    }

    /** The last columns [c, cols) of row r, narrower than two vectors. */
    private void rowTail(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                         boolean first, float[] bias) {
        if (c >= cols) return;
        if (VL == 16 && cols - c <= 8) kernels.chunkHalf(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
        else kernels.chunk1(buf, rn, ob, oValid, i0, ic, r, c, tile, first, bias);
    }
}
