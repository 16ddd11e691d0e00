package org.cloe4j.cuda;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.backend.ShapeChecks.shape;
import static org.cloe4j.backend.ShapeChecks.volume;
import static org.cloe4j.cuda.CudaBackend.BLOCK;
import static org.cloe4j.cuda.CudaBackend.MAX_EXPERTS;
import static org.cloe4j.cuda.CudaBackend.n;
import static org.cloe4j.cuda.CudaBackend.p;

/** The CUDA backend's consistency family: CLoE's agreement scores and weighted fusion ({@code kernels/consistency.cu}, {@code kernels/gating.cu}), mirroring {@code CpuConsistency}. */
final class CudaConsistency {
    private final CudaBackend be;

    CudaConsistency(CudaBackend be) {
        this.be = be;
    }

    /** The fused kernels' eight pointer slots: the tensors' addresses, then nulls. */
    private static long[] ptrSlots(Tensor[] ts, String op) {
        long[] out = new long[MAX_EXPERTS];
        for (int i = 0; i < MAX_EXPERTS; i++) out[i] = i < ts.length ? p(ts[i], op) : 0L;
        return out;
    }

    private static Object[] slots(Tensor[] ts, String op) {
        Object[] out = new Object[MAX_EXPERTS];
        for (int i = 0; i < MAX_EXPERTS; i++) out[i] = i < ts.length ? p(ts[i], op) : 0L;
        return out;
    }

