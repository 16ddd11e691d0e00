package org.cloe4j.backend.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * MEC/REC agreement: all pairwise cosine similarities of the experts' maps, optionally inside a region map r.
 * With u_m = r ⊙ x_m, every dot product u_a·u_b = Σ r² x_a x_b is gathered in one pass over memory (runs of voxels
 * held in the L1 cache while every pair is summed over them, in double lanes, in a fixed order).
 */
final class CpuConsistency {
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats of as many lanes as {@link #D}. */
    private static final VectorSpecies<Float> HALF = VectorSpecies.of(float.class,
            VectorShape.forBitSize(D.vectorBitSize() / 2));
    /** Voxels per run of the Gram accumulation: every map's run (and r²) stays in the L1 cache across the pairs. */
    private static final int SUB = 1024;
    private CpuConsistency() {
    }

    private static int check(String op, Tensor[] xs, Tensor region) {
        if (xs.length == 0) throw new IllegalArgumentException(op + ": no expert maps");
        Shape s = xs[0].shape();
        ShapeChecks.volume(op, xs[0]);
        for (Tensor x : xs) ShapeChecks.sameShape(op, xs[0], x);
        if (region != null) {
            Shape r = region.shape();
            if (r.rank() != 5 || r.n() != s.n() || r.c() != 1 || r.d() != s.d() || r.h() != s.h() || r.w() != s.w()) {
                throw new IllegalArgumentException(op + ": region " + r + " must be [N,1,D,H,W] for maps " + s);
            }
        }
        return xs.length;
    }

    /** The symmetric matrix of dot products u_a·u_b, in double. */
    private static double[][] gram(Tensor[] xs, Tensor region) {
        int m = xs.length;
        Shape s = xs[0].shape();
        int c = s.c();
        int sp = s.spatialSize();
        float[][] x = new float[m][];
        for (int k = 0; k < m; k++) x[k] = xs[k].data();
        float[] r = region == null ? null : region.data();
        int pairs = m * (m + 1) / 2;
        int total = s.n() * sp;
        double[] acc = CpuReduce.blocks(total, pairs, (lo, hi, out) -> {
            float[] rr = new float[SUB];
            double[] lanes = new double[D.length()];
            for (int v0 = lo; v0 < hi; ) {
                int n = v0 / sp;
                int i0 = v0 % sp;
                int len = Math.min(SUB, Math.min(hi - v0, sp - i0)); // a run inside one sample
                if (r != null) for (int j = 0; j < len; j++) rr[j] = r[v0 + j] * r[v0 + j];
                int vend = HALF.loopBound(len);
                for (int ch = 0; ch < c; ch++) {
                    int base = (n * c + ch) * sp + i0;
                    int p = 0;
                    for (int a = 0; a < m; a++) {
                        for (int b = a; b < m; b++) {
                            // lanes of float products x_a·r²·x_b, widened and summed in double; the run stays in L1
                            DoubleVector sum = DoubleVector.zero(D);
                            int j = 0;
                            for (; j < vend; j += HALF.length()) {
                                FloatVector xa = FloatVector.fromArray(HALF, x[a], base + j);
                                if (r != null) xa = xa.mul(FloatVector.fromArray(HALF, rr, j));
                                FloatVector prod = xa.mul(FloatVector.fromArray(HALF, x[b], base + j));
                                sum = sum.add((DoubleVector) prod.convertShape(VectorOperators.F2D, D, 0));
                            }
                            double t = 0;
                            for (; j < len; j++) {
                                float xa = r == null ? x[a][base + j] : x[a][base + j] * rr[j];
                                t += xa * x[b][base + j];
                            }
                            sum.intoArray(lanes, 0);
                            for (double l : lanes) t += l;
                            out[p++] += t;
                        }
                    }
                }
                v0 += len;
            }
        });
        double[][] g = new double[m][m];
        int p = 0;
        for (int a = 0; a < m; a++) {
            for (int b = a; b < m; b++) {
                g[a][b] = acc[p];
                g[b][a] = acc[p++];
            }
        }
        return g;
    }

    static void pairwiseCosine(Tensor[] xs, Tensor region, Tensor s) {
        int m = check("pairwiseCosine", xs, region);
        ShapeChecks.shape("pairwiseCosine", s, Shape.of(m, m));
        double[][] g = gram(xs, region);
        float[] out = s.data();
        for (int a = 0; a < m; a++) {
            for (int b = 0; b < m; b++) {
                double den = Math.sqrt(g[a][a]) * Math.sqrt(g[b][b]);
                out[a * m + b] = den > 0 ? (float) (g[a][b] / den) : 0f;
            }
        }
    }

    /**
     * With c_ab = gs_ab + gs_ba and n_a = |u_a|, dL/du_a = Σ_b A_ab u_b where A_ab = c_ab / (n_a n_b) for b ≠ a and
     * A_aa = −Σ_{b≠a} c_ab s_ab / n_a² (the diagonal s_aa is constant). Hence dL/dx_a = r² Σ_b A_ab x_b and
     * dL/dr = r Σ_channels Σ_ab x_a A_ab x_b.
     */
    static void pairwiseCosineBackward(Tensor[] xs, Tensor region, Tensor gs, Tensor[] gxs, Tensor gregion) {
        int m = check("pairwiseCosine backward", xs, region);
        ShapeChecks.shape("pairwiseCosine backward", gs, Shape.of(m, m));
        double[][] g = gram(xs, region);
        double[] norm = new double[m];
        for (int a = 0; a < m; a++) norm[a] = Math.sqrt(g[a][a]);
        float[] gsv = gs.data();
        float[][] coef = new float[m][m];
        for (int a = 0; a < m; a++) {
            if (norm[a] == 0) continue;
            double diag = 0;
            for (int b = 0; b < m; b++) {
                if (b == a || norm[b] == 0) continue;
                double cab = gsv[a * m + b] + gsv[b * m + a];
                double sab = g[a][b] / (norm[a] * norm[b]);
                coef[a][b] = (float) (cab / (norm[a] * norm[b]));
                diag -= cab * sab / (norm[a] * norm[a]);
            }
            coef[a][a] = (float) diag;
        }
        Shape s = xs[0].shape();
        int c = s.c();
        int sp = s.spatialSize();
        float[][] x = new float[m][];
        for (int k = 0; k < m; k++) x[k] = xs[k].data();
        if (gxs != null && gxs.length != m) {
            throw new IllegalArgumentException("pairwiseCosine backward: " + gxs.length + " map gradients for " + m
                    + " maps of shape " + s);
        }
        float[][] gx = new float[m][];
        for (int k = 0; k < m; k++) {
            if (gxs != null && gxs[k] != null) {
                ShapeChecks.sameShape("pairwiseCosine backward", xs[k], gxs[k]);
                gx[k] = gxs[k].data();
            }
        }
        float[] r = region == null ? null : region.data();
        float[] gr = gregion == null ? null : gregion.data();
        if (gregion != null) ShapeChecks.shape("pairwiseCosine backward region gradient", gregion, s.with(1, 1));
        Parallel.forRange(s.n() * sp, CpuElementwise.GRAIN / Math.max(1, c * m), (lo, hi) -> {
            float[] t = new float[m];
            for (int v = lo; v < hi; v++) {
                int n = v / sp;
                int i = v % sp;
                float rv = r == null ? 1f : r[v];
                float quad = 0;
                for (int ch = 0; ch < c; ch++) {
                    int idx = (n * c + ch) * sp + i;
                    for (int a = 0; a < m; a++) {
                        float acc = 0;
                        for (int b = 0; b < m; b++) acc += coef[a][b] * x[b][idx];
                        t[a] = acc;
                        quad += x[a][idx] * acc;
                    }
                    for (int a = 0; a < m; a++) if (gx[a] != null) gx[a][idx] = rv * rv * t[a];
                }
                if (gr != null) gr[v] = rv * quad;
            }
        });
    }
}
