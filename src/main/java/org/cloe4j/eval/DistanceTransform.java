package org.cloe4j.eval;

/**
 * Exact squared Euclidean distance transform with anisotropic voxel spacing (Felzenszwalb and Huttenlocher,
 * "Distance Transforms of Sampled Functions", 2012): the 3D transform is three passes of the 1D lower envelope of
 * parabolas, one per axis, each on the result of the previous pass.
 */
final class DistanceTransform {

    private DistanceTransform() {}

    /**
     * For every voxel, the squared distance in mm² to the nearest voxel where {@code feature} is true
     * (infinity when there is none). Volume {@code nx × ny × nz}, x fastest; {@code spacing} in mm along x, y, z.
     */
    static double[] squared(boolean[] feature, int nx, int ny, int nz, double[] spacing) {
        double[] d = new double[feature.length];
        for (int i = 0; i < d.length; i++) d[i] = feature[i] ? 0 : Double.POSITIVE_INFINITY;
        int max = Math.max(nx, Math.max(ny, nz));
        double[] f = new double[max], out = new double[max], z = new double[max + 1];
        int[] v = new int[max];
        // along x
        for (int k = 0; k < nz; k++) {
            for (int j = 0; j < ny; j++) {
                int base = (k * ny + j) * nx;
                for (int i = 0; i < nx; i++) f[i] = d[base + i];
                pass(f, nx, spacing[0], out, v, z);
                for (int i = 0; i < nx; i++) d[base + i] = out[i];
            }
        }
        // along y
        for (int k = 0; k < nz; k++) {
            for (int i = 0; i < nx; i++) {
                for (int j = 0; j < ny; j++) f[j] = d[(k * ny + j) * nx + i];
                pass(f, ny, spacing[1], out, v, z);
                for (int j = 0; j < ny; j++) d[(k * ny + j) * nx + i] = out[j];
            }
        }
        // along z
        for (int j = 0; j < ny; j++) {
            for (int i = 0; i < nx; i++) {
                for (int k = 0; k < nz; k++) f[k] = d[(k * ny + j) * nx + i];
                pass(f, nz, spacing[2], out, v, z);
                for (int k = 0; k < nz; k++) d[(k * ny + j) * nx + i] = out[k];
            }
        }
        return d;
    }

    /**
     * 1D transform: out[p] = min over q of (s·(p − q))² + f[q]. Parabolas with infinite f are skipped, so rows with no
     * feature stay infinite.
     */
    static void pass(double[] f, int n, double s, double[] out, int[] v, double[] z) {
        int k = -1;
        for (int q = 0; q < n; q++) {
            if (f[q] == Double.POSITIVE_INFINITY) continue;
            double xq = q * s;
            while (true) {
                if (k < 0) {
                    k = 0;
                    v[0] = q;
                    z[0] = Double.NEGATIVE_INFINITY;
                    z[1] = Double.POSITIVE_INFINITY;
                    break;
                }
                double xv = v[k] * s;
                double inter = ((f[q] + xq * xq) - (f[v[k]] + xv * xv)) / (2 * xq - 2 * xv);
                if (inter <= z[k]) {
                    k--;
                    continue;
                }
                k++;
                v[k] = q;
                z[k] = inter;
                z[k + 1] = Double.POSITIVE_INFINITY;
                break;
            }
        }
        if (k < 0) {
            for (int p = 0; p < n; p++) out[p] = Double.POSITIVE_INFINITY;
            return;
        }
        int j = 0;
        for (int p = 0; p < n; p++) {
            double xp = p * s;
            while (z[j + 1] < xp) j++;
            double dx = xp - v[j] * s;
            out[p] = dx * dx + f[v[j]];
        }
    }
}
