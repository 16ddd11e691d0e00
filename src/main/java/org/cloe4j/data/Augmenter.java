package org.cloe4j.data;

import java.util.Arrays;
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
 * <li>with {@link Options#appearance()} (nnU-Net's appearance augmentation, for cohorts that differ in noise, blur,
 *     contrast and bias field), per channel and each with its own probability, on the channel's non-zero voxels only:
 *     a smooth multiplicative bias field, additive Gaussian noise, a Gaussian blur, a brightness factor, a contrast
 *     factor and a gamma (see {@link #appearance});
 * <li>a flip of each axis with probability 0.5.
 * </ol>
 * With {@link Options#zoom()} the rotation step also scales the patch by a factor in [0.85, 1.25] with p = 0.2 (the
 * patch covers that many times its own size of the volume). Rotation samples the whole prepared volume, so rotated
 * patches have data in their corners when the volume has. Without {@code appearance} and {@code zoom} the generator
 * is drawn exactly as before they existed, so a run trained with RFNet's augmentation resumes and repeats bit for bit.
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
     * @param appearance         nnU-Net-style per-channel bias field, noise, blur, brightness, contrast and gamma
     * @param zoom               a random scaling of the patch (0.85–1.25, p = 0.2)
     * @param multisite          the appearance and scaling ranges widened to the spread measured between two sites
     *                           (noise, brightness, scale; see {@link #MULTISITE})
     */
    public record Options(boolean flips, boolean rotation, double maxRotationDegrees, double intensityScale,
                          double intensityShift, boolean appearance, boolean zoom, boolean multisite) {
        /** RFNet: flips, ±10° rotation, scale U(0.9, 1.1), shift U(−0.1, 0.1). */
        public static final Options RFNET = new Options(true, true, 10, 0.1, 0.1);
        /** RFNet's plus the appearance augmentation and the random scaling (the presets' since 2026-11-30). */
        public static final Options APPEARANCE = new Options(true, true, 10, 0.1, 0.1, true, true);
        /**
         * The presets' since 2026-11-30 late evening: {@link #APPEARANCE} with the ranges widened to what differs
         * between sites after the z-score (docs/GENERALISATION.md, cross-cohort causes): an intensity shift
         * U(−0.2, 0.2) (the tissue mean moves by 0.1–0.2 with the tumour's share of the brain), Gaussian noise
         * σ ~ U(0, 0.4) at p 0.25 (a site with 7–9 % noise has σ 0.2–0.4 in z-score units, one with 2–3 % has
         * 0.06–0.13), a brightness factor log-uniform in [1/1.5, 1.5] at p 0.3 (a tumour's z-score differs by a
         * factor 1.35–1.5 between the sites, as the tumour inflates the standard deviation) and a scaling of
         * 0.7–1.4 at p 0.3 (nnU-Net's range; the sites' tumours differ 1.7 times in diameter).
         */
        public static final Options MULTISITE = new Options(true, true, 10, 0.1, 0.2, true, true, true);
        /** Only the random crop. */
        public static final Options CROP_ONLY = new Options(false, false, 0, 0, 0);

        /** Options without the appearance augmentation and the scaling. */
        public Options(boolean flips, boolean rotation, double maxRotationDegrees, double intensityScale,
                       double intensityShift) {
            this(flips, rotation, maxRotationDegrees, intensityScale, intensityShift, false, false);
        }

        /** Options with the nnU-Net ranges of the appearance augmentation and the scaling (not widened). */
        public Options(boolean flips, boolean rotation, double maxRotationDegrees, double intensityScale,
                       double intensityShift, boolean appearance, boolean zoom) {
            this(flips, rotation, maxRotationDegrees, intensityScale, intensityShift, appearance, zoom, false);
        }

        /** The options a config's {@code augmentation} name stands for: "rfnet", "appearance" or "multisite". */
        public static Options named(String name) {
            return switch (name) {
                case "rfnet" -> RFNET;
                case "appearance" -> APPEARANCE;
                case "multisite" -> MULTISITE;
                default -> throw new IllegalArgumentException("unknown augmentation '" + name
                        + "' (known: appearance, multisite, rfnet)");
            };
        }
    }

    /** Probabilities and ranges of the appearance augmentation, per channel (nnU-Net's, in z-score units). */
    static final double P_BIAS = 0.2, MAX_BIAS_LOG = 0.3, P_NOISE = 0.15, MAX_NOISE_SIGMA = 0.1, P_BLUR = 0.2,
            MIN_BLUR_SIGMA = 0.5, MAX_BLUR_SIGMA = 1.0, P_BRIGHTNESS = 0.15, P_CONTRAST = 0.15, MIN_FACTOR = 0.75,
            MAX_FACTOR = 1.25, P_GAMMA = 0.3, MIN_GAMMA = 0.7, MAX_GAMMA = 1.5, P_ZOOM = 0.2, MIN_ZOOM = 0.85,
            MAX_ZOOM = 1.25;
    /** The {@link Options#MULTISITE} ranges where they differ from the above (same draws, wider ranges). */
    static final double MULTISITE_P_NOISE = 0.25, MULTISITE_MAX_NOISE_SIGMA = 0.4, MULTISITE_P_BRIGHTNESS = 0.3,
            MULTISITE_MAX_BRIGHTNESS = 1.5, MULTISITE_P_ZOOM = 0.3, MULTISITE_MIN_ZOOM = 0.7, MULTISITE_MAX_ZOOM = 1.4;

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
        boolean wide = options.multisite();
        if (options.zoom() && rng.nextDouble() < (wide ? MULTISITE_P_ZOOM : P_ZOOM)) {
            double lo = wide ? MULTISITE_MIN_ZOOM : MIN_ZOOM, hi = wide ? MULTISITE_MAX_ZOOM : MAX_ZOOM;
            double f = lo + rng.nextDouble() * (hi - lo);
            for (double[] row : r) for (int k = 0; k < 3; k++) row[k] *= f;
            rotate = true;
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
        if (options.appearance()) for (int ch = 0; ch < channels; ch++) appearance(image, ch * n, pd, ph, pw, rng, wide);
        if (options.flips()) {
            boolean fd = rng.nextBoolean(), fh = rng.nextBoolean(), fw = rng.nextBoolean();
            if (fd || fh || fw) flip(image, labels, channels, pd, ph, pw, fd, fh, fw);
        }
        return new Patch(image, labels, channels, pd, ph, pw);
    }

    /**
     * nnU-Net-style appearance augmentation of one channel ({@code d × h × w} voxels from {@code off}), each step with
     * its own probability and only on the channel's non-zero voxels (the brain; background stays exactly 0):
     * <ol>
     * <li>p 0.2: a smooth bias field, {@code (x − min)·exp(a·f) + min} with f a smooth field in [−1, 1] (knots every
     *     16 voxels) and a ~ U(0, 0.3) — multiplicative on the intensity above the channel's darkest brain voxel, as a
     *     coil's field is on the raw image, whose z-score is shifted;
     * <li>p 0.15: additive Gaussian noise, σ ~ U(0, 0.1);
     * <li>p 0.2: a Gaussian blur, σ ~ U(0.5, 1) voxels (the blurred image is kept on the brain voxels only);
     * <li>p 0.15: brightness, {@code x·m} with m ~ U(0.75, 1.25);
     * <li>p 0.15: contrast, {@code (x − mean)·m + mean} with m ~ U(0.75, 1.25), clipped to the channel's former range;
     * <li>p 0.3: gamma, {@code ((x − min)/(max − min))^γ·(max − min) + min} with γ ~ U(0.7, 1) or U(1, 1.5) at even
     *     odds: the range [min, max] is kept.
     * </ol>
     * With {@code multisite} the noise runs at p 0.25 with σ ~ U(0, 0.4) and the brightness at p 0.3 with m
     * log-uniform in [1/1.5, 1.5].
     */
    static void appearance(float[] image, int off, int d, int h, int w, RandomGenerator rng) {
        appearance(image, off, d, h, w, rng, false);
    }

    static void appearance(float[] image, int off, int d, int h, int w, RandomGenerator rng, boolean multisite) {
        int n = d * h * w;
        if (rng.nextDouble() < P_BIAS) {
            double a = rng.nextDouble() * MAX_BIAS_LOG;
            biasField(image, off, n, SmoothField.of(w, h, d, 16, rng), a);
        }
        double sigma = noiseSigma(rng, multisite);
        if (!Double.isNaN(sigma)) addNoise(image, off, n, sigma, rng);
        if (rng.nextDouble() < P_BLUR) {
            blur(image, off, d, h, w, MIN_BLUR_SIGMA + rng.nextDouble() * (MAX_BLUR_SIGMA - MIN_BLUR_SIGMA));
        }
        double brightness = brightness(rng, multisite);
        if (!Double.isNaN(brightness)) {
            float m = (float) brightness;
            for (int i = off; i < off + n; i++) if (image[i] != 0) image[i] *= m;
        }
        if (rng.nextDouble() < P_CONTRAST) contrast(image, off, n, MIN_FACTOR + rng.nextDouble() * (MAX_FACTOR - MIN_FACTOR));
        if (rng.nextDouble() < P_GAMMA) {
            double g = rng.nextBoolean() ? MIN_GAMMA + rng.nextDouble() * (1 - MIN_GAMMA) : 1 + rng.nextDouble() * (MAX_GAMMA - 1);
            gamma(image, off, n, g);
        }
    }

    /** The noise step's draw: σ, or NaN when the step does not run (p 0.15, σ ~ U(0, 0.1); multisite p 0.25, U(0, 0.4)). */
    static double noiseSigma(RandomGenerator rng, boolean multisite) {
        if (!(rng.nextDouble() < (multisite ? MULTISITE_P_NOISE : P_NOISE))) return Double.NaN;
        return rng.nextDouble() * (multisite ? MULTISITE_MAX_NOISE_SIGMA : MAX_NOISE_SIGMA);
    }

    /**
     * The brightness step's draw: the factor, or NaN when the step does not run (p 0.15, U(0.75, 1.25); multisite
     * p 0.3, log-uniform in [1/1.5, 1.5]).
     */
    static double brightness(RandomGenerator rng, boolean multisite) {
        if (!(rng.nextDouble() < (multisite ? MULTISITE_P_BRIGHTNESS : P_BRIGHTNESS))) return Double.NaN;
        double u = rng.nextDouble();
        return multisite ? Math.pow(MULTISITE_MAX_BRIGHTNESS, 2 * u - 1) : MIN_FACTOR + u * (MAX_FACTOR - MIN_FACTOR);
    }

    /** {@code (x − min)·exp(a·field) + min} on the non-zero voxels; {@code min} is theirs. */
    static void biasField(float[] image, int off, int n, float[] field, double a) {
        float min = Float.POSITIVE_INFINITY;
        for (int i = off; i < off + n; i++) if (image[i] != 0) min = Math.min(min, image[i]);
        if (min == Float.POSITIVE_INFINITY) return;
        for (int i = off; i < off + n; i++) {
            if (image[i] != 0) image[i] = keepNonZero((float) ((image[i] - min) * Math.exp(a * field[i - off]) + min));
        }
    }

    /** Adds N(0, σ²) to each non-zero voxel. */
    static void addNoise(float[] image, int off, int n, double sigma, RandomGenerator rng) {
        for (int i = off; i < off + n; i++) {
            if (image[i] != 0) image[i] = keepNonZero((float) (image[i] + sigma * rng.nextGaussian()));
        }
    }

    /** A separable Gaussian blur of σ voxels (zero outside the patch), written back to the non-zero voxels only. */
    static void blur(float[] image, int off, int d, int h, int w, double sigma) {
        int r = (int) Math.ceil(3 * sigma), n = d * h * w;
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int j = -r; j <= r; j++) sum += k[j + r] = Math.exp(-j * j / (2 * sigma * sigma));
        for (int j = 0; j < k.length; j++) k[j] /= sum;
        float[] a = Arrays.copyOfRange(image, off, off + n), b = new float[n];
        int[] dims = {d, h, w}, strides = {h * w, w, 1};
        for (int axis = 0; axis < 3; axis++) {
            int len = dims[axis], stride = strides[axis];
            for (int i = 0; i < n; i++) {
                int pos = (i / stride) % len;
                double v = 0;
                for (int j = Math.max(-r, -pos); j <= Math.min(r, len - 1 - pos); j++) v += k[j + r] * a[i + j * stride];
                b[i] = (float) v;
            }
            float[] t = a;
            a = b;
            b = t;
        }
        for (int i = 0; i < n; i++) if (image[off + i] != 0) image[off + i] = keepNonZero(a[i]);
    }

    /** {@code (x − mean)·m + mean} on the non-zero voxels, clipped to their former range. */
    static void contrast(float[] image, int off, int n, double m) {
        double sum = 0;
        int count = 0;
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            if (image[i] != 0) {
                sum += image[i];
                count++;
                min = Math.min(min, image[i]);
                max = Math.max(max, image[i]);
            }
        }
        if (count == 0) return;
        double mean = sum / count;
        for (int i = off; i < off + n; i++) {
            if (image[i] != 0) image[i] = keepNonZero((float) Math.clamp((image[i] - mean) * m + mean, min, max));
        }
    }

    /** {@code ((x − min)/(max − min))^γ·(max − min) + min} on the non-zero voxels: the range is kept. */
    static void gamma(float[] image, int off, int n, double g) {
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (int i = off; i < off + n; i++) {
            if (image[i] != 0) {
                min = Math.min(min, image[i]);
                max = Math.max(max, image[i]);
            }
        }
        double range = (double) max - min;
        if (!(range > 0)) return;
        for (int i = off; i < off + n; i++) {
            if (image[i] != 0) {
                double t = (image[i] - min) / range;
                image[i] = keepNonZero((float) Math.clamp(Math.pow(t, g) * range + min, min, max));
            }
        }
    }

    /** A brain voxel stays a brain voxel: a value that lands on exactly 0 is nudged to the smallest float. */
    private static float keepNonZero(float v) {
        return v == 0 ? Float.MIN_NORMAL : v;
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
