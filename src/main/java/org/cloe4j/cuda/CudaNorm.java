package org.cloe4j.cuda;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.backend.ShapeChecks.shape;
import static org.cloe4j.backend.ShapeChecks.volume;
import static org.cloe4j.cuda.CudaBackend.BLOCK;
import static org.cloe4j.cuda.CudaBackend.p;
import static org.cloe4j.cuda.CudaBackend.spatialOf;

/** The CUDA backend's norm family: Trilinear up-sampling ({@code kernels/resample.cu}) and instance norm ({@code kernels/norm.cu}), mirroring {@code CpuNorm}. */
final class CudaNorm {
    private final CudaBackend be;

    CudaNorm(CudaBackend be) {
        this.be = be;
    }

    void upsample2x(Tensor x, Tensor y) {
        be.ready();
        volume("upsample2x", x);
        Shape s = x.shape();
        if (!y.shape().equals(Shape.ncdhw(s.n(), s.c(), 2 * s.d(), 2 * s.h(), 2 * s.w()))) {
            throw new IllegalArgumentException("upsample2x: output " + y.shape() + " is not twice the input " + s);
        }
        be.kern().cloe_upsample2x_fwd(be.g1(y.shape().size()), p(x, "upsample2x"), p(y, "upsample2x"), s.n() * s.c(), s.d(), s.h(), s.w());
    }

    void upsample2xBackward(Tensor gy, Tensor gx) {
        be.ready();
        volume("upsample2xBackward", gx);
        Shape s = gx.shape();
        if (!gy.shape().equals(Shape.ncdhw(s.n(), s.c(), 2 * s.d(), 2 * s.h(), 2 * s.w()))) {
            throw new IllegalArgumentException("upsample2xBackward: gy " + gy.shape() + " is not twice gx " + s);
        }
        if (be.options().version("upsampleBackward") == 1) {
            be.zero(p(gx, "upsample2xBackward"), s.size());
            be.kern().cloe_upsample2x_bwd_v1(be.g1(gy.shape().size()), p(gy, "upsample2xBackward"), gx.devicePointer(), s.n() * s.c(), s.d(), s.h(), s.w());
        } else {
            be.kern().cloe_upsample2x_bwd_v2(be.g1(s.size()), p(gy, "upsample2xBackward"), p(gx, "upsample2xBackward"), s.n() * s.c(), s.d(), s.h(), s.w());
        }
    }

    void instanceNorm(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, float eps) {
        be.ready();
        String op = "instanceNorm";
        Shape s = x.shape();
        volume(op, x);
        sameShape(op, x, y);
        shape(op, "mean", mean, Shape.of(s.n(), s.c()));
        shape(op, "rstd", rstd, Shape.of(s.n(), s.c()));
        shape(op, "gamma", gamma, Shape.of(s.c()));
        shape(op, "beta", beta, Shape.of(s.c()));
        int nc = s.n() * s.c(), sp = spatialOf(s);
        int v = be.options().version(op);
        if (v == 1) {
            be.kern().cloe_instance_norm_fwd_v1(be.g1(nc), p(x, op), p(gamma, op), p(beta, op), p(y, op), p(mean, op), p(rstd, op), nc, s.c(), sp, eps);
        } else if (v == 3) {
            int splits = be.splitsPerMap(nc, sp);
            long partials = be.scratch(2L * splits * nc, op + " partials"), sums = be.scratch(2L * nc, op + " sums");
            try {
                be.kern().cloe_instance_norm_stats_v3(new Grid(splits, nc, 1, BLOCK), p(x, op), partials, nc, sp);
                be.kern().cloe_reduce_columns(Grid.of(Math.min(2 * nc, 65535), BLOCK), partials, splits, 2 * nc, sums, 1f);
                be.kern().cloe_instance_norm_finish_v3(be.g1(nc), sums, p(x, op), p(mean, op), p(rstd, op), nc, sp, eps);
                be.kern().cloe_instance_norm_apply_v3(be.g1(s.size()), p(x, op), p(gamma, op), p(beta, op), p(mean, op), p(rstd, op), p(y, op), nc, s.c(), sp);
            } finally {
                be.free(partials);
                be.free(sums);
            }
        } else {
            be.kern().cloe_instance_norm_fwd_v2(Grid.of(Math.min(nc, 65535), 512), p(x, op), p(gamma, op), p(beta, op), p(y, op), p(mean, op), p(rstd, op), nc, s.c(), sp, eps);
        }
    }

    void instanceNormBackward(Tensor x, Tensor gy, Tensor mean, Tensor rstd, Tensor gamma,
                                     Tensor gx, Tensor ggamma, Tensor gbeta) {
        be.ready();
        String op = "instanceNormBackward";
        volume(op, x);
        Shape s = x.shape();
        sameShape(op, x, gy);
        sameShape(op, x, gx);
        shape(op, "mean", mean, Shape.of(s.n(), s.c()));
        shape(op, "rstd", rstd, Shape.of(s.n(), s.c()));
        shape(op, "gamma", gamma, Shape.of(s.c()));
        shape(op, "ggamma", ggamma, Shape.of(s.c()));
        shape(op, "gbeta", gbeta, Shape.of(s.c()));
        int nc = s.n() * s.c(), sp = spatialOf(s);
        long part = be.scratch(2L * nc, op + " partial sums");
        try {
            int v = be.options().version("instanceNorm");
            if (v == 3) {
                int splits = be.splitsPerMap(nc, sp);
                long partials = be.scratch(2L * splits * nc, op + " partials");
                try {
                    be.kern().cloe_instance_norm_bwd_sums_v3(new Grid(splits, nc, 1, BLOCK), p(x, op), p(gy, op), p(mean, op), p(rstd, op), partials, nc, sp);
                    be.kern().cloe_reduce_columns(Grid.of(Math.min(2 * nc, 65535), BLOCK), partials, splits, 2 * nc, part, 1f);
                } finally {
                    be.free(partials);
                }
                be.kern().cloe_instance_norm_bwd_apply_v3(be.g1(s.size()), p(x, op), p(gy, op), p(mean, op), p(rstd, op), p(gamma, op), part, p(gx, op), nc, s.c(), sp);
            } else if (v == 1) {
                be.kern().cloe_instance_norm_bwd_v1(be.g1(nc), p(x, op), p(gy, op), p(mean, op), p(rstd, op), p(gamma, op), p(gx, op), part, nc, s.c(), sp);
            } else {
                be.kern().cloe_instance_norm_bwd_v2(Grid.of(Math.min(nc, 65535), 512), p(x, op), p(gy, op), p(mean, op), p(rstd, op), p(gamma, op), p(gx, op), part, nc, s.c(), sp);
            }
            if (ggamma != null || gbeta != null) {
                be.kern().cloe_instance_norm_affine_grad(be.g1(s.c()), part, p(ggamma, op), p(gbeta, op), s.n(), s.c());
            }
        } finally {
            be.free(part);
        }
    }
}
