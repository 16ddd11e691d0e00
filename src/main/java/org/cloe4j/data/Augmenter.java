package org.cloe4j.data;

import java.util.random.RandomGenerator;

/**
 * RFNet's training augmentation, seeded and reproducible (the same case, patch size, options and random generator
 * state always give the same patch):
 * <ol>
 * <li>a patch position: with probability {@code foregroundFraction} (nnU-Net forces a third of its patches to contain
 *     foreground) centred on a voxel drawn uniformly from the case's tumour voxels (classes &gt; 0); otherwise centred on
 *     a voxel drawn uniformly from the whole volume; either way shifted to lie inside the volume, so that a voxel at the
 *     border is in about as many patches as one in the middle (a volume smaller than the patch along an axis is
 *     zero-padded, placed at a random offset);
 * <li>a small random rotation, uniform in ±{@code maxRotationDegrees}, about one axis pair chosen uniformly among
 *     (D, H), (D, W), (H, W), around the patch centre: image trilinear, labels nearest, 0 outside the volume;
 * <li>per-channel intensity {@code x·s + t} with s ~ U(1 − scale, 1 + scale), t ~ U(−shift, shift), on non-zero voxels
 *     only: background and padding stay 0, as at inference;
 * <li>a flip of each axis with probability 0.5.
 * </ol>
 * Rotation samples the whole prepared volume, so rotated patches have data in their corners when the volume has.
 */
public final class Augmenter {

    /**
     * Which augmentations run and how strong they are; {@link #RFNET} is the spec's.
     *
     * @param flips              flip each axis with p = 0.5
     * @param rotation           small rotation about one axis pair
     * @param maxRotationDegrees largest rotation angle
     * @param intensityScale     half-width of the scale interval around 1
     * @param intensityShift     half-width of the shift interval around 0
     */
    public record Options(boolean flips, boolean rotation, double maxRotationDegrees, double intensityScale,
                          double intensityShift) {
        /** RFNet: flips, ±10° rotation, scale U(0.9, 1.1), shift U(−0.1, 0.1). */
        public static final Options RFNET = new Options(true, true, 10, 0.1, 0.1);
        /** Only the random crop. */
        public static final Options CROP_ONLY = new Options(false, false, 0, 0, 0);
    }

    private final int[] patch;
    private final Options options;

    /** An augmenter for patches of {@code depth × height × width} with the spec's options. */
    public Augmenter(int depth, int height, int width) {
        this(new int[] {depth, height, width}, Options.RFNET);
    }

    /** An augmenter for patches of {@code patchDhw} = {D, H, W} with {@code options}. */
    public Augmenter(int[] patchDhw, Options options) {
        if (patchDhw.length != 3 || patchDhw[0] < 1 || patchDhw[1] < 1 || patchDhw[2] < 1) {
            throw new IllegalArgumentException("patch size must be 3 positive numbers (D, H, W)");
        }
        this.patch = patchDhw.clone();
        this.options = options;
    }

    /** Share of training patches centred on a tumour voxel in {@link org.cloe4j.train.Trainer}: nnU-Net's third. */
    public static final double DEFAULT_FOREGROUND_FRACTION = 1.0 / 3;

    /** Draws one augmented patch of {@code c} using {@code rng}, centred anywhere in the volume (no forced foreground). */
    public Patch sample(PreparedCase c, RandomGenerator rng) {
        return sample(c, rng, 0);
    }

