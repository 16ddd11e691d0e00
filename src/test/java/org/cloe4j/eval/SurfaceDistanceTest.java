package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** HD95 on cases whose answer can be worked out by hand. */
class SurfaceDistanceTest {

    private static boolean[] box(int nx, int ny, int nz, int x0, int x1, int y0, int y1, int z0, int z1) {
        boolean[] m = new boolean[nx * ny * nz];
        for (int z = z0; z <= z1; z++) for (int y = y0; y <= y1; y++) for (int x = x0; x <= x1; x++) m[(z * ny + y) * nx + x] = true;
        return m;
    }

    @Test
    void twoSingleVoxelsAreTheirDistanceInMillimetresApart() {
        boolean[] a = box(10, 4, 4, 2, 2, 1, 1, 1, 1), b = box(10, 4, 4, 5, 5, 1, 1, 1, 1);
        assertEquals(6.0, SurfaceDistance.hd95(a, b, 10, 4, 4, new double[] {2, 1, 1}), 1e-12, "3 voxels × 2 mm");
        boolean[] c = box(10, 4, 4, 2, 2, 3, 3, 3, 3);
        // 0 along x, 2 voxels × 2 mm along y, 2 voxels × 3 mm along z
        assertEquals(Math.sqrt(4 * 4 + 6 * 6), SurfaceDistance.hd95(a, c, 10, 4, 4, new double[] {1, 2, 3}), 1e-12);
    }

    @Test
    void identicalMasksAreZeroApart() {
        boolean[] a = box(8, 8, 8, 1, 5, 2, 6, 0, 3);
        assertEquals(0.0, SurfaceDistance.hd95(a, a, 8, 8, 8, new double[] {1, 1, 1}));
    }

    @Test
    void aShiftedCubeIsTheShiftApartAtTheNinetyFifthPercentile() {
        // cube 5³ at x 2..6 and the same shifted by 2 along x (spacing 1): the 98 surface voxels of each cube.
        // A surface voxel whose x lies in the overlap 4..6 and which is on the other cube's surface too (its y or z
        // on a face) is at distance 0; a face voxel not on the other surface is at most 2 away; so HD95 = 2.
        boolean[] a = box(12, 8, 8, 2, 6, 1, 5, 1, 5), b = box(12, 8, 8, 4, 8, 1, 5, 1, 5);
        assertEquals(2.0, SurfaceDistance.hd95(a, b, 12, 8, 8, new double[] {1, 1, 1}), 1e-12);
    }

    @Test
    void emptyMasksFollowTheDocumentedConvention() {
        int nx = 6, ny = 5, nz = 4;
        boolean[] none = new boolean[nx * ny * nz], one = box(nx, ny, nz, 1, 1, 1, 1, 1, 1);
        double[] s = {1, 2, 3};
        assertEquals(0.0, SurfaceDistance.hd95(none, none, nx, ny, nz, s));
        double diagonal = Math.sqrt(36 + 100 + 144);
        assertEquals(diagonal, SurfaceDistance.hd95(one, none, nx, ny, nz, s), 1e-12);
        assertEquals(diagonal, SurfaceDistance.hd95(none, one, nx, ny, nz, s), 1e-12);
        assertEquals(373.129, SurfaceDistance.diagonal(240, 240, 155, new double[] {1, 1, 1}), 1e-3, "BraTS");
    }

    @Test
    void percentileInterpolatesLikeNumpy() {
        // numpy.percentile([1, 2, 3, 4], 95) = 3.85; of [0, 10] = 9.5
        assertEquals(3.85, SurfaceDistance.percentile(new double[] {4, 1, 3, 2}, 95), 1e-12);
        assertEquals(9.5, SurfaceDistance.percentile(new double[] {0, 10}, 95), 1e-12);
    }

