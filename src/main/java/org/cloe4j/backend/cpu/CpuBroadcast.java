package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * Binary ops with broadcasting (a dimension of size 1 repeats) and their adjoint, the sum down to a smaller shape.
 * Shapes are padded to rank 5 and walked as four outer loops around a contiguous innermost row.
 */
final class CpuBroadcast {
    private CpuBroadcast() {
    }

    static void binary(String op, Tensor a, Tensor b, Tensor y, boolean multiply) {
        Shape out = broadcastShape(op, a.shape(), b.shape());
        ShapeChecks.shape(op, y, out);
        float[] as = a.data();
        float[] bs = b.data();
        float[] ys = y.data();
        if (a.shape().equals(b.shape())) {
            Parallel.forRange(ys.length, CpuElementwise.GRAIN, (lo, hi) -> {
                if (multiply) for (int i = lo; i < hi; i++) ys[i] = as[i] * bs[i];
                else for (int i = lo; i < hi; i++) ys[i] = as[i] + bs[i];
            });
            return;
        }
        int[] o = pad5(out);
        int[] sa = strides(pad5(a.shape()), o);
        int[] sb = strides(pad5(b.shape()), o);
        int rows = o[0] * o[1] * o[2] * o[3];
        int w = o[4];
        Parallel.forRange(rows, Math.max(1, CpuElementwise.GRAIN / w), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int ia = rowOffset(r, o, sa);
                int ib = rowOffset(r, o, sb);
                int iy = r * w;
                int da = sa[4];
                int db = sb[4];
                if (multiply) {
                    for (int x = 0; x < w; x++) ys[iy + x] = as[ia + x * da] * bs[ib + x * db];
                } else {
                    for (int x = 0; x < w; x++) ys[iy + x] = as[ia + x * da] + bs[ib + x * db];
                }
            }
        });
    }

    static void sumTo(Tensor x, Tensor y) {
        Shape xs = x.shape();
        Shape ys = y.shape();
        if (xs.rank() != ys.rank()) {
            throw new IllegalArgumentException("sumTo: ranks differ: " + xs + " to " + ys);
        }
        for (int i = 0; i < xs.rank(); i++) {
            if (ys.dim(i) != 1 && ys.dim(i) != xs.dim(i)) {
                throw new IllegalArgumentException("sumTo: cannot reduce " + xs + " to " + ys);
            }
        }
        float[] in = x.data();
        float[] out = y.data();
        if (xs.equals(ys)) {
            System.arraycopy(in, 0, out, 0, in.length);
            return;
        }
        int[] o = pad5(xs);
        int[] so = strides(pad5(ys), o);
        double[] acc = new double[out.length];
        int w = o[4];
        int rows = o[0] * o[1] * o[2] * o[3];
        for (int r = 0; r < rows; r++) {
            int iy = rowOffset(r, o, so);
            int base = r * w;
            if (so[4] == 0) {
                double s = 0;
                for (int k = 0; k < w; k++) s += in[base + k];
                acc[iy] += s;
            } else {
                for (int k = 0; k < w; k++) acc[iy + k] += in[base + k];
            }
        }
        for (int i = 0; i < out.length; i++) out[i] = (float) acc[i];
    }

    /** The shape both operands broadcast to; throws naming the op when they do not. */
    static Shape broadcastShape(String op, Shape a, Shape b) {
        if (a.rank() != b.rank()) {
            throw new IllegalArgumentException(op + ": operands must have the same rank, got " + a + " and " + b);
        }
        int[] d = new int[a.rank()];
        for (int i = 0; i < d.length; i++) {
            int x = a.dim(i);
            int z = b.dim(i);
            if (x != z && x != 1 && z != 1) {
                throw new IllegalArgumentException(op + ": shapes " + a + " and " + b + " do not broadcast (dim " + i + ")");
            }
            d[i] = Math.max(x, z);
        }
        return Shape.of(d);
    }

    private static int[] pad5(Shape s) {
        int[] d = {1, 1, 1, 1, 1};
        int off = 5 - s.rank();
        for (int i = 0; i < s.rank(); i++) d[off + i] = s.dim(i);
        return d;
    }

    /** Row-major strides of {@code dims}, with 0 where the dimension is broadcast against {@code full}. */
    private static int[] strides(int[] dims, int[] full) {
        int[] s = new int[5];
        int acc = 1;
        for (int i = 4; i >= 0; i--) {
            s[i] = dims[i] == 1 && full[i] != 1 ? 0 : acc;
            acc *= dims[i];
        }
        return s;
    }

    /**
     * The offset, under strides {@code s}, of row {@code r} of a 5-d shape {@code o} whose rows run along its last
     * axis (row index = ((i0·o1 + i1)·o2 + i2)·o3 + i3).
     */
    private static int rowOffset(int r, int[] o, int[] s) {
        int i3 = r % o[3];
        r /= o[3];
        int i2 = r % o[2];
        r /= o[2];
        int i1 = r % o[1];
        int i0 = r / o[1];
        return i0 * s[0] + i1 * s[1] + i2 * s[2] + i3 * s[3];
    }
}