    private static Object[] concat(Object[]... parts) {
        int n = 0;
        for (Object[] p : parts) n += p.length;
        Object[] out = new Object[n];
        int i = 0;
        for (Object[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }

    private void checkExperts(String op, Tensor[] xs, Tensor region) {
        if (xs.length < 1 || xs.length > MAX_EXPERTS) {
            throw new IllegalArgumentException(op + ": " + xs.length + " maps; the CUDA kernels take 1.." + MAX_EXPERTS);
        }
        for (Tensor x : xs) {
            volume(op, x);
            sameShape(op, xs[0], x);
        }
        Shape s = xs[0].shape();
        shape(op, "region", region, Shape.ncdhw(s.n(), 1, s.d(), s.h(), s.w()));
    }

    /** The packed pairwise dot products [K] into a scratch buffer the caller frees. */
    private long pairwiseDots(String op, Tensor[] xs, Tensor region) {
        int m = xs.length, kk = m * (m + 1) / 2;
        Shape s = xs[0].shape();
        int batch = s.n(), c = s.c(), sp = s.spatialSize();
        long total = s.size();
        long dots = be.scratch(kk, op + " dots");
        if (be.options().version("pairwiseCosine") == 1) {
            be.zero(dots, kk);
            long r = p(region, op);
            int k = 0;
            for (int a = 0; a < m; a++) {
                for (int b = a; b < m; b++, k++) {
                    be.kern().cloe_dot_v1(be.g1(total), p(xs[a], op), p(xs[b], op), r, dots + 4L * k, batch, c, sp);
                }
            }
        } else {
            int blocks = (int) Math.max(1, Math.min((total / 4 + BLOCK - 1) / BLOCK, be.device().multiprocessors() * 4L));
            long partials = be.scratch((long) blocks * kk, op + " partials");
            try {
                be.kern().launcher().launch1d("cloe_pairwise_dots_v2_m" + m, blocks, BLOCK,
                        concat(slots(xs, op), new Object[]{p(region, op), partials, batch, c, sp, 0}));
                be.kern().cloe_reduce_columns(Grid.of(kk, BLOCK), partials, blocks, kk, dots, 1f);
            } finally {
                be.free(partials);
            }
        }
        return dots;
    }

    void pairwiseCosine(Tensor[] xs, Tensor region, Tensor s) {
        be.ready();
        String op = "pairwiseCosine";
        checkExperts(op, xs, region);
        int m = xs.length;
        shape(op, "s", s, Shape.of(m, m));
        long dots = pairwiseDots(op, xs, region);
        try {
            be.kern().cloe_cosine_finish(be.g1((long) m * m), dots, p(s, op), m);
        } finally {
            be.free(dots);
        }
    }

    void pairwiseCosineBackward(Tensor[] xs, Tensor region, Tensor gs, Tensor[] gxs, Tensor gregion) {
        be.ready();
        String op = "pairwiseCosineBackward";
        checkExperts(op, xs, region);
        int m = xs.length;
        shape(op, "gs", gs, Shape.of(m, m));
        if (gxs != null && gxs.length != m) {
            throw new IllegalArgumentException(op + ": " + gxs.length + " gradients for " + m + " maps of shape " + xs[0].shape());
        }
        Tensor[] g = gxs == null ? new Tensor[0] : gxs;
        for (Tensor t : g) if (t != null) sameShape(op, xs[0], t);
        if (gregion != null) {
            if (region == null) throw new IllegalArgumentException(op + ": a region gradient " + gregion.shape() + " without a region");
            sameShape(op, region, gregion);
        }
        Shape s = xs[0].shape();
        long dots = pairwiseDots(op, xs, region);
        long coeffs = be.scratch((long) m * m, op + " coefficients");
        try {
            be.kern().cloe_cosine_bwd_coeffs(be.g1(m), dots, p(gs, op), coeffs, m);
            Object[] gslots = new Object[MAX_EXPERTS];
            for (int i = 0; i < MAX_EXPERTS; i++) gslots[i] = i < g.length ? p(g[i], op) : 0L;
            be.k("cloe_cosine_bwd_apply_m" + m, (long) s.n() * s.spatialSize(), concat(slots(xs, op),
                    new Object[]{p(region, op), coeffs}, gslots, new Object[]{p(gregion, op), s.n(), s.c(), s.spatialSize()}));
        } finally {
            be.free(coeffs);
            be.free(dots);
        }
    }

    void weightedSum(Tensor[] xs, Tensor w, Tensor y) {
        be.ready();
        String op = "weightedSum";
        if (xs.length < 1 || xs.length > MAX_EXPERTS) throw new IllegalArgumentException(op + ": " + xs.length + " inputs; CUDA takes 1.." + MAX_EXPERTS);
        for (Tensor x : xs) sameShape(op, y, x);
        shape(op, "w", w, Shape.of(xs.length));
        int n = n(y, op), m = xs.length;
        if (be.options().version(op) == 1) {
            for (int k = 0; k < m; k++) be.kern().cloe_weighted_sum_v1(be.g1(n), p(xs[k], op), p(w, op), k, p(y, op), n, k > 0 ? 1 : 0);
        } else {
            long[] x = ptrSlots(xs, op);
            be.kern().cloe_weighted_sum_v2(be.g1((n + 3) / 4), x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], p(w, op), p(y, op), m, n);
        }
    }

    void weightedSumBackward(Tensor[] xs, Tensor w, Tensor gy, Tensor[] gxs, Tensor gw) {
        be.ready();
        String op = "weightedSumBackward";
        int m = xs.length;
        if (m < 1 || m > MAX_EXPERTS) throw new IllegalArgumentException(op + ": " + m + " inputs; CUDA takes 1.." + MAX_EXPERTS);
        for (Tensor x : xs) sameShape(op, gy, x);
        shape(op, "w", w, Shape.of(m));
        shape(op, "gw", gw, Shape.of(m));
        Tensor[] g = gxs == null ? new Tensor[0] : gxs;
        if (g.length != 0 && g.length != m) throw new IllegalArgumentException(op + ": " + g.length + " gradients for " + m + " inputs");
        for (Tensor t : g) if (t != null) sameShape(op, gy, t);
        int n = n(gy, op);
        if (be.options().version("weightedSum") == 1) {
            for (int k = 0; k < g.length; k++) {
                if (g[k] != null) be.kern().cloe_weighted_sum_bwd_gx_v1(be.g1(n), p(gy, op), p(w, op), k, p(g[k], op), n);
            }
            if (gw != null) {
                be.zero(gw.devicePointer(), m);
                for (int k = 0; k < m; k++) {
                    be.kern().cloe_dot_v1(be.g1(n), p(gy, op), p(xs[k], op), 0L, gw.devicePointer() + 4L * k, 1, 1, n);
                }
            }
        } else {
            int blocks = be.grid((n + 3) / 4);
            long partials = be.scratch((long) blocks * m, op + " partials");
            try {
                long[] x = ptrSlots(xs, op), gx = ptrSlots(g, op);
                be.kern().cloe_weighted_sum_bwd_v2(Grid.of(blocks, BLOCK), x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], p(w, op),
                        p(gy, op), gx[0], gx[1], gx[2], gx[3], gx[4], gx[5], gx[6], gx[7], partials, m, n);
                if (gw != null) be.kern().cloe_reduce_columns(Grid.of(m, BLOCK), partials, blocks, m, gw.devicePointer(), 1f);
            } finally {
                be.free(partials);
            }
        }
    }
}
