package org.cloe4j.eval;

import java.util.Arrays;

/**
 * Hausdorff distance at the 95th percentile (HD95), in mm. The surface of a mask is its voxels that have at least one
 * of their 6 face neighbours outside the mask (or outside the volume). Distances from every surface voxel of the
 * prediction to the nearest reference surface voxel, and from every reference surface voxel to the nearest
 * prediction surface voxel, come from an exact Euclidean distance transform with the voxel spacing; HD95 is the 95th
 * percentile of the two sets pooled (the symmetric surface distances), with linear interpolation between ranks as
 * numpy's {@code percentile}.
 *
 * <p>Empty masks: both empty gives 0; exactly one empty gives the volume's diagonal in mm,
 * {@code sqrt((nx·sx)² + (ny·sy)² + (nz·sz)²)} (373.13 mm for BraTS's 240 × 240 × 155 at 1 mm), the largest distance
 * the volume can hold, so that a missed or hallucinated region is penalised and averages stay finite.
 */
public final class SurfaceDistance {

    private SurfaceDistance() {}

    /** HD95 in mm between two masks of an {@code nx × ny × nz} volume (x fastest), {@code spacing} in mm (x, y, z). */
    public static double hd95(boolean[] prediction, boolean[] reference, int nx, int ny, int nz, double[] spacing) {
        int n = nx * ny * nz;
        if (prediction.length != n || reference.length != n) throw new IllegalArgumentException("mask size is not nx·ny·nz");
        boolean[] sp = surface(prediction, nx, ny, nz), sr = surface(reference, nx, ny, nz);
        boolean emptyP = !any(sp), emptyR = !any(sr);
        if (emptyP && emptyR) return 0;
        if (emptyP || emptyR) return diagonal(nx, ny, nz, spacing);
        // Every surface voxel (feature and query alike) lies in the bounding box of both surfaces, and Euclidean
        // distances do not depend on what lies outside it: the transform on that box alone is exact, and cheaper.
        int[] box = boundingBox(sp, sr, nx, ny, nz);
        int bx = box[3] - box[0] + 1, by = box[4] - box[1] + 1, bz = box[5] - box[2] + 1;
        boolean[] cp = crop(sp, nx, ny, box), cr = crop(sr, nx, ny, box);
        double[] toRef = DistanceTransform.squared(cr, bx, by, bz, spacing);
        double[] toPred = DistanceTransform.squared(cp, bx, by, bz, spacing);
        int count = 0;
        for (int i = 0; i < cp.length; i++) count += (cp[i] ? 1 : 0) + (cr[i] ? 1 : 0);
        double[] d = new double[count];
        int k = 0;
        for (int i = 0; i < cp.length; i++) {
            if (cp[i]) d[k++] = Math.sqrt(toRef[i]);
            if (cr[i]) d[k++] = Math.sqrt(toPred[i]);
        }
        return percentile(d, 95);
    }

    /** {x0, y0, z0, x1, y1, z1} (inclusive) of the voxels set in a or b; both must have one. */
    private static int[] boundingBox(boolean[] a, boolean[] b, int nx, int ny, int nz) {
        int[] box = {nx, ny, nz, -1, -1, -1};
        int i = 0;
        for (int z = 0; z < nz; z++) {
            for (int y = 0; y < ny; y++) {
                for (int x = 0; x < nx; x++, i++) {
                    if (!a[i] && !b[i]) continue;
                    box[0] = Math.min(box[0], x); box[3] = Math.max(box[3], x);
                    box[1] = Math.min(box[1], y); box[4] = Math.max(box[4], y);
                    box[2] = Math.min(box[2], z); box[5] = Math.max(box[5], z);
                }
            }
        }
        return box;
    }

    private static boolean[] crop(boolean[] m, int nx, int ny, int[] box) {
        int bx = box[3] - box[0] + 1, by = box[4] - box[1] + 1, bz = box[5] - box[2] + 1;
        boolean[] out = new boolean[bx * by * bz];
        for (int z = 0; z < bz; z++) {
            for (int y = 0; y < by; y++) {
                System.arraycopy(m, ((z + box[2]) * ny + y + box[1]) * nx + box[0], out, (z * by + y) * bx, bx);
            }
        }
        return out;
    }

    /** HD95 of {@code region} between two maps of BraTS labels (0/1/2/4). */
    public static double hd95(byte[] predictionLabels, byte[] referenceLabels, Region region, int nx, int ny, int nz,
                              double[] spacing) {
        return hd95(region.mask(predictionLabels), region.mask(referenceLabels), nx, ny, nz, spacing);
    }

    /** The value used when exactly one mask is empty: the volume diagonal in mm. */
    public static double diagonal(int nx, int ny, int nz, double[] spacing) {
        return Math.sqrt(Math.pow(nx * spacing[0], 2) + Math.pow(ny * spacing[1], 2) + Math.pow(nz * spacing[2], 2));
    }

    static boolean[] surface(boolean[] m, int nx, int ny, int nz) {
        boolean[] s = new boolean[m.length];
        int i = 0;
        for (int z = 0; z < nz; z++) {
            for (int y = 0; y < ny; y++) {
                for (int x = 0; x < nx; x++, i++) {
                    if (!m[i]) continue;
                    s[i] = x == 0 || x == nx - 1 || y == 0 || y == ny - 1 || z == 0 || z == nz - 1
                            || !m[i - 1] || !m[i + 1] || !m[i - nx] || !m[i + nx] || !m[i - nx * ny] || !m[i + nx * ny];
                }
            }
        }
        return s;
    }

    private static boolean any(boolean[] m) {
        for (boolean b : m) if (b) return true;
        return false;
    }

    /** The q-th percentile with linear interpolation between closest ranks (numpy's default). */
    static double percentile(double[] values, double q) {
        double[] v = values.clone();
        Arrays.sort(v);
        double rank = q / 100 * (v.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(v.length - 1, lo + 1);
        return v[lo] + (v[hi] - v[lo]) * (rank - lo);
    }
}
