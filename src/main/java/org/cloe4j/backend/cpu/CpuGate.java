package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/** The gate's small ops (dense layer, masked softmax) and the reliability-weighted fusion of feature maps. */
final class CpuGate {
    private CpuGate() {
    }

    static void dense(Tensor x, Tensor w, Tensor b, Tensor y) {
        Shape xs = x.shape();
        Shape ws = w.shape();
        if (xs.rank() != 2 || ws.rank() != 2 || ws.dim(1) != xs.dim(1)) {
            throw new IllegalArgumentException("dense: input " + xs + " does not fit weight " + ws + " ([out,in])");
        }
        int batch = xs.dim(0);
        int in = xs.dim(1);
        int out = ws.dim(0);
        ShapeChecks.shape("dense", y, Shape.of(batch, out));
        ShapeChecks.bias("dense", b, out);
        float[] xv = x.data();
        float[] wv = w.data();
        float[] yv = y.data();
        for (int r = 0; r < batch; r++) {
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b.data()[o];
                for (int i = 0; i < in; i++) s += (double) xv[r * in + i] * wv[o * in + i];
                yv[r * out + o] = (float) s;
            }
        }
    }

    static void denseBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb) {
        Shape xs = x.shape();
        Shape ws = w.shape();
        if (xs.rank() != 2 || ws.rank() != 2 || ws.dim(1) != xs.dim(1)) {
            throw new IllegalArgumentException("dense backward: input " + xs + " does not fit weight " + ws + " ([out,in])");
        }
        int batch = x.shape().dim(0);
        int in = x.shape().dim(1);
        int out = w.shape().dim(0);
        ShapeChecks.shape("dense backward", gy, Shape.of(batch, out));
        float[] xv = x.data();
        float[] wv = w.data();
        float[] g = gy.data();
        if (gx != null) {
            ShapeChecks.shape("dense backward", gx, x.shape());
            for (int r = 0; r < batch; r++) {
                for (int i = 0; i < in; i++) {
                    double s = 0;
                    for (int o = 0; o < out; o++) s += (double) g[r * out + o] * wv[o * in + i];
                    gx.data()[r * in + i] = (float) s;
                }
            }
        }
        if (gw != null) {
            ShapeChecks.shape("dense backward", gw, w.shape());
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    double s = 0;
                    for (int r = 0; r < batch; r++) s += (double) g[r * out + o] * xv[r * in + i];
                    gw.data()[o * in + i] = (float) s;
                }
            }
        }
        if (gb != null) {
            ShapeChecks.bias("dense backward", gb, out);
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int r = 0; r < batch; r++) s += g[r * out + o];
                gb.data()[o] = (float) s;
            }
        }
    }

    static void maskedSoftmax(Tensor logits, Tensor mask, Tensor y) {
        int m = (int) logits.shape().size();
        if (logits.shape().rank() != 1 || !mask.shape().equals(logits.shape())) {
            throw new IllegalArgumentException("maskedSoftmax: logits " + logits.shape() + " and mask " + mask.shape()
                    + " must both have shape [M]");
        }
        ShapeChecks.sameShape("maskedSoftmax", logits, y);
        float[] l = logits.data();
        float[] k = mask.data();
        float[] out = y.data();
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < m; i++) if (k[i] != 0) max = Math.max(max, l[i]);
        if (max == Float.NEGATIVE_INFINITY) {
            throw new IllegalArgumentException("maskedSoftmax: the mask selects no entry (need at least one modality)");
        }
        double sum = 0;
        for (int i = 0; i < m; i++) {
            out[i] = k[i] != 0 ? (float) Math.exp(l[i] - max) : 0f;
            sum += out[i];
        }
        for (int i = 0; i < m; i++) out[i] = (float) (out[i] / sum);
    }

    static void maskedSoftmaxBackward(Tensor y, Tensor gy, Tensor gx) {
        ShapeChecks.sameShape("maskedSoftmax backward", y, gy);
        ShapeChecks.sameShape("maskedSoftmax backward", y, gx);
        float[] ys = y.data();
        float[] g = gy.data();
        double dot = 0;
        for (int i = 0; i < ys.length; i++) dot += (double) ys[i] * g[i];
        for (int i = 0; i < ys.length; i++) gx.data()[i] = (float) (ys[i] * (g[i] - dot));
    }

    private static void checkStack(String op, Tensor[] xs, Tensor w, Tensor y) {
        if (xs.length == 0) throw new IllegalArgumentException(op + ": no inputs");
        ShapeChecks.shape(op + " weights", w, Shape.of(xs.length));
        for (Tensor x : xs) ShapeChecks.sameShape(op, x, y);
    }

    static void weightedSum(Tensor[] xs, Tensor w, Tensor y) {
        checkStack("weightedSum", xs, w, y);
        float[] wv = w.data();
        float[] out = y.data();
        int m = xs.length;
        float[][] maps = new float[m][];
        for (int k = 0; k < m; k++) maps[k] = xs[k].data();
        // per run of 1024 voxels (kept in L1), the maps added in order: plain loops the JIT vectorises, and that run
        // fast before it has (the first window of a process); the scalar formula's roundings, in its order
        Parallel.forRange(out.length, CpuElementwise.GRAIN, (lo, hi) -> {
            for (int r0 = lo; r0 < hi; r0 += 1024) {
                int r1 = Math.min(hi, r0 + 1024);
                float w0 = wv[0];
                float[] x0 = maps[0];
                for (int i = r0; i < r1; i++) out[i] = 0f + w0 * x0[i];
                for (int k = 1; k < m; k++) {
                    float wk = wv[k];
                    float[] xk = maps[k];
                    for (int i = r0; i < r1; i++) out[i] += wk * xk[i];
                }
            }
        });
    }

    static void weightedSumBackward(Tensor[] xs, Tensor w, Tensor gy, Tensor[] gxs, Tensor gw) {
        checkStack("weightedSum backward", xs, w, gy);
        if (gxs != null && gxs.length != xs.length) {
            throw new IllegalArgumentException("weightedSum backward: " + gxs.length + " map gradients for " + xs.length
                    + " maps of shape " + gy.shape());
        }
        if (gw != null) ShapeChecks.shape("weightedSum backward weights", gw, w.shape());
        float[] wv = w.data();
        float[] g = gy.data();
        for (int k = 0; k < xs.length; k++) {
            if (gxs != null && gxs[k] != null) {
                ShapeChecks.sameShape("weightedSum backward", gy, gxs[k]);
                float[] out = gxs[k].data();
                float wk = wv[k];
                Parallel.forRange(out.length, CpuElementwise.GRAIN, (lo, hi) -> {
                    for (int i = lo; i < hi; i++) out[i] = wk * g[i];
                });
            }
            if (gw != null) gw.data()[k] = (float) CpuReduce.dot(g, xs[k].data());
        }
    }
}