    /**
     * Draws one augmented patch of {@code c} using {@code rng}; with probability {@code foregroundFraction} it is
     * centred on a tumour voxel (when the case has labels and any tumour), else on a uniformly drawn voxel.
     */
    public Patch sample(PreparedCase c, RandomGenerator rng, double foregroundFraction) {
        int pd = patch[0], ph = patch[1], pw = patch[2];
        double[] origin = origin(c, rng, foregroundFraction);
        // rotation: matrix acting on (d, h, w) offsets from the patch centre
        double[][] r = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
        boolean rotate = false;
        if (options.rotation() && options.maxRotationDegrees() > 0) {
            double angle = Math.toRadians((rng.nextDouble() * 2 - 1) * options.maxRotationDegrees());
            int pair = rng.nextInt(3);
            int i = pair == 2 ? 1 : 0, j = pair == 0 ? 1 : 2;
            double cos = Math.cos(angle), sin = Math.sin(angle);
            r[i][i] = cos;
            r[i][j] = -sin;
            r[j][i] = sin;
            r[j][j] = cos;
            rotate = angle != 0;
        }
        int channels = c.channels(), n = pd * ph * pw;
        float[] image = new float[channels * n];
        byte[] labels = c.hasLabels() ? new byte[n] : null;
        if (rotate) resampleRotated(c, origin, r, image, labels);
        else copyShifted(c, origin, image, labels);

        for (int ch = 0; ch < channels; ch++) {
            double scale = 1 + (rng.nextDouble() * 2 - 1) * options.intensityScale();
            double shift = (rng.nextDouble() * 2 - 1) * options.intensityShift();
            if (scale == 1 && shift == 0) continue;
            float s = (float) scale, t = (float) shift;
            // background (0 after normalisation, and the zero padding) keeps its fixed value
            for (int i = ch * n, end = i + n; i < end; i++) if (image[i] != 0) image[i] = image[i] * s + t;
        }
        if (options.flips()) {
            boolean fd = rng.nextBoolean(), fh = rng.nextBoolean(), fw = rng.nextBoolean();
            if (fd || fh || fw) flip(image, labels, channels, pd, ph, pw, fd, fh, fw);
        }
        return new Patch(image, labels, channels, pd, ph, pw);
    }

    /** The patch's origin (d, h, w), possibly reaching past the volume on any side. */
    double[] origin(PreparedCase c, RandomGenerator rng, double foregroundFraction) {
        int[] size = {c.depth(), c.height(), c.width()};
        int centre = -1;
        if (foregroundFraction > 0 && c.hasLabels() && rng.nextDouble() < foregroundFraction) centre = tumourVoxel(c, rng);
        int[] at = new int[3];
        if (centre >= 0) {
            at[0] = centre / (size[1] * size[2]);
            at[1] = (centre / size[2]) % size[1];
            at[2] = centre % size[2];
        } else {
            for (int a = 0; a < 3; a++) at[a] = rng.nextInt(size[a]);
        }
        double[] origin = new double[3];
        for (int a = 0; a < 3; a++) {
            // clamped so that the patch stays inside the volume (or holds it whole when the volume is smaller): a
            // centre drawn near a border gives the border patch, so border voxels are seen about as often as others
            int slack = size[a] - patch[a];
            origin[a] = Math.max(Math.min(0, slack), Math.min(Math.max(0, slack), at[a] - patch[a] / 2));
        }
        return origin;
    }

    /** A voxel index drawn uniformly among the case's tumour voxels (class &gt; 0), or −1 when it has none. */
    private static int tumourVoxel(PreparedCase c, RandomGenerator rng) {
        byte[] l = c.labels();
        int count = 0;
        for (byte b : l) if (b > 0) count++;
        if (count == 0) return -1;
        int k = rng.nextInt(count);
        for (int i = 0; i < l.length; i++) if (l[i] > 0 && k-- == 0) return i;
        return -1;
    }

