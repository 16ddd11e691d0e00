package org.cloe4j.data;

import java.util.Arrays;

/**
 * Tissue classes from a real skull-stripped T1 image: brain = voxels &gt; 0, split into CSF, grey and white matter by
 * 3-class k-means on intensity (on T1, CSF is darkest and white matter brightest), then resampled (nearest) so that
 * the brain's bounding box fills the target grid with a 6 % margin on each side ({@link #from}), or kept voxel for
 * voxel on the image's own grid ({@link #onOwnGrid}).
 */
final class AnatomyTissues {

    private AnatomyTissues() {}

    /** The source image analysed once: brain bounding box and the three k-means intensity centres. */
    record Source(float[] v, int sx, int sy, int sz, int[] lo, int[] hi, double[] centre, double[] spacing) {}

    static byte[] from(Volume t1, int nx, int ny, int nz) {
        return fill(analyse(t1), nx, ny, nz);
    }

    static Source analyse(Volume t1) {
        float[] v = t1.data();
        int sx = t1.nx(), sy = t1.ny(), sz = t1.nz();
        int count = 0;
        int[] lo = {sx, sy, sz}, hi = {-1, -1, -1};
        for (int i = 0; i < v.length && i < sx * sy * sz; i++) {
            if (v[i] <= 0) continue;
            count++;
            int x = i % sx, y = (i / sx) % sy, z = i / (sx * sy);
            lo[0] = Math.min(lo[0], x); hi[0] = Math.max(hi[0], x);
            lo[1] = Math.min(lo[1], y); hi[1] = Math.max(hi[1], y);
            lo[2] = Math.min(lo[2], z); hi[2] = Math.max(hi[2], z);
        }
        if (count < 1000) throw new DataException(t1.source(), "fewer than 1000 brain voxels (> 0); is it a skull-stripped T1?");
        double[] centre = centres(v, sx * sy * sz, count);
        double[] sp = t1.header().spacing();
        return new Source(v, sx, sy, sz, lo, hi, centre, new double[] {Math.abs(sp[0]), Math.abs(sp[1]), Math.abs(sp[2])});
    }

    /** The brain's bounding box stretched to fill the grid with a 6 % margin (the demo's phantoms). */
    static byte[] fill(Source src, int nx, int ny, int nz) {
        int[] lo = src.lo(), hi = src.hi();
        int[] size = {nx, ny, nz};
        double[] step = new double[3], start = new double[3];
        for (int a = 0; a < 3; a++) {
            double margin = 0.06 * size[a];
            step[a] = (hi[a] - lo[a] + 1) / (size[a] - 2 * margin);
            start[a] = lo[a] - margin * step[a];
        }
        return sample(src, nx, ny, nz, start, step, false);
    }

    /**
     * The brain at its physical size on a grid of {@code spacingMm} voxels, centred on the grid, scaled by
     * {@code scale} (a per-case head size), shifted by {@code shift} output voxels and mirrored left-right when asked:
     * the field of view is {@code n · spacingMm} whatever the brain's size, so a brain can touch or leave the border.
     */
    static byte[] physical(Source src, int nx, int ny, int nz, double spacingMm, double scale, double[] shift,
                           boolean mirror) {
        int[] size = {nx, ny, nz};
        double[] step = new double[3], start = new double[3];
        for (int a = 0; a < 3; a++) {
            step[a] = spacingMm / (src.spacing()[a] * scale);
            double mid = (src.lo()[a] + src.hi()[a] + 1) / 2.0;
            start[a] = mid - (size[a] / 2.0 + shift[a]) * step[a];
        }
        return sample(src, nx, ny, nz, start, step, mirror);
    }

    private static byte[] sample(Source src, int nx, int ny, int nz, double[] start, double[] step, boolean mirror) {
        float[] v = src.v();
        int sx = src.sx(), sy = src.sy(), sz = src.sz();
        double[] centre = src.centre();
        byte[] out = new byte[nx * ny * nz];
        int i = 0;
        for (int z = 0; z < nz; z++) {
            int oz = (int) Math.floor(start[2] + (z + 0.5) * step[2]);
            for (int y = 0; y < ny; y++) {
                int oy = (int) Math.floor(start[1] + (y + 0.5) * step[1]);
                for (int x = 0; x < nx; x++, i++) {
                    int ox = (int) Math.floor(start[0] + ((mirror ? nx - 1 - x : x) + 0.5) * step[0]);
                    if (ox < 0 || oy < 0 || oz < 0 || ox >= sx || oy >= sy || oz >= sz) continue;
                    float b = v[(oz * sy + oy) * sx + ox];
                    if (b <= 0) continue;
                    out[i] = (byte) (1 + nearest(centre, b)); // 1 CSF, 2 GM, 3 WM
                }
            }
        }
        return out;
    }

    /** The tissue classes of {@code t1} voxel by voxel, on its own grid (0 background, 1 CSF, 2 GM, 3 WM). */
    static byte[] onOwnGrid(Volume t1) {
        float[] v = t1.data();
        int n = t1.voxels(), count = 0;
        for (int i = 0; i < n; i++) if (v[i] > 0) count++;
        if (count < 1000) throw new DataException(t1.source(), "fewer than 1000 brain voxels (> 0); is it a skull-stripped T1?");
        double[] centre = centres(v, n, count);
        byte[] out = new byte[n];
        for (int i = 0; i < n; i++) if (v[i] > 0) out[i] = (byte) (1 + nearest(centre, v[i]));
        return out;
    }

    /** 3-class k-means on the intensities of the {@code count} voxels > 0 among the first {@code n}. */
    private static double[] centres(float[] v, int n, int count) {
        float[] brain = new float[count];
        int j = 0;
        for (int i = 0; i < n; i++) if (v[i] > 0) brain[j++] = v[i];
        Arrays.sort(brain);
        double[] centre = {brain[count / 10], brain[count / 2], brain[count * 9 / 10]};
        for (int iter = 0; iter < 20; iter++) {
            double[] sum = new double[3];
            int[] k3 = new int[3];
            for (float b : brain) {
                int k = nearest(centre, b);
                sum[k] += b;
                k3[k]++;
            }
            for (int k = 0; k < 3; k++) if (k3[k] > 0) centre[k] = sum[k] / k3[k];
        }
        return centre;
    }

    private static int nearest(double[] centre, float b) {
        int best = 0;
        for (int k = 1; k < 3; k++) if (Math.abs(b - centre[k]) < Math.abs(b - centre[best])) best = k;
        return best;
    }
}
