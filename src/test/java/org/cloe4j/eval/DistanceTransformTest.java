package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The separable transform is exact: it equals brute force over all feature voxels. */
class DistanceTransformTest {

    @Test
    void equalsBruteForceWithAnisotropicSpacing() {
        SplittableRandom rng = new SplittableRandom(3);
        int nx = 11, ny = 7, nz = 9;
        double[] spacing = {0.7, 1.3, 2.5};
        for (int trial = 0; trial < 5; trial++) {
            boolean[] f = new boolean[nx * ny * nz];
            for (int i = 0; i < f.length; i++) f[i] = rng.nextDouble() < 0.03 * (trial + 1);
            f[rng.nextInt(f.length)] = true;
            double[] d = DistanceTransform.squared(f, nx, ny, nz, spacing);
            for (int i = 0; i < f.length; i++) {
                int x = i % nx, y = i / nx % ny, z = i / (nx * ny);
                double best = Double.POSITIVE_INFINITY;
                for (int j = 0; j < f.length; j++) {
                    if (!f[j]) continue;
                    double dx = (j % nx - x) * spacing[0], dy = (j / nx % ny - y) * spacing[1], dz = (j / (nx * ny) - z) * spacing[2];
                    best = Math.min(best, dx * dx + dy * dy + dz * dz);
                }
                assertEquals(best, d[i], 1e-9 * Math.max(1, best), "voxel " + i + " trial " + trial);
            }
        }
    }

    @Test
    void noFeatureMeansInfinity() {
        double[] d = DistanceTransform.squared(new boolean[8], 2, 2, 2, new double[] {1, 1, 1});
        for (double v : d) assertEquals(Double.POSITIVE_INFINITY, v);
    }
}
