package org.cloe4j.data;

import java.util.Arrays;
import java.util.TreeSet;

/**
 * Resampling of a whole voxel grid to another number of voxels over the same field of view: output voxel o of an
 * axis of n → m voxels sits at input coordinate {@code (o + 0.5)·n/m − 0.5} (voxel centres, the outer edges of the
 * first and last voxels kept in place; coordinates beyond the outer centres take the edge value). Images are
 * interpolated trilinearly; label maps as nnU-Net resamples segmentations: each label's one-hot map is interpolated
 * trilinearly and every voxel takes the label of the largest value (ties go to the smaller label value).
 * Both are separable, one axis at a time. Dims are {@code {nx, ny, nz}}, arrays in file order (x fastest).
 */
public final class Resampler {

    private Resampler() {}

    /** The voxel count of an axis of {@code n} voxels of {@code from} mm resampled to about {@code to} mm. */
    public static int size(int n, double from, double to) {
        return (int) Math.max(1, Math.round(n * from / to));
    }

    /**
     * The affine of a grid of {@code outDims} voxels over the field of view of a grid of {@code inDims} voxels with
     * affine {@code in}: columns scaled by n/m, the origin moved to the first output voxel's centre.
     */
    public static double[] affine(double[] in, int[] inDims, int[] outDims) {
        double[] out = in.clone();
        for (int a = 0; a < 3; a++) {
            double ratio = (double) inDims[a] / outDims[a];
            double shift = 0.5 * ratio - 0.5;
            for (int r = 0; r < 3; r++) {
                out[r * 4 + 3] += in[r * 4 + a] * shift;
                out[r * 4 + a] = in[r * 4 + a] * ratio;
            }
        }
        return out;
    }

    /** Trilinear resampling of an image of {@code inDims} to {@code outDims}. */
    public static float[] trilinear(float[] in, int[] inDims, int[] outDims) {
        check(in, inDims, outDims);
        float[] v = in;
        int[] dims = inDims.clone();
        for (int axis = 0; axis < 3; axis++) {
            if (dims[axis] == outDims[axis]) continue;
            v = alongAxis(v, dims, axis, outDims[axis]);
            dims[axis] = outDims[axis];
        }
        return v == in ? in.clone() : v;
    }

    /** A label map (any values, typically 0/1/2/4) resampled through its one-hot maps; see the class comment. */
    public static float[] labels(float[] in, int[] inDims, int[] outDims) {
        check(in, inDims, outDims);
        TreeSet<Float> values = new TreeSet<>();
        for (float x : in) values.add(x);
        int n = outDims[0] * outDims[1] * outDims[2];
        float[] out = new float[n];
        float[] best = new float[n];
        Arrays.fill(best, -1);
        float[] oneHot = new float[in.length];
        for (float label : values) {
            for (int i = 0; i < in.length; i++) oneHot[i] = in[i] == label ? 1 : 0;
            float[] p = trilinear(oneHot, inDims, outDims);
            for (int i = 0; i < n; i++) {
                if (p[i] > best[i]) {
                    best[i] = p[i];
                    out[i] = label;
                }
            }
        }
        return out;
    }

    private static void check(float[] in, int[] inDims, int[] outDims) {
        if (in.length != (long) inDims[0] * inDims[1] * inDims[2]) {
            throw new IllegalArgumentException("array has " + in.length + " values, dims " + Arrays.toString(inDims));
        }
        for (int d : outDims) if (d < 1) throw new IllegalArgumentException("output dims must be positive: " + Arrays.toString(outDims));
    }

    /** Linear interpolation along one axis from dims[axis] to m voxels. */
    private static float[] alongAxis(float[] in, int[] dims, int axis, int m) {
        int n = dims[axis];
        int[] lo = new int[m];
        float[] w = new float[m];
        double ratio = (double) n / m;
        for (int o = 0; o < m; o++) {
            double c = Math.min(n - 1, Math.max(0, (o + 0.5) * ratio - 0.5));
            int l = Math.min((int) Math.floor(c), n - 1);
            lo[o] = l;
            w[o] = (float) (c - l);
        }
        int[] outDims = dims.clone();
        outDims[axis] = m;
        float[] out = new float[outDims[0] * outDims[1] * outDims[2]];
        int nx = dims[0], ny = dims[1], nz = dims[2];
        int mx = outDims[0], my = outDims[1];
        switch (axis) {
            case 0 -> {
                for (int z = 0; z < nz; z++) {
                    for (int y = 0; y < ny; y++) {
                        int src = (z * ny + y) * nx, dst = (z * my + y) * mx;
                        for (int o = 0; o < m; o++) {
                            int l = lo[o];
                            float a = in[src + l], b = l + 1 < n ? in[src + l + 1] : a;
                            out[dst + o] = a + w[o] * (b - a);
                        }
                    }
                }
            }
            case 1 -> {
                for (int z = 0; z < nz; z++) {
                    for (int o = 0; o < m; o++) {
                        int l = lo[o], h = Math.min(l + 1, n - 1);
                        float t = w[o];
                        int a = (z * ny + l) * nx, b = (z * ny + h) * nx, dst = (z * my + o) * mx;
                        for (int x = 0; x < nx; x++) out[dst + x] = in[a + x] + t * (in[b + x] - in[a + x]);
                    }
                }
            }
            default -> {
                int plane = nx * ny;
                for (int o = 0; o < m; o++) {
                    int l = lo[o], h = Math.min(l + 1, n - 1);
                    float t = w[o];
                    int a = l * plane, b = h * plane, dst = o * plane;
                    for (int i = 0; i < plane; i++) out[dst + i] = in[a + i] + t * (in[b + i] - in[a + i]);
                }
            }
        }
        return out;
    }
}
