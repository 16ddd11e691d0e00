package org.cloe4j.backend.cpu;

import jdk.incubator.vector.FloatVector;

import static org.cloe4j.backend.cpu.ConvCorrelation.OB;
import static org.cloe4j.backend.cpu.ConvCorrelation.SPECIES;

/**
 * {@link ConvTileKernels#chunk2} with the column taps unrolled: three (every 3³ conv), one (1³ convs, backwardData's
 * stride-2 phases) or two (backwardData's stride-2 phases). Same slots and, except chunk2k3 (kh rows outermost, see
 * there), the same order of additions as chunk2, so their results are bit-identical to it; the unrolling keeps the 16 accumulators and the tap's loads in registers, which
 * the JIT does not do for chunk2's loop over the taps. Each kernel is written out in full on purpose: factoring the
 * accumulator initialisation or the stores into helpers would move the accumulators into arrays and off registers.
 */
final class ConvUnrolledTapKernels extends ConvTileKernels {
    ConvUnrolledTapKernels(float[] pw, int srcCh, int taps, int s, int j, int st, int cs, int[] offH, int[] loadOff,
                           int nd, int nh, int nw) {
        super(pw, srcCh, taps, s, j, st, cs, offH, loadOff, nd, nh, nw);
    }

    /**
     * chunk2 (same slots) with the three column taps unrolled, for stride 1 (every stride-1 3³ conv, forward and
     * backwardData): for each of the three kh rows, a loop over (source channel, kd), the staged planes of the
     * channel chunk. In that inner loop the row offset (plane × plane length + the kh row's) and the weight index
     * (plane × 72 + the kh row's) are both linear in the counter, with no per-step table read or select, and the
     * column taps are the constant offsets 0, 1, 2 from the row, so the three loads of a vector share their bound
     * checks. The sum of a chunk therefore runs kh-major (all planes of kh row 0, then row 1, then 2), not in
     * chunk2's (channel, kd, kh) order: deterministic (the chunk size depends on the shape only) but rounded
     * differently from chunk2 and chunk1. About 10 % faster than the (channel, kd) loop with an inner kh loop, and as
     * fast as that loop with the kh rows unrolled, which C1 could not compile (3.9 kB: "out of virtual registers");
     * this one is 1.9 kB. rn: staged rows per (source channel, depth tap).
     */
    void chunk2k3(float[] buf, int rn, int ob, int oValid, int i0, int ic, int r, int c, int d1, int e1,
                  float[] tile, boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int nd = this.nd, nh = this.nh;
        final int st = this.st, cs = this.cs;
        final int l0 = 0, l1 = 1, l2 = 2;
        final int[] offH = this.offH;
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
        // Per kh row, one loop over the staged planes (source channel, kd): row offset and weight index linear in p.
        final int rowBase = r * s * sj + c, np = ic * nd, planeLen = rn * sj;
        final int h0 = offH[0] * sj, h1 = offH[1] * sj, h2 = offH[2] * sj;
        final int wBase = (ob * srcCh + i0) * taps * OB;
        for (int th = 0; th < 3; th++) {
          final int hOff = (th == 0 ? h0 : th == 1 ? h1 : h2) + rowBase, wTh = wBase + th * 3 * OB;
          for (int p = 0; p < np; p++) {
            int rowOff = p * planeLen + hOff;
            int wb = wTh + p * 9 * OB;
            FloatVector v0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0);
            FloatVector u0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0 + d1);
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
            FloatVector v1 = FloatVector.fromArray(SPECIES, buf, rowOff + l1);
            FloatVector u1 = FloatVector.fromArray(SPECIES, buf, rowOff + l1 + d1);
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
            FloatVector v2 = FloatVector.fromArray(SPECIES, buf, rowOff + l2);
            FloatVector u2 = FloatVector.fromArray(SPECIES, buf, rowOff + l2 + d1);
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

    /**
     * chunk2 (same slots) with three column taps unrolled, for the phase-split rows of stride 2 (taps at 0, j, 1: every
     * stride-2 3³ conv's forward): one flat loop over (source channel, kd, kh), the row offsets from a per-tile table.
     */
    void chunk2k3Phases(float[] buf, int[] rows, int ob, int oValid, int i0, int ic, int r, int c, int d1, int e1,
                  float[] tile, boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh;
        final int st = this.st, cs = this.cs;
        final int l0 = loadOff[0], l1 = loadOff[1], l2 = loadOff[2];
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
        // One flat loop over (source channel, kd, kh) in that order: the weight index is linear in it, so the JIT
        // checks its bounds once before the loop instead of 24 times per (channel, kd).
        final int rowBase = r * s * sj + c, nt = ic * nd * nh;
        int wb = (ob * srcCh + i0) * taps * OB;
        for (int t = 0; t < nt; t++) {
            int rowOff = rows[t] + rowBase;
            FloatVector v0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0);
            FloatVector u0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0 + d1);
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
            FloatVector v1 = FloatVector.fromArray(SPECIES, buf, rowOff + l1);
            FloatVector u1 = FloatVector.fromArray(SPECIES, buf, rowOff + l1 + d1);
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
            FloatVector v2 = FloatVector.fromArray(SPECIES, buf, rowOff + l2);
            FloatVector u2 = FloatVector.fromArray(SPECIES, buf, rowOff + l2 + d1);
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

    /** chunk2 (same slots) with one column tap unrolled (1³ convs and backwardData's stride-2 phases). */
    void chunk2k1(float[] buf, int[] rows, int ob, int oValid, int i0, int ic, int r, int c, int d1, int e1,
                float[] tile, boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh;
        final int st = this.st, cs = this.cs;
        final int l0 = loadOff[0];
        int o = ob * OB * cs + r * st + c;
        FloatVector a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, a6, b6, a7, b7;
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
        // One flat loop over (source channel, kd, kh), as in chunk2k3.
        final int rowBase = r * s * sj + c, nt = ic * nd * nh;
        int wb = (ob * srcCh + i0) * taps * OB;
        for (int t = 0; t < nt; t++) {
            int rowOff = rows[t] + rowBase;
            FloatVector v0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0);
            FloatVector u0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0 + d1);
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
            wb += OB;
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

    /** chunk2 (same slots) with two column taps unrolled (backwardData's stride-2 phases). */
    void chunk2k2(float[] buf, int[] rows, int ob, int oValid, int i0, int ic, int r, int c, int d1, int e1,
                float[] tile, boolean first, float[] bias) {
        final int sj = s * j;
        final float[] pw = this.pw;
        final int[] loadOff = this.loadOff;
        final int nd = this.nd, nh = this.nh;
        final int st = this.st, cs = this.cs;
        final int l0 = loadOff[0], l1 = loadOff[1];
        int o = ob * OB * cs + r * st + c;
        FloatVector a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5, a6, b6, a7, b7;
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
        // One flat loop over (source channel, kd, kh), as in chunk2k3.
        final int rowBase = r * s * sj + c, nt = ic * nd * nh;
        int wb = (ob * srcCh + i0) * taps * OB;
        for (int t = 0; t < nt; t++) {
            int rowOff = rows[t] + rowBase;
            FloatVector v0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0);
            FloatVector u0 = FloatVector.fromArray(SPECIES, buf, rowOff + l0 + d1);
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
            FloatVector v1 = FloatVector.fromArray(SPECIES, buf, rowOff + l1);
            FloatVector u1 = FloatVector.fromArray(SPECIES, buf, rowOff + l1 + d1);
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
            wb += 2 * OB;
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
}
