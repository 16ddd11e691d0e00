package org.cloe4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Kernel of {@link CpuConv3d#backwardWeight}: gw[co][ci][kd][kh][kw] = sum over (n, od, oh, ow) of
 * gy[n][co][od][oh][ow] * xpad[n][ci][od*s+kd][oh*s+kh][ow*s+kw].
 *
 * <p>One work item is one input channel ci and a slab of (n, od) output planes. It keeps lane-wise partial sums
 * for all (co, tap) in a per-thread buffer and reduces lanes only once at the end, because a horizontal reduction
 * per row would cost as much as the row's FMAs. Per (row tile, kd, kh, block of 8 co) it holds 8×3 accumulators
 * (8 co × 3 kw) in registers: each step loads 8 gy vectors and 3 input vectors for 24 FMAs.
 *
 * <p>Padded input planes (reflect/zero padding applied, columns split into s phases so every kw is a contiguous
 * load) are built once per (n, ci, virtual plane) in a ring of k slots: consecutive od share k-s of their k planes.
 */
final class ConvWeightGradient {
    private static final VectorSpecies<Float> SPECIES = ConvCorrelation.SPECIES;
    private static final int VL = ConvCorrelation.VL;
    private static final int OB = ConvCorrelation.OB;
    /**
     * Output rows per accumulator round trip, at least 8: as many as keep the staged gy tile (8 co × rows × row
     * stride) near 16 KiB, so narrow levels (14³, 28³) reload their accumulators and re-stage gy less often. The
     * tile height does not change the order in which any accumulator lane sums its terms.
     */
    private final int rowTile;

    private final float[] x, gy;
    private final int ci, d, h, wd, co, k, s, dOut, hOut, wOut, hp, j;
    private final int[] mapD, mapH, mapW;

    ConvWeightGradient(float[] x, float[] gy, int ci, int d, int h, int wd, int co, int k, int s, int dOut, int hOut,
                       int wOut, int hp, int[] mapD, int[] mapH, int[] mapW) {
        this.x = x;
        this.gy = gy;
        this.ci = ci;
        this.d = d;
        this.h = h;
        this.wd = wd;
        this.co = co;
        this.k = k;
        this.s = s;
        this.dOut = dOut;
        this.hOut = hOut;
        this.wOut = wOut;
        this.hp = hp;
        this.mapD = mapD;
        this.mapH = mapH;
        this.mapW = mapW;
        this.j = ConvCorrelation.roundUp(wOut, VL) + (k - 1) / s + 1;
        this.rowTile = Math.min(Math.max(1, hOut), Math.max(8, 4096 / (OB * ConvCorrelation.roundUp(wOut, VL))));
    }

    private int planeLen() {
        return hp * s * j;
    }

    /** Per-thread floats one work item needs: k plane slots, the lane-wise partial sums, the staged gy tile. */
    int scratchSize() {
        return k * planeLen() + partialLen() + stageLen();
    }

    private int stageStride() {
        return ConvCorrelation.roundUp(wOut, VL);
    }

    private int stageLen() {
        return OB * rowTile * stageStride();
    }

    private int partialLen() {
        return ConvCorrelation.roundUp(co, OB) * k * k * k * VL;
    }

    /**
     * Accumulates input channel c's gradient over the flattened (n, od) range [lo, hi) and writes the lane-reduced
     * sums to part[partBase + co*k³ + tap].
     */
    void item(int c, int lo, int hi, float[] part, int partBase, float[] buf) {
        int pl = planeLen();
        int acc = k * pl;
        int stage = acc + partialLen();
        int k3 = k * k * k;
        Arrays.fill(buf, acc, acc + partialLen(), 0f);
        long[] tags = new long[k];
        Arrays.fill(tags, -1);
        int dp = mapD.length;
        for (int f = lo; f < hi; f++) {
            int b = f / dOut, od = f % dOut;
            int[] slot = new int[k];
            for (int kd = 0; kd < k; kd++) {
                int z = od * s + kd;
                int sl = z % k;
                long tag = (long) b * dp + z;
                if (tags[sl] != tag) {
                    fillPlane(buf, sl * pl, b, c, mapD[z]);
                    tags[sl] = tag;
                }
                slot[kd] = sl * pl;
            }
            for (int oh0 = 0; oh0 < hOut; oh0 += rowTile) {
                int oh1 = Math.min(hOut, oh0 + rowTile);
                for (int ob = 0; ob * OB < co; ob++) {
                    stageGy(buf, stage, b, ob, od, oh0, oh1);
                    for (int kd = 0; kd < k; kd++) {
                        for (int kh = 0; kh < k; kh++) {
                            int accBase = acc + ((ob * OB) * k3 + (kd * k + kh) * k) * VL;
                            if (k == 3) {
                                int half = 4 * rowTile * stageStride(), cs = k3 * VL;
                                rows3(buf, slot[kd], kh, stage, accBase, cs, oh0, oh1);
                                rows3(buf, slot[kd], kh, stage + half, accBase + 4 * cs, cs, oh0, oh1);
                            } else {
                                rows1(buf, slot[kd], stage, accBase, k3 * VL, oh0, oh1);
                            }
                        }
                    }
                }
            }
        }
        for (int o = 0; o < co; o++) {
            for (int t = 0; t < k3; t++) {
                // lanes summed in a fixed order: reduceLanes(ADD) leaves the order open, and it differs between
                // the interpreter and C2, which would make training results depend on JIT warm-up
                int base = acc + (o * k3 + t) * VL;
                float sum = 0;
                for (int l = 0; l < VL; l++) sum += buf[base + l];
                part[partBase + o * k3 + t] = sum;
            }
        }
    }

    /**
     * Copies gy rows [oh0, oh1) of channels ob*8.. of plane od into buf at stage as [8][rowTile][whole vectors],
     * zero past wOut and for channels past co, so the inner loops need no masked loads (which JDK 25 runs slowly).
     */
    private void stageGy(float[] buf, int stage, int b, int ob, int od, int oh0, int oh1) {
        int st = stageStride(), valid = Math.min(OB, co - ob * OB);
        // Only what the kernels read is written: rows [oh0, oh1) of all 8 channels, each a whole number of vectors.
        for (int c = 0; c < OB; c++) {
            int g = ((b * co + ob * OB + c) * dOut + od) * hOut * wOut;
            for (int oh = oh0; oh < oh1; oh++) {
                int dst = stage + (c * rowTile + oh - oh0) * st;
                if (c < valid) {
                    System.arraycopy(gy, g + oh * wOut, buf, dst, wOut);
                    if (st > wOut) Arrays.fill(buf, dst + wOut, dst + st, 0f);
                } else {
                    Arrays.fill(buf, dst, dst + st, 0f);
                }
            }
        }
    }

    /** Pads input plane sd (-1: a zero plane) of (b, c) into buf at base, rows hp, each row split into s phases. */
    private void fillPlane(float[] buf, int base, int b, int c, int sd) {
        int sj = s * j;
        for (int y = 0; y < hp; y++) {
            int dst = base + y * sj;
            int sh = sd < 0 ? -1 : mapH[y];
            if (sh < 0) {
                Arrays.fill(buf, dst, dst + sj, 0f);
                continue;
            }
            int row = (((b * ci + c) * d + sd) * h + sh) * wd;
            for (int q = 0; q < s; q++) {
                int dd = dst + q * j;
                for (int jj = 0, xx = q; jj < j; jj++, xx += s) {
                    int sw = mapW[xx];
                    buf[dd + jj] = sw < 0 ? 0f : x[row + sw];
                }
            }
        }
    }

    /**
     * k = 3: 4 co × 3 kw accumulators for one (kd, kh) over output rows [oh0, oh1); channels c0..c0+3 of the block.
     * Four, not eight, channels per call: 24 accumulators made the method too big for C2, which then gave up inlining
     * and boxed vectors (4× slower).
     */
    private void rows3(float[] buf, int plane, int kh, int stage, int accBase, int cs, int oh0, int oh1) {
        final int gs = stageStride(), hw = rowTile * gs;
        final int sj = s * j;
        final int l1 = (1 % s) * j + 1 / s, l2 = (2 % s) * j + 2 / s;
        final int b1 = accBase + cs, b2 = accBase + 2 * cs, b3 = accBase + 3 * cs;
        FloatVector a00 = FloatVector.fromArray(SPECIES, buf, accBase);
        FloatVector a01 = FloatVector.fromArray(SPECIES, buf, accBase + VL);
        FloatVector a02 = FloatVector.fromArray(SPECIES, buf, accBase + 2 * VL);
        FloatVector a10 = FloatVector.fromArray(SPECIES, buf, b1);
        FloatVector a11 = FloatVector.fromArray(SPECIES, buf, b1 + VL);
        FloatVector a12 = FloatVector.fromArray(SPECIES, buf, b1 + 2 * VL);
        FloatVector a20 = FloatVector.fromArray(SPECIES, buf, b2);
        FloatVector a21 = FloatVector.fromArray(SPECIES, buf, b2 + VL);
        FloatVector a22 = FloatVector.fromArray(SPECIES, buf, b2 + 2 * VL);
        FloatVector a30 = FloatVector.fromArray(SPECIES, buf, b3);
        FloatVector a31 = FloatVector.fromArray(SPECIES, buf, b3 + VL);
        FloatVector a32 = FloatVector.fromArray(SPECIES, buf, b3 + 2 * VL);
        for (int oh = oh0; oh < oh1; oh++) {
            int xr = plane + (oh * s + kh) * sj;
            int g = stage + (oh - oh0) * gs;
            for (int c = 0; c < wOut; c += VL) {
                FloatVector x0 = FloatVector.fromArray(SPECIES, buf, xr + c);
                FloatVector x1 = FloatVector.fromArray(SPECIES, buf, xr + l1 + c);
                FloatVector x2 = FloatVector.fromArray(SPECIES, buf, xr + l2 + c);
                FloatVector g0 = FloatVector.fromArray(SPECIES, buf, g + c);
                a00 = g0.fma(x0, a00);
                a01 = g0.fma(x1, a01);
                a02 = g0.fma(x2, a02);
                FloatVector g1 = FloatVector.fromArray(SPECIES, buf, g + hw + c);
                a10 = g1.fma(x0, a10);
                a11 = g1.fma(x1, a11);
                a12 = g1.fma(x2, a12);
                FloatVector g2 = FloatVector.fromArray(SPECIES, buf, g + 2 * hw + c);
                a20 = g2.fma(x0, a20);
                a21 = g2.fma(x1, a21);
                a22 = g2.fma(x2, a22);
                FloatVector g3 = FloatVector.fromArray(SPECIES, buf, g + 3 * hw + c);
                a30 = g3.fma(x0, a30);
                a31 = g3.fma(x1, a31);
                a32 = g3.fma(x2, a32);
            }
        }
        a00.intoArray(buf, accBase);
        a01.intoArray(buf, accBase + VL);
        a02.intoArray(buf, accBase + 2 * VL);
        a10.intoArray(buf, b1);
        a11.intoArray(buf, b1 + VL);
        a12.intoArray(buf, b1 + 2 * VL);
        a20.intoArray(buf, b2);
        a21.intoArray(buf, b2 + VL);
        a22.intoArray(buf, b2 + 2 * VL);
        a30.intoArray(buf, b3);
        a31.intoArray(buf, b3 + VL);
        a32.intoArray(buf, b3 + 2 * VL);
    }

    /** k = 1: 8 co accumulators over output rows [oh0, oh1). */
    private void rows1(float[] buf, int plane, int stage, int accBase, int cs, int oh0, int oh1) {
        final int gs = stageStride(), hw = rowTile * gs;
        final int sj = s * j;
        FloatVector a0 = ld(buf, accBase), a1 = ld(buf, accBase + cs), a2 = ld(buf, accBase + 2 * cs),
                a3 = ld(buf, accBase + 3 * cs), a4 = ld(buf, accBase + 4 * cs), a5 = ld(buf, accBase + 5 * cs),
                a6 = ld(buf, accBase + 6 * cs), a7 = ld(buf, accBase + 7 * cs);
        for (int oh = oh0; oh < oh1; oh++) {
            int xr = plane + (oh * s) * sj;
            int g = stage + (oh - oh0) * gs;
            for (int c = 0; c < wOut; c += VL) {
                FloatVector x0 = FloatVector.fromArray(SPECIES, buf, xr + c);
                a0 = ld(buf, g + c).fma(x0, a0);
                a1 = ld(buf, g + hw + c).fma(x0, a1);
                a2 = ld(buf, g + 2 * hw + c).fma(x0, a2);
                a3 = ld(buf, g + 3 * hw + c).fma(x0, a3);
                a4 = ld(buf, g + 4 * hw + c).fma(x0, a4);
                a5 = ld(buf, g + 5 * hw + c).fma(x0, a5);
                a6 = ld(buf, g + 6 * hw + c).fma(x0, a6);
                a7 = ld(buf, g + 7 * hw + c).fma(x0, a7);
            }
        }
        st(a0, buf, accBase); st(a1, buf, accBase + cs); st(a2, buf, accBase + 2 * cs); st(a3, buf, accBase + 3 * cs);
        st(a4, buf, accBase + 4 * cs); st(a5, buf, accBase + 5 * cs); st(a6, buf, accBase + 6 * cs); st(a7, buf, accBase + 7 * cs);
    }

    private static FloatVector ld(float[] a, int off) {
        return FloatVector.fromArray(SPECIES, a, off);
    }

    private static void st(FloatVector v, float[] a, int off) {
        v.intoArray(a, off);
    }
}
