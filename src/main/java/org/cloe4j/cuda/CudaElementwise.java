package org.cloe4j.cuda;

import org.cloe4j.backend.Pointwise;
import org.cloe4j.tensor.Tensor;

import java.util.Arrays;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.cuda.CudaBackend.BLOCK;
import static org.cloe4j.cuda.CudaBackend.n;
import static org.cloe4j.cuda.CudaBackend.p;

/** The CUDA backend's elementwise family: Element-wise ops, activations, broadcasting and sumTo ({@code kernels/elementwise.cu}, {@code kernels/activation.cu}), mirroring {@code CpuElementwise} / {@code CpuBroadcast}. */
final class CudaElementwise {
    private final CudaBackend be;

    CudaElementwise(CudaBackend be) {
        this.be = be;
    }

    /** Every {@link Pointwise} function through one kernel, which switches on {@link Pointwise#code()}. */
    void pointwise(Pointwise f, float a, Tensor x, Tensor y) {
        be.ready();
        f.checkForward(a, x, y);
        String op = f.opName();
        int n = n(x, op);
        be.kern().cloe_pointwise_fwd(be.g1(n), f.code(), a, p(x, op), p(y, op), n);
    }

    void pointwiseBackward(Pointwise f, float a, Tensor x, Tensor y, Tensor gy, Tensor gx) {
        be.ready();
        f.checkBackward(a, x, y, gy, gx);
        String op = f.opName() + " backward";
        int n = n(gy, op);
        long px = f.readsInput() ? p(x, op) : 0L, py = f.readsOutput() ? p(y, op) : 0L;
        be.kern().cloe_pointwise_bwd(be.g1(n), f.code(), a, px, py, p(gy, op), p(gx, op), n);
    }

    void scale(Tensor x, float s, Tensor y) {
        be.ready();
        sameShape("scale", x, y);
        int n = n(x, "scale");
        be.kern().cloe_scale(be.g1(n), p(x, "scale"), s, p(y, "scale"), n);
    }

    void add(Tensor a, Tensor b, Tensor y) {
        broadcast("add", 0, a, b, y);
    }

    void mul(Tensor a, Tensor b, Tensor y) {
        broadcast("mul", 1, a, b, y);
    }

    private void broadcast(String op, int code, Tensor a, Tensor b, Tensor y) {
        be.ready();
        int r = y.shape().rank();
        if (a.shape().rank() != r || b.shape().rank() != r) {
            throw new IllegalArgumentException(op + ": ranks differ: " + a.shape() + ", " + b.shape() + " -> " + y.shape());
        }
        int[] yd = pad5(y.shape().dims(), 1);
        int[] ad = pad5(a.shape().dims(), 1), bd = pad5(b.shape().dims(), 1);
        for (int i = 0; i < 5; i++) {
            int full = Math.max(ad[i], bd[i]);
            if ((ad[i] != full && ad[i] != 1) || (bd[i] != full && bd[i] != 1) || yd[i] != full) {
                throw new IllegalArgumentException(op + ": cannot broadcast " + a.shape() + " and " + b.shape() + " to " + y.shape());
            }
        }
        int[] as = broadcastStrides(ad), bs = broadcastStrides(bd);
        int n = n(y, op);
        be.kern().cloe_broadcast_binary(be.g1(n), p(a, op), p(b, op), p(y, op), code, n, yd[0], yd[1], yd[2], yd[3], yd[4], as[0], as[1], as[2], as[3], as[4], bs[0], bs[1], bs[2], bs[3], bs[4]);
    }

    /** The dims right-aligned in five, leading dims filled with {@code fill}. */
    private static int[] pad5(int[] dims, int fill) {
        int[] out = new int[5];
        Arrays.fill(out, fill);
        System.arraycopy(dims, 0, out, 5 - dims.length, dims.length);
        return out;
    }

    /** Row-major element strides, 0 where the dim has size 1 (so the index does not move on broadcast dims). */
    private static int[] broadcastStrides(int[] dims) {
        int[] s = new int[5];
        int st = 1;
        for (int i = 4; i >= 0; i--) {
            s[i] = dims[i] == 1 ? 0 : st;
            st *= dims[i];
        }
        return s;
    }

    void sumTo(Tensor x, Tensor y) {
        be.ready();
        int r = x.shape().rank();
        if (y.shape().rank() != r) throw new IllegalArgumentException("sumTo: ranks differ: " + x.shape() + " -> " + y.shape());
        int[] xd = pad5(x.shape().dims(), 1), yd = pad5(y.shape().dims(), 1);
        int mask = 0;
        for (int i = 0; i < 5; i++) {
            if (yd[i] == xd[i]) continue;
            if (yd[i] != 1) throw new IllegalArgumentException("sumTo: cannot reduce " + x.shape() + " to " + y.shape());
            mask |= 1 << i;
        }
        sumToRaw(p(x, "sumTo"), p(y, "sumTo"), n(y, "sumTo"), xd, mask);
    }

    void sumToRaw(long x, long y, int ny, int[] xd, int mask) {
        int v = be.options().version("sumTo");
        if (v == 3 && ny <= 4096) {
            long count = 1;
            for (int i = 0; i < 5; i++) if ((mask & (1 << i)) != 0) count *= xd[i];
            int splits = be.splitsPerMap(ny, (int) Math.min(count, Integer.MAX_VALUE));
            long partials = be.scratch((long) splits * ny, "sumTo partials");
            try {
                be.kern().cloe_sum_to_split_v3(new Grid(splits, ny, 1, BLOCK), x, partials, ny, xd[0], xd[1], xd[2], xd[3], xd[4], mask);
                be.kern().cloe_reduce_columns(Grid.of(Math.min(ny, 65535), BLOCK), partials, splits, ny, y, 1f);
            } finally {
                be.free(partials);
            }
        } else if (v == 1 || v == 3) {
            be.kern().cloe_sum_to_v1(be.g1(ny), x, y, ny, xd[0], xd[1], xd[2], xd[3], xd[4], mask);
        } else {
            be.kern().cloe_sum_to_v2(Grid.of(Math.min(ny, 1 << 20), BLOCK), x, y, ny, xd[0], xd[1], xd[2], xd[3], xd[4], mask);
        }
    }
}
