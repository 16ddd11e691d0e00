package org.cloe4j.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Kernel of {@link CpuConv3d#backwardWeight}: gw[co][ci][kd][kh][kw] = sum over (n, od, oh, ow) of
 * gy[n][co][od][oh][ow] * xpad[n][ci][od*s+kd][oh*s+kh][ow*s+kw].
 *
 * <p>Work items. The weight gradient is cut into blocks of at most {@link #CC} input × {@link #CO} (or
 * {@link #CO_WIDE}) output channels,
 * and the flattened (n, od) planes into a number of slabs; one item is one (slab, channel block). The counts depend
 * only on the shape — never on the number of threads — and every sum is taken in a fixed order, so the result is
 * bit-identical between runs and thread counts. Per item, lane-wise partial sums of its whole Cout × Cin × k³ block
 * live in a per-thread buffer (at most 16·32·27 vectors) and are reduced lane by lane once at the end; the slabs'
 * sums are added in slab order by the caller.
 *
 * <p>Tiles. An item walks its planes in tiles of whole planes (deep, small levels) or of rows of one plane (112³,
 * 56³), sized so that the tile's staged gy ({@link #GY_TILE} floats) stays in L1 per 4-channel group and its staged
 * input rows ({@link #X_TILE}) in L2. Input rows are staged once per tile with the padding applied in the addressing
 * (reflect or zero through the index maps; for stride 2 each row split into its even and odd columns, so every kw is a
 * contiguous load); gy rows are staged once per tile as whole vectors, zero past wOut, so no load is ever masked
 * (masked loads ran 5× slower on JDK 25). Both are reused by every (input channel, output group, kd, kh) of the block:
 * x and gy each come from memory once per item, not once per input channel. Where a tile holds one output plane
 * (28³ and above), an item walks the planes of one row tile after another and keeps the k input planes of the current
 * output plane in a ring, so each input row is staged about once per row tile, not k times (the tiles' order, and so
 * the order in which the tiles' products are added, is row tile by row tile).
 *
 * <p>Micro-kernel. k = 3 with 32·m output channels: gy staged transposed, 32 output channels per position; per
 * (ci, kd) 2 output vectors × 9 (kh, kw) = 18 accumulators over the tile, each position 2 gy vector loads and 9
 * broadcast input values for 18 FMAs; a lane is one output channel's sum, so no lane sum at the end. 16 output
 * channels and an even number of inputs: the same with one output vector and two input channels per call. Other k = 3
 * (1 input channel, 4 or 8 outputs): 4 output channels × 3 kw = 12 accumulators held in registers over the whole
 * tile for one (ci, kd, kh); each step loads 3 input and 4 gy vectors for 12 FMAs (most of them split across cache
 * lines: Java arrays are not 64-byte aligned), measured 1.3–1.6× slower than the transposed form. k = 1: 4 output × 4 input channels = 16
 * accumulators, 8 loads for 16 FMAs. The accumulators are loaded from and stored to the partial-sum buffer once per
 * tile, which the tile sizes keep to a few percent of the FMAs.
 */
final class ConvWeightGradient {
    private static final VectorSpecies<Float> SPECIES = ConvCorrelation.SPECIES;
    private static final int VL = ConvCorrelation.VL;
    /** Input channels of one work item's block. */
    static final int CC = 16;
    /**
     * Output channels of one work item's block (a multiple of 4, the micro-kernel's group) at the deep levels; at 56²
     * planes and above, where the staged input of a tile is large, blocks of {@link #CO_WIDE} stage it half as often
     * (measured about 20 % faster single-threaded on the 32→32 56³ and 16→32 112³ stride-2 layers, no change at 28³).
     */
    static final int CO = 16;
    static final int CO_WIDE = 32;
    /** Work items aimed at (slabs are added until there are this many), independent of the thread count. */
    private static final int ITEMS = 8;
    /** Floats of staged gy per tile: one 4-channel group (a quarter) stays in L1 over the block's input channels. */
    private static final int GY_TILE = 24 * 1024;
    /** Floats of staged input rows per tile: within the per-core L2. */
    private static final int X_TILE = 160 * 1024;

    private final float[] x, gy;
    private final int n, ci, d, h, wd, co, k, s, pad, dOut, hOut, wOut;
    private final int[] mapD, mapH, mapW;
    /**
     * Staged row stride, shared by input and gy rows so that output (row r, column ow) and its input tap are a
     * constant distance apart in the flattened tile: wOut + (k-1)/s (stride 1: the padded row). e = (k-1)/s: extra
     * staged rows and columns per phase.
     */
    private final int rs, e;
    /** Input-channel blocks, output-channel blocks, slabs; tile planes and rows. */
    private final int nC, nO, slabs, tp, tr;
    /** Staged input: floats per phase block (rows tr+e of rs, then zeroed slack), per virtual plane, per channel. */
    private final int blockLen, planeLen, chanLen;
    /** Staged gy: floats per plane (tr rows of rs, rounded up to whole vectors), per channel. */
    private final int gPlane, gChan;
    private final int ccMax, ocrMax;
    /** This shape's output-channel block: {@link #CO} or {@link #CO_WIDE}. */
    private final int cob;
    /**
     * k = 3 with a multiple of {@link #CO_WIDE} output channels: gy staged transposed (32 output channels per position,
     * the vector lanes) and {@link #tileT}'s kernel; otherwise {@link #tile3} with positions in the lanes.
     */
    private final boolean transposed;

    ConvWeightGradient(float[] x, float[] gy, int n, int ci, int d, int h, int wd, int co, int k, int s, int pad,
                       int dOut, int hOut, int wOut, int[] mapD, int[] mapH, int[] mapW) {
        this.x = x;
        this.gy = gy;
        this.n = n;
        this.ci = ci;
        this.d = d;
        this.h = h;
        this.wd = wd;
        this.co = co;
        this.k = k;
        this.s = s;
        this.pad = pad;
        this.dOut = dOut;
        this.hOut = hOut;
        this.wOut = wOut;
        this.mapD = mapD;
        this.mapH = mapH;
        this.mapW = mapW;
        this.e = (k - 1) / s;
        this.rs = wOut + e;
        this.nC = ceilDiv(ci, CC);
        this.transposed = k == 3 && VL == 16 && (co % CO_WIDE == 0 || co % CO == 0 && ci % 2 == 0);
        this.cob = transposed ? (co % CO_WIDE == 0 ? CO_WIDE : CO) : co >= CO_WIDE && hOut * wOut >= 56 * 56 ? CO_WIDE : CO;
        this.nO = ceilDiv(co, cob);
        this.ccMax = Math.min(CC, ci);
        this.ocrMax = ConvCorrelation.roundUp(Math.min(cob, co), 4);
        int planes = n * dOut;
        this.slabs = Math.max(1, Math.min(planes, ceilDiv(ITEMS, nC * nO)));
        int p, r;
        if (ocrMax * gPlane(hOut) <= GY_TILE) {
            r = hOut;
            p = Math.max(1, Math.min(dOut, GY_TILE / (ocrMax * gPlane(hOut))));
            while (p > 1 && xTile(p, r) > X_TILE) p--;
        } else {
            p = 1;
            r = Math.max(1, Math.min(hOut, GY_TILE / (ocrMax * rs)));
            while (r > 1 && xTile(p, r) > X_TILE) r--;
        }
        this.tp = p;
        this.tr = r;
        this.blockLen = blockLen(r);
        this.planeLen = s * s * blockLen;
        this.chanLen = ((p - 1) * s + k) * planeLen;
        this.gPlane = gPlane(r);
        this.gChan = p * gPlane;
    }

    private int gPlane(int rows) {
        return ConvCorrelation.roundUp(rows * rs, VL);
    }

    /** Rows tr + e of rs, then slack for the last vector's reads past them (zeroed): VL + e floats. */
    private int blockLen(int rows) {
        return (rows + e) * rs + VL + e;
    }

    private int xTile(int p, int r) {
        return ccMax * ((p - 1) * s + k) * s * s * blockLen(r);
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** Number of work items; item i writes only its own part of {@link #partLength()}. */
    int items() {
        return slabs * nC * nO;
    }

    /** Slabs, whose partial gradients {@link #reduce} adds in order. */
    int slabs() {
        return slabs;
    }

    /** Floats of the partial-gradient array: per slab, a whole [ci][co][k³] gradient. */
    int partLength() {
        return slabs * ci * co * k * k * k;
    }

    private int accLen() {
        return ccMax * ocrMax * k * k * k * VL;
    }

    /** Per-thread floats one work item needs: staged input rows, staged gy, lane-wise partial sums. */
    int scratchSize() {
        return ccMax * chanLen + ocrMax * gChan + accLen();
    }

    /** gw[o][c][t] = sum over slabs, in slab order, of part[slab][c][o][t]. */
    void reduce(float[] part, float[] gw) {
        int k3 = k * k * k;
        for (int c = 0; c < ci; c++) {
            for (int o = 0; o < co; o++) {
                for (int t = 0; t < k3; t++) {
                    float sum = 0;
                    for (int sl = 0; sl < slabs; sl++) sum += part[((sl * ci + c) * co + o) * k3 + t];
                    gw[(o * ci + c) * k3 + t] = sum;
                }
            }
        }
    }

    /** Computes work item {@code it} into part[slab][c][o][t] for its channel block. */
    void item(int it, float[] part, float[] buf) {
        int sl = it / (nC * nO), rem = it % (nC * nO);
        int c0 = rem / nO * CC, cc = Math.min(CC, ci - c0);
        int o0 = rem % nO * cob, oc = Math.min(cob, co - o0), groups = ceilDiv(oc, 4), ocr = 4 * groups;
        int k3 = k * k * k;
        int xs = 0, gsb = ccMax * chanLen, acc = gsb + ocrMax * gChan;
        Arrays.fill(buf, acc, acc + cc * ocr * k3 * VL, 0f);
        int planes = n * dOut;
        int lo = (int) ((long) planes * sl / slabs), hi = (int) ((long) planes * (sl + 1) / slabs);
        int[] xk = new int[k];
        if (tp == 1) {
            // One output plane per tile: its k input planes are kept in a ring of k staged planes (virtual plane z in
            // slot z % k), so walking the planes of one row tile stages only the s planes that are new; each input
            // row is staged about once per row tile instead of k times.
            for (int oh0 = 0; oh0 < hOut; oh0 += tr) {
                int nr = Math.min(tr, hOut - oh0), qLen = ConvCorrelation.roundUp(nr * rs, VL);
                int staged = -1, prevB = -1;
                for (int f = lo; f < hi; f++) {
                    int b = f / dOut, od = f % dOut, z0 = od * s;
                    for (int z = b == prevB ? Math.max(z0, staged + 1) : z0; z < z0 + k; z++) {
                        stageX(buf, xs + z % k * planeLen, b, c0, cc, z, oh0, nr);
                    }
                    staged = z0 + k - 1;
                    prevB = b;
                    for (int kd = 0; kd < k; kd++) xk[kd] = xs + (z0 + kd) % k * planeLen;
                    if (transposed) {
                        stageGyT(buf, gsb, b, o0, od, 1, oh0, nr);
                        computeT(buf, xk, gsb, acc, cc, 1, nr * rs);
                    } else {
                        stageGy(buf, gsb, b, o0, oc, ocr, od, 1, oh0, nr);
                        compute(buf, xk, gsb, acc, cc, ocr, groups, 1, qLen);
                    }
                }
            }
        } else {
            for (int kd = 0; kd < k; kd++) xk[kd] = xs + kd * planeLen;
            for (int f = lo; f < hi; ) {
                int b = f / dOut, od0 = f % dOut;
                int np = Math.min(tp, Math.min(hi - f, dOut - od0));
                for (int oh0 = 0; oh0 < hOut; oh0 += tr) {
                    int nr = Math.min(tr, hOut - oh0), qLen = ConvCorrelation.roundUp(nr * rs, VL);
                    for (int zz = 0; zz < (np - 1) * s + k; zz++) {
                        stageX(buf, xs + zz * planeLen, b, c0, cc, od0 * s + zz, oh0, nr);
                    }
                    if (transposed) {
                        stageGyT(buf, gsb, b, o0, od0, np, oh0, nr);
                        computeT(buf, xk, gsb, acc, cc, np, nr * rs);
                    } else {
                        stageGy(buf, gsb, b, o0, oc, ocr, od0, np, oh0, nr);
                        compute(buf, xk, gsb, acc, cc, ocr, groups, np, qLen);
                    }
                }
                f += np;
            }
        }
        if (transposed) {
            // one lane per output channel: the sums are complete
            for (int c = 0; c < cc; c++) {
                for (int o = 0; o < oc; o++) {
                    for (int t = 0; t < k3; t++) {
                        part[((sl * ci + c0 + c) * co + o0 + o) * k3 + t] = buf[acc + (c * k3 + t) * cob + o];
                    }
                }
            }
            return;
        }
        for (int c = 0; c < cc; c++) {
            for (int o = 0; o < oc; o++) {
                for (int t = 0; t < k3; t++) {
                    // lanes summed in a fixed order: reduceLanes(ADD) leaves the order open, and it differs between
                    // the interpreter and C2, which would make training results depend on JIT warm-up
                    int base = acc + ((c * ocr + o) * k3 + t) * VL;
                    float sum = 0;
                    for (int l = 0; l < VL; l++) sum += buf[base + l];
                    part[((sl * ci + c0 + c) * co + o0 + o) * k3 + t] = sum;
                }
            }
        }
    }

    /**
     * Adds one tile to the accumulators: every (input channel, 4-output group, kd, kh) of the block over np staged
     * planes of qLen positions. xk[kd]: the staged plane that output plane 0 of the tile reads at tap kd (the next
     * planes at s*planeLen steps).
     */
    private void compute(float[] buf, int[] xk, int gsb, int acc, int cc, int ocr, int groups, int np, int qLen) {
        for (int g = 0; g < groups; g++) {
            int gBase = gsb + 4 * g * gChan;
            if (k == 3) {
                for (int c = 0; c < cc; c++) {
                    for (int kd = 0; kd < 3; kd++) {
                        for (int kh = 0; kh < 3; kh++) {
                            int accBase = acc + ((c * ocr + 4 * g) * 27 + (kd * 3 + kh) * 3) * VL;
                            int x0 = xk[kd] + c * chanLen + (kh % s) * s * blockLen + kh / s * rs;
                            tile3(buf, x0, gBase, np, qLen, accBase, 27 * VL);
                        }
                    }
                }
            } else {
                int c = 0, xs = xk[0];
                for (; c + 4 <= cc; c += 4) {
                    tile1x4(buf, xs + c * chanLen, gBase, np, qLen, acc + (c * ocr + 4 * g) * VL, ocr * VL);
                }
                for (; c < cc; c++) tile1(buf, xs + c * chanLen, gBase, np, qLen, acc + (c * ocr + 4 * g) * VL);
            }
        }
    }

    /**
     * The transposed form of {@link #compute} (k = 3, 32 output channels): per (input channel, kd) one
     * {@link #tileT} over the tile's np planes of nq staged positions each.
     */
    private void computeT(float[] buf, int[] xk, int gsb, int acc, int cc, int np, int nq) {
        if (cob == CO_WIDE) {
            for (int c = 0; c < cc; c++) {
                for (int kd = 0; kd < 3; kd++) {
                    tileT(buf, xk[kd] + c * chanLen, gsb, np, nq, acc + (c * 27 + kd * 9) * CO_WIDE);
                }
            }
        } else {
            // 16 output channels: two input channels per call (cc is even: ci is, and so is CC)
            for (int c = 0; c < cc; c += 2) {
                for (int kd = 0; kd < 3; kd++) {
                    tileT16(buf, xk[kd] + c * chanLen, gsb, np, nq, acc + (c * 27 + kd * 9) * CO);
                }
            }
        }
    }

    /**
     * Stages gy of the cob (32 or 16) channels [o0, o0+cob), planes [od0, od0+np), rows [oh0, oh0+nr) transposed,
     * position-major with the input's row stride: buf[gsb + (p*gPlane + r*rs + ow) * cob + o]; zero in columns
     * wOut..rs-1, so those positions add nothing whatever input they meet.
     */
    private void stageGyT(float[] buf, int gsb, int b, int o0, int od0, int np, int oh0, int nr) {
        final int ob = cob;
        for (int p = 0; p < np; p++) {
            int pb = gsb + p * gPlane * ob;
            int src0 = (((b * co + o0) * dOut + od0 + p) * hOut + oh0) * wOut, chan = dOut * hOut * wOut;
            for (int r = 0; r < nr; r++) {
                int rb = pb + r * rs * ob, sr = src0 + r * wOut;
                for (int o = 0; o < ob; o++) {
                    int so = sr + o * chan;
                    for (int ow = 0; ow < wOut; ow++) buf[rb + ow * ob + o] = gy[so + ow];
                }
                Arrays.fill(buf, rb + wOut * ob, rb + rs * ob, 0f);
            }
        }
    }

    /**
     * {@link #tileT} for 16 output channels (one vector): input channels c and c+1 (x0 and x0 + chanLen) × the 9
     * (kh, kw) taps = 18 accumulators; per position 1 gy vector load and 18 broadcast input values for 18 FMAs.
     * Channel c+1's sums go to accBase + 27*16.
     */
    private void tileT16(float[] buf, int x0, int gsb, int np, int nq, int accBase) {
        final int ps = s * planeLen, gp = gPlane * CO, xc = chanLen;
        final int h1 = (1 % s) * s * blockLen + 1 / s * rs, h2 = (2 % s) * s * blockLen + 2 / s * rs;
        final int l1 = (1 % s) * blockLen + 1 / s, l2 = (2 % s) * blockLen + 2 / s;
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z, a8 = z;
        FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z, b8 = z;
        for (int p = 0; p < np; p++) {
            final int xr = x0 + p * ps, g = gsb + p * gp;
            for (int q = 0; q < nq; q++) {
                FloatVector g0 = FloatVector.fromArray(SPECIES, buf, g + q * CO);
                int x = xr + q, y = x + xc;
                a0 = g0.fma(FloatVector.broadcast(SPECIES, buf[x]), a0);
                b0 = g0.fma(FloatVector.broadcast(SPECIES, buf[y]), b0);
                a1 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + l1]), a1);
                b1 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + l1]), b1);
                a2 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + l2]), a2);
                b2 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + l2]), b2);
                a3 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + h1]), a3);
                b3 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + h1]), b3);
                a4 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + h1 + l1]), a4);
                b4 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + h1 + l1]), b4);
                a5 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + h1 + l2]), a5);
                b5 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + h1 + l2]), b5);
                a6 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + h2]), a6);
                b6 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + h2]), b6);
                a7 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + h2 + l1]), a7);
                b7 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + h2 + l1]), b7);
                a8 = g0.fma(FloatVector.broadcast(SPECIES, buf[x + h2 + l2]), a8);
                b8 = g0.fma(FloatVector.broadcast(SPECIES, buf[y + h2 + l2]), b8);
            }
        }
        final int t = accBase, u = accBase + 27 * CO;
        FloatVector.fromArray(SPECIES, buf, t).add(a0).intoArray(buf, t);
        FloatVector.fromArray(SPECIES, buf, t + VL).add(a1).intoArray(buf, t + VL);
        FloatVector.fromArray(SPECIES, buf, t + 2 * VL).add(a2).intoArray(buf, t + 2 * VL);
        FloatVector.fromArray(SPECIES, buf, t + 3 * VL).add(a3).intoArray(buf, t + 3 * VL);
        FloatVector.fromArray(SPECIES, buf, t + 4 * VL).add(a4).intoArray(buf, t + 4 * VL);
        FloatVector.fromArray(SPECIES, buf, t + 5 * VL).add(a5).intoArray(buf, t + 5 * VL);
        FloatVector.fromArray(SPECIES, buf, t + 6 * VL).add(a6).intoArray(buf, t + 6 * VL);
        FloatVector.fromArray(SPECIES, buf, t + 7 * VL).add(a7).intoArray(buf, t + 7 * VL);
        FloatVector.fromArray(SPECIES, buf, t + 8 * VL).add(a8).intoArray(buf, t + 8 * VL);
        FloatVector.fromArray(SPECIES, buf, u).add(b0).intoArray(buf, u);
        FloatVector.fromArray(SPECIES, buf, u + VL).add(b1).intoArray(buf, u + VL);
        FloatVector.fromArray(SPECIES, buf, u + 2 * VL).add(b2).intoArray(buf, u + 2 * VL);
        FloatVector.fromArray(SPECIES, buf, u + 3 * VL).add(b3).intoArray(buf, u + 3 * VL);
        FloatVector.fromArray(SPECIES, buf, u + 4 * VL).add(b4).intoArray(buf, u + 4 * VL);
        FloatVector.fromArray(SPECIES, buf, u + 5 * VL).add(b5).intoArray(buf, u + 5 * VL);
        FloatVector.fromArray(SPECIES, buf, u + 6 * VL).add(b6).intoArray(buf, u + 6 * VL);
        FloatVector.fromArray(SPECIES, buf, u + 7 * VL).add(b7).intoArray(buf, u + 7 * VL);
        FloatVector.fromArray(SPECIES, buf, u + 8 * VL).add(b8).intoArray(buf, u + 8 * VL);
    }

    /**
     * k = 3, one (input channel, kd), 32 output channels in two vectors × the 9 (kh, kw) taps = 18 accumulators over
     * the tile's np planes of nq positions: per position, 2 vector loads of staged gy and 9 broadcast input values
     * for 18 FMAs (tile3's form needs 7 vector loads, most of them split across cache lines, per 12). Each output
     * channel's sum over the tile is one lane, taken in position order from zero and then added to the item's sum
     * at accBase + (kh*3 + kw) * 32 (a tile's few hundred to few thousand terms first, then tile by tile). x0: the
     * staged input of plane 0 for this kd.
     */
    private void tileT(float[] buf, int x0, int gsb, int np, int nq, int accBase) {
        final int ps = s * planeLen, gp = gPlane * CO_WIDE;
        final int h1 = (1 % s) * s * blockLen + 1 / s * rs, h2 = (2 % s) * s * blockLen + 2 / s * rs;
        final int l1 = (1 % s) * blockLen + 1 / s, l2 = (2 % s) * blockLen + 2 / s;
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector a0 = z, a1 = z, a2 = z, a3 = z, a4 = z, a5 = z, a6 = z, a7 = z, a8 = z;
        FloatVector b0 = z, b1 = z, b2 = z, b3 = z, b4 = z, b5 = z, b6 = z, b7 = z, b8 = z;
        for (int p = 0; p < np; p++) {
            final int xr = x0 + p * ps, g = gsb + p * gp;
            for (int q = 0; q < nq; q++) {
                FloatVector g0 = FloatVector.fromArray(SPECIES, buf, g + q * CO_WIDE);
                FloatVector g1 = FloatVector.fromArray(SPECIES, buf, g + q * CO_WIDE + VL);
                int x = xr + q;
                FloatVector w = FloatVector.broadcast(SPECIES, buf[x]);
                a0 = g0.fma(w, a0);
                b0 = g1.fma(w, b0);
                w = FloatVector.broadcast(SPECIES, buf[x + l1]);
                a1 = g0.fma(w, a1);
                b1 = g1.fma(w, b1);
                w = FloatVector.broadcast(SPECIES, buf[x + l2]);
                a2 = g0.fma(w, a2);
                b2 = g1.fma(w, b2);
                w = FloatVector.broadcast(SPECIES, buf[x + h1]);
                a3 = g0.fma(w, a3);
                b3 = g1.fma(w, b3);
                w = FloatVector.broadcast(SPECIES, buf[x + h1 + l1]);
                a4 = g0.fma(w, a4);
                b4 = g1.fma(w, b4);
                w = FloatVector.broadcast(SPECIES, buf[x + h1 + l2]);
                a5 = g0.fma(w, a5);
                b5 = g1.fma(w, b5);
                w = FloatVector.broadcast(SPECIES, buf[x + h2]);
                a6 = g0.fma(w, a6);
                b6 = g1.fma(w, b6);
                w = FloatVector.broadcast(SPECIES, buf[x + h2 + l1]);
                a7 = g0.fma(w, a7);
                b7 = g1.fma(w, b7);
                w = FloatVector.broadcast(SPECIES, buf[x + h2 + l2]);
                a8 = g0.fma(w, a8);
                b8 = g1.fma(w, b8);
            }
        }
        final int t = accBase, w2 = 2 * VL;
        FloatVector.fromArray(SPECIES, buf, t).add(a0).intoArray(buf, t);
        FloatVector.fromArray(SPECIES, buf, t + VL).add(b0).intoArray(buf, t + VL);
        FloatVector.fromArray(SPECIES, buf, t + w2).add(a1).intoArray(buf, t + w2);
        FloatVector.fromArray(SPECIES, buf, t + w2 + VL).add(b1).intoArray(buf, t + w2 + VL);
        FloatVector.fromArray(SPECIES, buf, t + 2 * w2).add(a2).intoArray(buf, t + 2 * w2);
        FloatVector.fromArray(SPECIES, buf, t + 2 * w2 + VL).add(b2).intoArray(buf, t + 2 * w2 + VL);
        FloatVector.fromArray(SPECIES, buf, t + 3 * w2).add(a3).intoArray(buf, t + 3 * w2);
        FloatVector.fromArray(SPECIES, buf, t + 3 * w2 + VL).add(b3).intoArray(buf, t + 3 * w2 + VL);
        FloatVector.fromArray(SPECIES, buf, t + 4 * w2).add(a4).intoArray(buf, t + 4 * w2);
        FloatVector.fromArray(SPECIES, buf, t + 4 * w2 + VL).add(b4).intoArray(buf, t + 4 * w2 + VL);
        FloatVector.fromArray(SPECIES, buf, t + 5 * w2).add(a5).intoArray(buf, t + 5 * w2);
        FloatVector.fromArray(SPECIES, buf, t + 5 * w2 + VL).add(b5).intoArray(buf, t + 5 * w2 + VL);
        FloatVector.fromArray(SPECIES, buf, t + 6 * w2).add(a6).intoArray(buf, t + 6 * w2);
        FloatVector.fromArray(SPECIES, buf, t + 6 * w2 + VL).add(b6).intoArray(buf, t + 6 * w2 + VL);
        FloatVector.fromArray(SPECIES, buf, t + 7 * w2).add(a7).intoArray(buf, t + 7 * w2);
        FloatVector.fromArray(SPECIES, buf, t + 7 * w2 + VL).add(b7).intoArray(buf, t + 7 * w2 + VL);
        FloatVector.fromArray(SPECIES, buf, t + 8 * w2).add(a8).intoArray(buf, t + 8 * w2);
        FloatVector.fromArray(SPECIES, buf, t + 8 * w2 + VL).add(b8).intoArray(buf, t + 8 * w2 + VL);
    }

    /**
     * Stages virtual input plane z (padded index, od*s + kd) of channels [c0, c0+cc), the rows that output rows
     * [oh0, oh0+nr) read, at buf[plane + c*chanLen]: s×s phase blocks (row parity rb, column parity cp), each rows yy
     * of rs floats: buf[plane + c*chanLen + (rb*s+cp)*blockLen + yy*rs + jj] = xpad(plane z, row (oh0+yy)*s+rb,
     * column jj*s+cp); the slack after each block's rows is zeroed.
     */
    private void stageX(float[] buf, int plane0, int b, int c0, int cc, int z, int oh0, int nr) {
        int yN = nr + e, sd = mapD[z];
        for (int c = 0; c < cc; c++) {
            int chan = (b * ci + c0 + c) * d;
            int plane = plane0 + c * chanLen;
            for (int rb = 0; rb < s; rb++) {
                for (int yy = 0; yy < yN; yy++) {
                    int sh = sd < 0 ? -1 : mapH[(oh0 + yy) * s + rb];
                    int row = ((chan + sd) * h + sh) * wd;
                    for (int cp = 0; cp < s; cp++) {
                        int dst = plane + (rb * s + cp) * blockLen + yy * rs;
                        if (sh < 0) {
                            Arrays.fill(buf, dst, dst + rs, 0f);
                        } else if (s == 1) {
                            // The row is the padded source row: a straight copy between the padding columns.
                            for (int jj = 0; jj < pad; jj++) buf[dst + jj] = mapped(row, mapW[jj]);
                            System.arraycopy(x, row, buf, dst + pad, wd);
                            for (int jj = pad + wd; jj < rs; jj++) buf[dst + jj] = mapped(row, mapW[jj]);
                        } else {
                            // Columns whose source is inside the row are read directly; the rest through the map.
                            int jLo = Math.min(rs, ceilDiv(Math.max(0, pad - cp), s));
                            int jHi = Math.max(jLo, Math.min(rs, ceilDiv(wd + pad - cp, s)));
                            for (int jj = 0; jj < jLo; jj++) buf[dst + jj] = mapped(row, mapW[jj * s + cp]);
                            for (int jj = jLo, src = row + jLo * s + cp - pad; jj < jHi; jj++, src += s) {
                                buf[dst + jj] = x[src];
                            }
                            for (int jj = jHi; jj < rs; jj++) buf[dst + jj] = mapped(row, mapW[jj * s + cp]);
                        }
                    }
                }
                for (int cp = 0; cp < s; cp++) {
                    int blk = plane + (rb * s + cp) * blockLen;
                    Arrays.fill(buf, blk + yN * rs, blk + blockLen, 0f);
                }
            }
        }
    }

    private float mapped(int row, int sw) {
        return sw < 0 ? 0f : x[row + sw];
    }

    /**
     * Stages gy of channels [o0, o0+oc), planes [od0, od0+np), rows [oh0, oh0+nr) with the input's row stride:
     * buf[gsb + o*gChan + p*gPlane + r*rs + ow]; zero in columns wOut..rs-1, after the last row up to whole vectors,
     * and for channels oc..ocr-1, so those positions add nothing whatever input they meet.
     */
    private void stageGy(float[] buf, int gsb, int b, int o0, int oc, int ocr, int od0, int np, int oh0, int nr) {
        int qLen = ConvCorrelation.roundUp(nr * rs, VL);
        for (int o = 0; o < ocr; o++) {
            for (int p = 0; p < np; p++) {
                int dst = gsb + o * gChan + p * gPlane;
                if (o >= oc) {
                    Arrays.fill(buf, dst, dst + qLen, 0f);
                    continue;
                }
                int src = (((b * co + o0 + o) * dOut + od0 + p) * hOut + oh0) * wOut;
                if (rs == wOut) {
                    System.arraycopy(gy, src, buf, dst, nr * wOut);
                } else if (wOut <= VL && rs <= VL) {
                    // Narrow rows (14³): one vector per row, reading on into the next row and writing on into the next
                    // staged row (overwritten by it; never past qLen), then the tail zeroed: much cheaper than a copy
                    // call per 14 floats.
                    int r = 0;
                    for (; r < nr && src + r * wOut + VL <= gy.length && r * rs + VL <= qLen; r++) {
                        FloatVector.fromArray(SPECIES, gy, src + r * wOut).intoArray(buf, dst + r * rs);
                        for (int col = wOut; col < rs; col++) buf[dst + r * rs + col] = 0f;
                    }
                    for (; r < nr; r++) {
                        System.arraycopy(gy, src + r * wOut, buf, dst + r * rs, wOut);
                        Arrays.fill(buf, dst + r * rs + wOut, dst + (r + 1) * rs, 0f);
                    }
                } else {
                    for (int r = 0; r < nr; r++) {
                        System.arraycopy(gy, src + r * wOut, buf, dst + r * rs, wOut);
                        Arrays.fill(buf, dst + r * rs + wOut, dst + (r + 1) * rs, 0f);
                    }
                }
                Arrays.fill(buf, dst + nr * rs, dst + qLen, 0f);
            }
        }
    }

    /**
     * k = 3, one (input channel, kd, kh): 4 output channels × 3 kw accumulators over the tile's np planes, each a
     * flat run of qLen staged positions (rows of rs). x0: the staged input of plane 0 for this kd, kh, kw = 0.
     */
    private void tile3(float[] buf, int x0, int gBase, int np, int qLen, int accBase, int cs) {
        final int gc = gChan, ps = s * planeLen, gp = gPlane;
        final int l1 = (1 % s) * blockLen + 1 / s, l2 = (2 % s) * blockLen + 2 / s;
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
        for (int p = 0; p < np; p++) {
            int xr = x0 + p * ps;
            int g = gBase + p * gp;
            for (int q = 0; q < qLen; q += VL) {
                FloatVector x0v = FloatVector.fromArray(SPECIES, buf, xr + q);
                FloatVector x1v = FloatVector.fromArray(SPECIES, buf, xr + l1 + q);
                FloatVector x2v = FloatVector.fromArray(SPECIES, buf, xr + l2 + q);
                FloatVector g0 = FloatVector.fromArray(SPECIES, buf, g + q);
                a00 = g0.fma(x0v, a00);
                a01 = g0.fma(x1v, a01);
                a02 = g0.fma(x2v, a02);
                FloatVector g1 = FloatVector.fromArray(SPECIES, buf, g + gc + q);
                a10 = g1.fma(x0v, a10);
                a11 = g1.fma(x1v, a11);
                a12 = g1.fma(x2v, a12);
                FloatVector g2 = FloatVector.fromArray(SPECIES, buf, g + 2 * gc + q);
                a20 = g2.fma(x0v, a20);
                a21 = g2.fma(x1v, a21);
                a22 = g2.fma(x2v, a22);
                FloatVector g3 = FloatVector.fromArray(SPECIES, buf, g + 3 * gc + q);
                a30 = g3.fma(x0v, a30);
                a31 = g3.fma(x1v, a31);
                a32 = g3.fma(x2v, a32);
            }
        }
        a00.intoArray(buf, accBase); a01.intoArray(buf, accBase + VL); a02.intoArray(buf, accBase + 2 * VL);
        a10.intoArray(buf, b1); a11.intoArray(buf, b1 + VL); a12.intoArray(buf, b1 + 2 * VL);
        a20.intoArray(buf, b2); a21.intoArray(buf, b2 + VL); a22.intoArray(buf, b2 + 2 * VL);
        a30.intoArray(buf, b3); a31.intoArray(buf, b3 + VL); a32.intoArray(buf, b3 + 2 * VL);
    }

    /**
     * k = 1, input channels c..c+3 (staged chanLen apart) × 4 output channels: 16 accumulators over the tile; the
     * accumulator of (input i, output m) is at accBase + i*cStride + m*VL.
     */
    private void tile1x4(float[] buf, int x0, int gBase, int np, int qLen, int accBase, int cStride) {
        final int gc = gChan, xc = chanLen, ps = s * planeLen, gp = gPlane;
        final int e1 = accBase + cStride, e2 = accBase + 2 * cStride, e3 = accBase + 3 * cStride;
        FloatVector a00 = FloatVector.fromArray(SPECIES, buf, accBase);
        FloatVector a01 = FloatVector.fromArray(SPECIES, buf, accBase + VL);
        FloatVector a02 = FloatVector.fromArray(SPECIES, buf, accBase + 2 * VL);
        FloatVector a03 = FloatVector.fromArray(SPECIES, buf, accBase + 3 * VL);
        FloatVector a10 = FloatVector.fromArray(SPECIES, buf, e1);
        FloatVector a11 = FloatVector.fromArray(SPECIES, buf, e1 + VL);
        FloatVector a12 = FloatVector.fromArray(SPECIES, buf, e1 + 2 * VL);
        FloatVector a13 = FloatVector.fromArray(SPECIES, buf, e1 + 3 * VL);
        FloatVector a20 = FloatVector.fromArray(SPECIES, buf, e2);
        FloatVector a21 = FloatVector.fromArray(SPECIES, buf, e2 + VL);
        FloatVector a22 = FloatVector.fromArray(SPECIES, buf, e2 + 2 * VL);
        FloatVector a23 = FloatVector.fromArray(SPECIES, buf, e2 + 3 * VL);
        FloatVector a30 = FloatVector.fromArray(SPECIES, buf, e3);
        FloatVector a31 = FloatVector.fromArray(SPECIES, buf, e3 + VL);
        FloatVector a32 = FloatVector.fromArray(SPECIES, buf, e3 + 2 * VL);
        FloatVector a33 = FloatVector.fromArray(SPECIES, buf, e3 + 3 * VL);
        for (int p = 0; p < np; p++) {
            int xr = x0 + p * ps;
            int g = gBase + p * gp;
            for (int q = 0; q < qLen; q += VL) {
                FloatVector g0 = FloatVector.fromArray(SPECIES, buf, g + q);
                FloatVector g1 = FloatVector.fromArray(SPECIES, buf, g + gc + q);
                FloatVector g2 = FloatVector.fromArray(SPECIES, buf, g + 2 * gc + q);
                FloatVector g3 = FloatVector.fromArray(SPECIES, buf, g + 3 * gc + q);
                FloatVector v = FloatVector.fromArray(SPECIES, buf, xr + q);
                a00 = g0.fma(v, a00);
                a01 = g1.fma(v, a01);
                a02 = g2.fma(v, a02);
                a03 = g3.fma(v, a03);
                v = FloatVector.fromArray(SPECIES, buf, xr + xc + q);
                a10 = g0.fma(v, a10);
                a11 = g1.fma(v, a11);
                a12 = g2.fma(v, a12);
                a13 = g3.fma(v, a13);
                v = FloatVector.fromArray(SPECIES, buf, xr + 2 * xc + q);
                a20 = g0.fma(v, a20);
                a21 = g1.fma(v, a21);
                a22 = g2.fma(v, a22);
                a23 = g3.fma(v, a23);
                v = FloatVector.fromArray(SPECIES, buf, xr + 3 * xc + q);
                a30 = g0.fma(v, a30);
                a31 = g1.fma(v, a31);
                a32 = g2.fma(v, a32);
                a33 = g3.fma(v, a33);
            }
        }
        a00.intoArray(buf, accBase);
        a01.intoArray(buf, accBase + VL);
        a02.intoArray(buf, accBase + 2 * VL);
        a03.intoArray(buf, accBase + 3 * VL);
        a10.intoArray(buf, e1);
        a11.intoArray(buf, e1 + VL);
        a12.intoArray(buf, e1 + 2 * VL);
        a13.intoArray(buf, e1 + 3 * VL);
        a20.intoArray(buf, e2);
        a21.intoArray(buf, e2 + VL);
        a22.intoArray(buf, e2 + 2 * VL);
        a23.intoArray(buf, e2 + 3 * VL);
        a30.intoArray(buf, e3);
        a31.intoArray(buf, e3 + VL);
        a32.intoArray(buf, e3 + 2 * VL);
        a33.intoArray(buf, e3 + 3 * VL);
    }

    /** k = 1, one input channel × 4 output channels (the input channels left over from tile1x4). */
    private void tile1(float[] buf, int x0, int gBase, int np, int qLen, int accBase) {
        final int gc = gChan, ps = s * planeLen, gp = gPlane;
        FloatVector a0 = FloatVector.fromArray(SPECIES, buf, accBase);
        FloatVector a1 = FloatVector.fromArray(SPECIES, buf, accBase + VL);
        FloatVector a2 = FloatVector.fromArray(SPECIES, buf, accBase + 2 * VL);
        FloatVector a3 = FloatVector.fromArray(SPECIES, buf, accBase + 3 * VL);
        for (int p = 0; p < np; p++) {
            int xr = x0 + p * ps;
            int g = gBase + p * gp;
            for (int q = 0; q < qLen; q += VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, buf, xr + q);
                a0 = FloatVector.fromArray(SPECIES, buf, g + q).fma(v, a0);
                a1 = FloatVector.fromArray(SPECIES, buf, g + gc + q).fma(v, a1);
                a2 = FloatVector.fromArray(SPECIES, buf, g + 2 * gc + q).fma(v, a2);
                a3 = FloatVector.fromArray(SPECIES, buf, g + 3 * gc + q).fma(v, a3);
            }
        }
        a0.intoArray(buf, accBase);
        a1.intoArray(buf, accBase + VL);
        a2.intoArray(buf, accBase + 2 * VL);
        a3.intoArray(buf, accBase + 3 * VL);
    }
}
