package org.cloe4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import static org.cloe4j.backend.cpu.ConvCorrelation.OB;
import static org.cloe4j.backend.cpu.ConvCorrelation.SPECIES;
import static org.cloe4j.backend.cpu.ConvCorrelation.VL;

/**
 * The register-blocked micro-kernels of {@link ConvCorrelation}: each computes a block of output vectors for up to
 * {@link ConvCorrelation#OB} output channels from the per-thread buffer of staged (padded, phase-split) source rows,
 * accumulating over a chunk of source channels and every tap, and adds into (or, on the first chunk, initialises
 * with the bias) the accumulator tile. One instance holds the geometry of one correlation's staged buffer and its
 * packed weights; {@link ConvCorrelation} stages the rows and picks the kernel per row and column block.
 *
 * <p>Common parameters: buf the staged rows, rn staged rows per (channel, depth tap), ob the output-channel block,
 * oValid its valid channels, [i0, i0+ic) the source-channel chunk, r the tile row, c the first column, tile the
 * accumulator tile ([channel][rows per tile][row stride]), first whether this is the chunk that initialises it.
 * The variants of chunk2 with the column taps unrolled are in {@link ConvUnrolledTapKernels}.
 */
class ConvTileKernels {
    /** 8 lanes, for row tails when VL is 16. */
    private static final VectorSpecies<Float> HALF = FloatVector.SPECIES_256;

    final float[] pw;
    final int srcCh, taps, s, j, st, cs;
    final int[] offH, loadOff;
    final int nd, nh, nw;

    /**
     * @param pw weights packed [ob][source channel][tap][8]; srcCh source channels; taps taps per source channel;
     *           s stride; j staged row length per column phase; st accumulator tile row stride; cs its channel
     *           stride (rows per tile × st); offH the row-tap
     *           offsets; loadOff per column tap its offset in a staged row; nd, nh, nw taps per axis
     */
    ConvTileKernels(float[] pw, int srcCh, int taps, int s, int j, int st, int cs, int[] offH, int[] loadOff, int nd,
                    int nh, int nw) {
        this.pw = pw;
        this.srcCh = srcCh;
        this.taps = taps;
        this.s = s;
        this.j = j;
        this.st = st;
        this.cs = cs;
        this.offH = offH;
        this.loadOff = loadOff;
        this.nd = nd;
        this.nh = nh;
        this.nw = nw;
    }

    /** Channels 0..3 of the block, rows r and r+1, columns c..c+2VL-1: 16 accumulators, 4 loads + 4 broadcasts per tap. */
    void quad2(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                       boolean first, float[] bias) {
        final int sj = s * j, rs = s * sj;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = this.st, cs = this.cs;
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
    void single4(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                         boolean first, float[] bias) {
        final int sj = s * j, rs = s * sj;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = this.st;
        int o = ob * OB * cs + r * st + c;
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
    void chunk1(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                        boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = this.st, cs = this.cs;
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
    void chunkHalf(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, float[] tile,
                        boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = this.st, cs = this.cs;
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

    /**
     * Two output vectors for the 8 channels: columns c..c+VL-1 of row r, and the vector at staged-buffer offset d1 /
     * tile offset e1 from it (the next VL columns, or on narrow levels the first vector of the next row): each
     * broadcast weight feeds two FMAs.
     */
    void chunk2(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, int d1, int e1,
                float[] tile,
                        boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] offH = this.offH, loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh, nw = this.nw;
        final int st = this.st, cs = this.cs;
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
            b0 = FloatVector.fromArray(SPECIES, tile, o + e1);
            a1 = FloatVector.fromArray(SPECIES, tile, o + cs);
            b1 = FloatVector.fromArray(SPECIES, tile, o + cs + e1);
            a2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs);
            b2 = FloatVector.fromArray(SPECIES, tile, o + 2 * cs + e1);
            a3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs);
            b3 = FloatVector.fromArray(SPECIES, tile, o + 3 * cs + e1);
            a4 = FloatVector.fromArray(SPECIES, tile, o + 4 * cs);
            b4 = FloatVector.fromArray(SPECIES, tile, o + 4 * cs + e1);
            a5 = FloatVector.fromArray(SPECIES, tile, o + 5 * cs);
            b5 = FloatVector.fromArray(SPECIES, tile, o + 5 * cs + e1);
            a6 = FloatVector.fromArray(SPECIES, tile, o + 6 * cs);
            b6 = FloatVector.fromArray(SPECIES, tile, o + 6 * cs + e1);
            a7 = FloatVector.fromArray(SPECIES, tile, o + 7 * cs);
            b7 = FloatVector.fromArray(SPECIES, tile, o + 7 * cs + e1);
        }
        for (int i = 0; i < ic; i++) {
            int wb = (ob * srcCh + i0 + i) * taps * OB;
            for (int td = 0; td < nd; td++) {
                int plane = (i * nd + td) * rn + r * s;
                for (int th = 0; th < nh; th++) {
                    int rowOff = (plane + offH[th]) * sj + c;
                    for (int tw = 0; tw < nw; tw++, wb += OB) {
                        FloatVector v = FloatVector.fromArray(SPECIES, buf, rowOff + loadOff[tw]);
                        FloatVector u = FloatVector.fromArray(SPECIES, buf, rowOff + loadOff[tw] + d1);
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
        b0.intoArray(tile, o + e1);
        a1.intoArray(tile, o + cs);
        b1.intoArray(tile, o + cs + e1);
        a2.intoArray(tile, o + 2 * cs);
        b2.intoArray(tile, o + 2 * cs + e1);
        a3.intoArray(tile, o + 3 * cs);
        b3.intoArray(tile, o + 3 * cs + e1);
        a4.intoArray(tile, o + 4 * cs);
        b4.intoArray(tile, o + 4 * cs + e1);
        a5.intoArray(tile, o + 5 * cs);
        b5.intoArray(tile, o + 5 * cs + e1);
        a6.intoArray(tile, o + 6 * cs);
        b6.intoArray(tile, o + 6 * cs + e1);
        a7.intoArray(tile, o + 7 * cs);
        b7.intoArray(tile, o + 7 * cs + e1);
    }

    private static FloatVector initHalf(float[] bias, int ob, int k, int oValid) {
        return bias != null && k < oValid ? FloatVector.broadcast(HALF, bias[ob * OB + k]) : FloatVector.zero(HALF);
    }

    static FloatVector init(float[] bias, int ob, int k, int oValid) {
        return bias != null && k < oValid ? FloatVector.broadcast(SPECIES, bias[ob * OB + k]) : FloatVector.zero(SPECIES);
    }
}