    private void copyShifted(PreparedCase c, double[] origin, float[] image, byte[] labels) {
        int pd = patch[0], ph = patch[1], pw = patch[2], n = pd * ph * pw;
        int d = c.depth(), h = c.height(), w = c.width(), vn = c.voxels();
        int od = (int) origin[0], oh = (int) origin[1], ow = (int) origin[2];
        int x0 = Math.max(0, -ow), x1 = Math.min(pw, w - ow);
        if (x1 <= x0) return;
        for (int z = 0; z < pd; z++) {
            int sz = z + od;
            if (sz < 0 || sz >= d) continue;
            for (int y = 0; y < ph; y++) {
                int sy = y + oh;
                if (sy < 0 || sy >= h) continue;
                int src = (sz * h + sy) * w + ow + x0, dst = (z * ph + y) * pw + x0;
                for (int ch = 0; ch < c.channels(); ch++) {
                    System.arraycopy(c.image(), ch * vn + src, image, ch * n + dst, x1 - x0);
                }
                if (labels != null) System.arraycopy(c.labels(), src, labels, dst, x1 - x0);
            }
        }
    }

    private void resampleRotated(PreparedCase c, double[] origin, double[][] r, float[] image, byte[] labels) {
        int pd = patch[0], ph = patch[1], pw = patch[2], n = pd * ph * pw;
        int d = c.depth(), h = c.height(), w = c.width(), vn = c.voxels(), channels = c.channels();
        double cd = (pd - 1) / 2.0, chh = (ph - 1) / 2.0, cw = (pw - 1) / 2.0;
        float[] src = c.image();
        int i = 0;
        for (int z = 0; z < pd; z++) {
            for (int y = 0; y < ph; y++) {
                for (int x = 0; x < pw; x++, i++) {
                    double a = z - cd, b = y - chh, e = x - cw;
                    double sz = origin[0] + cd + r[0][0] * a + r[0][1] * b + r[0][2] * e;
                    double sy = origin[1] + chh + r[1][0] * a + r[1][1] * b + r[1][2] * e;
                    double sx = origin[2] + cw + r[2][0] * a + r[2][1] * b + r[2][2] * e;
                    if (labels != null) {
                        int nz = (int) Math.round(sz), ny = (int) Math.round(sy), nx = (int) Math.round(sx);
                        if (nz >= 0 && nz < d && ny >= 0 && ny < h && nx >= 0 && nx < w) {
                            labels[i] = c.labels()[(nz * h + ny) * w + nx];
                        }
                    }
                    int z0 = (int) Math.floor(sz), y0 = (int) Math.floor(sy), x0 = (int) Math.floor(sx);
                    if (z0 < -1 || z0 >= d || y0 < -1 || y0 >= h || x0 < -1 || x0 >= w) continue;
                    double fz = sz - z0, fy = sy - y0, fx = sx - x0;
                    for (int ch = 0; ch < channels; ch++) {
                        int off = ch * vn;
                        double v = 0;
                        for (int k = 0; k < 8; k++) {
                            int zz = z0 + (k >> 2), yy = y0 + ((k >> 1) & 1), xx = x0 + (k & 1);
                            if (zz < 0 || zz >= d || yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                            double wgt = ((k >> 2) == 1 ? fz : 1 - fz) * (((k >> 1) & 1) == 1 ? fy : 1 - fy)
                                    * ((k & 1) == 1 ? fx : 1 - fx);
                            v += wgt * src[off + (zz * h + yy) * w + xx];
                        }
                        image[ch * n + i] = (float) v;
                    }
                }
            }
        }
    }

    static void flip(float[] image, byte[] labels, int channels, int d, int h, int w, boolean fd, boolean fh, boolean fw) {
        int n = d * h * w;
        float[] copy = image.clone();
        byte[] lcopy = labels == null ? null : labels.clone();
        for (int z = 0; z < d; z++) {
            int sz = fd ? d - 1 - z : z;
            for (int y = 0; y < h; y++) {
                int sy = fh ? h - 1 - y : y;
                for (int x = 0; x < w; x++) {
                    int sx = fw ? w - 1 - x : x;
                    int dst = (z * h + y) * w + x, src = (sz * h + sy) * w + sx;
                    for (int ch = 0; ch < channels; ch++) image[ch * n + dst] = copy[ch * n + src];
                    if (labels != null) labels[dst] = lcopy[src];
                }
            }
        }
    }
}