    @Test
    void surfaceIsTheMaskVoxelsWithAFaceNeighbourOutside() {
        boolean[] cube = box(5, 5, 5, 1, 3, 1, 3, 1, 3);
        boolean[] s = SurfaceDistance.surface(cube, 5, 5, 5);
        int n = 0;
        for (boolean b : s) if (b) n++;
        assertEquals(26, n, "3³ cube: all but the centre");
        assertEquals(false, s[(2 * 5 + 2) * 5 + 2]);
    }

    @Test
    void labelMapsUseTheRegion() {
        byte[] ref = new byte[4 * 4 * 4], pred = new byte[4 * 4 * 4];
        ref[0] = 4;
        pred[3] = 4; // 3 voxels along x
        pred[63] = 2; // oedema does not count for ET
        assertEquals(3.0, SurfaceDistance.hd95(pred, ref, Region.ET, 4, 4, 4, new double[] {1, 1, 1}), 1e-12);
    }

    /** Brute force: every surface voxel against every surface voxel of the other mask, pooled, numpy percentile. */
    private static double bruteHd95(boolean[] a, boolean[] b, int nx, int ny, int nz, double[] s) {
        boolean[] sa = SurfaceDistance.surface(a, nx, ny, nz), sb = SurfaceDistance.surface(b, nx, ny, nz);
        java.util.List<Double> d = new java.util.ArrayList<>();
        for (boolean[][] pair : new boolean[][][] {{sa, sb}, {sb, sa}}) {
            for (int i = 0; i < a.length; i++) {
                if (!pair[0][i]) continue;
                double best = Double.MAX_VALUE;
                for (int j = 0; j < a.length; j++) {
                    if (!pair[1][j]) continue;
                    double dx = (i % nx - j % nx) * s[0], dy = (i / nx % ny - j / nx % ny) * s[1];
                    double dz = (i / (nx * ny) - j / (nx * ny)) * s[2];
                    best = Math.min(best, Math.sqrt(dx * dx + dy * dy + dz * dz));
                }
                d.add(best);
            }
        }
        return SurfaceDistance.percentile(d.stream().mapToDouble(Double::doubleValue).toArray(), 95);
    }

    @Test
    void randomBlobsAgreeWithBruteForce() {
        java.util.SplittableRandom rng = new java.util.SplittableRandom(8);
        int nx = 14, ny = 12, nz = 10;
        double[] s = {0.9, 1.1, 2.0};
        for (int trial = 0; trial < 6; trial++) {
            boolean[] a = new boolean[nx * ny * nz], b = new boolean[nx * ny * nz];
            for (int i = 0; i < a.length; i++) {
                int x = i % nx, y = i / nx % ny, z = i / (nx * ny);
                a[i] = Math.hypot(x - 5, y - 6) + Math.abs(z - 4) < 3 + rng.nextDouble();
                b[i] = Math.hypot(x - 7 - trial % 3, y - 5) + Math.abs(z - 5) < 2.5 + rng.nextDouble();
            }
            assertEquals(bruteHd95(a, b, nx, ny, nz, s), SurfaceDistance.hd95(a, b, nx, ny, nz, s), 1e-9, "trial " + trial);
        }
    }

    @Test
    void caseMetricsCollectDiceAndHd95PerRegion() {
        byte[] ref = new byte[4 * 4 * 4], pred = new byte[4 * 4 * 4];
        ref[0] = 4;
        ref[1] = 2;
        pred[0] = 4;
        pred[1] = 1;
        CaseMetrics m = CaseMetrics.of(pred, ref, 4, 4, 4, new double[] {1, 1, 1});
        // WT {0,1} vs {0,1}: Dice 1, HD 0; TC {0,1} vs {0}: Dice 2/3, HD95 of {0, 0, 1} pooled = 0.9; ET equal
        assertEquals(1.0, m.dice(Region.WT));
        assertEquals(2.0 / 3, m.dice(Region.TC), 1e-12);
        assertEquals(1.0, m.dice(Region.ET));
        assertEquals(0.0, m.hd95(Region.WT));
        assertEquals(0.9, m.hd95(Region.TC), 1e-12);
        assertEquals(0.0, m.hd95(Region.ET));
    }
}
