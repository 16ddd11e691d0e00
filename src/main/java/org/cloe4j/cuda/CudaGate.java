package org.cloe4j.cuda;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.backend.ShapeChecks.shape;
import static org.cloe4j.cuda.CudaBackend.n;
import static org.cloe4j.cuda.CudaBackend.p;

/** The CUDA backend's gate family: The reliability gate's dense layers and masked softmax ({@code kernels/gating.cu}), mirroring {@code CpuGate}. */
final class CudaGate {
    private final CudaBackend be;

    CudaGate(CudaBackend be) {
        this.be = be;
    }

    void dense(Tensor x, Tensor w, Tensor b, Tensor y) {
        be.ready();
        String op = "dense";
        if (x.shape().rank() != 2 || w.shape().rank() != 2) throw new IllegalArgumentException(op + ": x " + x.shape() + ", w " + w.shape() + " must be rank 2");
        int batch = x.shape().dim(0), in = x.shape().dim(1), out = w.shape().dim(0);
        if (w.shape().dim(1) != in) throw new IllegalArgumentException(op + ": x " + x.shape() + " does not fit w " + w.shape());
        shape(op, "b", b, Shape.of(out));
        shape(op, "y", y, Shape.of(batch, out));
        be.kern().cloe_dense_fwd(be.g1((long) batch * out), p(x, op), p(w, op), p(b, op), p(y, op), batch, in, out);
    }

    void denseBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb) {
        be.ready();
        String op = "denseBackward";
        if (x.shape().rank() != 2 || w.shape().rank() != 2 || w.shape().dim(1) != x.shape().dim(1)) {
            throw new IllegalArgumentException(op + ": x " + x.shape() + " does not fit w " + w.shape());
        }
        int batch = x.shape().dim(0), in = x.shape().dim(1), out = w.shape().dim(0);
        shape(op, "gy", gy, Shape.of(batch, out));
        shape(op, "gx", gx, x.shape());
        shape(op, "gw", gw, w.shape());
        shape(op, "gb", gb, Shape.of(out));
        if (gx != null) be.kern().cloe_dense_bwd_x(be.g1((long) batch * in), p(gy, op), p(w, op), p(gx, op), batch, in, out);
        if (gw != null) be.kern().cloe_dense_bwd_w(be.g1((long) out * in), p(x, op), p(gy, op), p(gw, op), batch, in, out);
        if (gb != null) be.kern().cloe_dense_bwd_b(be.g1(out), p(gy, op), p(gb, op), batch, out);
    }

    /** An all-zero mask throws (a 4-byte read-back; with {@code -Dcloe.cuda.hostChecks=false} it gives all zeros). */
    void maskedSoftmax(Tensor logits, Tensor mask, Tensor y) {
        be.ready();
        sameShape("maskedSoftmax", logits, mask);
        sameShape("maskedSoftmax", logits, y);
        if (logits.shape().rank() != 1) throw new IllegalArgumentException("maskedSoftmax: logits " + logits.shape() + " must have shape [M]");
        if (be.options().hostChecks()) {
            boolean any = false;
            for (float v : be.toHost(mask)) any |= v != 0;
            if (!any) throw new IllegalArgumentException("maskedSoftmax: the mask " + mask.shape() + " selects no entry (need at least one modality)");
        }
        be.kern().cloe_masked_softmax_fwd(Grid.of(1, 1), p(logits, "maskedSoftmax"), p(mask, "maskedSoftmax"), p(y, "maskedSoftmax"), n(y, "maskedSoftmax"));
    }

    void maskedSoftmaxBackward(Tensor y, Tensor gy, Tensor gx) {
        be.ready();
        String op = "maskedSoftmaxBackward";
        sameShape(op, y, gy);
        sameShape(op, y, gx);
        be.kern().cloe_masked_softmax_bwd(Grid.of(1, 1), p(y, op), p(gy, op), p(gx, op), n(y, op));
    }
}
