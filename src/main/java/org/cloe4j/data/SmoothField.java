package org.cloe4j.data;

import java.util.random.RandomGenerator;

/**
 * Smooth random fields for phantoms: random values on a coarse lattice (one knot every {@code cell} voxels),
 * trilinearly interpolated to every voxel; values lie in [-1, 1]. Sums of two scales give texture-like detail.
 */
final class SmoothField {

    private SmoothField() {}

    /** A field over {@code nx × ny × nz} (x fastest) with knots every {@code cell} voxels. */
    static float[] of(int nx, int ny, int nz, double cell, RandomGenerator rng) {
        int kx = (int) Math.ceil(nx / cell) + 2, ky = (int) Math.ceil(ny / cell) + 2, kz = (int) Math.ceil(nz / cell) + 2;
        float[] knots = new float[kx * ky * kz];
        for (int i = 0; i < knots.length; i++) knots[i] = (float) (rng.nextDouble() * 2 - 1);
        float[] out = new float[nx * ny * nz];
        int i = 0;
        for (int z = 0; z < nz; z++) {
            double gz = z / cell;
            int z0 = (int) gz;
            double fz = smooth(gz - z0);
            for (int y = 0; y < ny; y++) {
                double gy = y / cell;
                int y0 = (int) gy;
                double fy = smooth(gy - y0);
                for (int x = 0; x < nx; x++, i++) {
                    double gx = x / cell;
                    int x0 = (int) gx;
                    double fx = smooth(gx - x0);
                    double c00 = lerp(knots[(z0 * ky + y0) * kx + x0], knots[(z0 * ky + y0) * kx + x0 + 1], fx);
                    double c01 = lerp(knots[(z0 * ky + y0 + 1) * kx + x0], knots[(z0 * ky + y0 + 1) * kx + x0 + 1], fx);
                    double c10 = lerp(knots[((z0 + 1) * ky + y0) * kx + x0], knots[((z0 + 1) * ky + y0) * kx + x0 + 1], fx);
                    double c11 = lerp(knots[((z0 + 1) * ky + y0 + 1) * kx + x0], knots[((z0 + 1) * ky + y0 + 1) * kx + x0 + 1], fx);
                    out[i] = (float) lerp(lerp(c00, c01, fy), lerp(c10, c11, fy), fz);
                }
            }
        }
        return out;
    }

    /** Smoothstep, so the field has no visible lattice creases. */
    private static double smooth(double t) {
        return t * t * (3 - 2 * t);
    }

    private static double lerp(double a, double b, double t) {
        return a + (b - a) * t;
    }
}
