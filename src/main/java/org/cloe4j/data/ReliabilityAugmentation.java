package org.cloe4j.data;

import java.util.random.RandomGenerator;

/**
 * Training-time reliability augmentation (docs/MODEL.md, Our choices): with probability {@code probability}, one of
 * the sequences a training sample is given (drawn uniformly among them, only when two or more are given) is made
 * unreliable in the patch, so that the fused loss rewards the gate for weighing it down. Without it every training
 * input is clean and nothing ever shows the gate a sequence worse than the others (docs/GENERALISATION.md).
 *
 * <p>The kinds are those of {@link Corruption}, applied to the normalised patch (z-score units) on the sequence's
 * brain voxels (non-zero; the background stays exactly 0), with the strength drawn per sample:
 * <ul>
 * <li>noise: additive Gaussian noise of σ ~ U(0.25, 2);
 * <li>ghosting: copies shifted by a quarter and a half of the patch along y (height), amplitudes a ~ U(0.3, 1) and a/2;
 * <li>bias: the intensity above the brain's minimum multiplied by exp(s · (f/2 + ramp/2)), f a smooth field in
 *     [−1, 1] (knots every 8 voxels), ramp linear in [−1, 1] across x, s ~ U(0.5, 2);
 * <li>wrong sequence: another of the case's sequences (drawn uniformly) in this one's place.
 * </ul>
 * Afterwards the corrupted sequence's brain voxels are brought back to the clean patch's mean and standard deviation
 * there, as the z-scoring at load would do to a corrupted scan: what changes is the content, not the scale.
 * All draws come from the caller's generator, and none at all when the probability is 0, so a run without the
 * augmentation draws exactly the patches it drew before it existed.
 */
public final class ReliabilityAugmentation {
    /** Strength ranges of the kinds (z-score units, see the class comment). */
    public static final double NOISE_MIN = 0.25, NOISE_MAX = 2.0, GHOST_MIN = 0.3, GHOST_MAX = 1.0,
            BIAS_MIN = 0.5, BIAS_MAX = 2.0;

    /** What was done to a sample: the patch, the corrupted channel (−1: none), the kind and strength. */
    public record Result(Patch patch, int channel, Corruption kind, double strength) {
        public boolean corrupted() {
            return channel >= 0;
        }
    }

    private final double probability;

    public ReliabilityAugmentation(double probability) {
        if (!(probability >= 0 && probability <= 1)) {
            throw new IllegalArgumentException("reliability augmentation probability must be in [0, 1], got " + probability);
        }
        this.probability = probability;
    }

    public double probability() {
        return probability;
    }

    /**
     * With the configured probability, corrupts one of the channels in {@code given} (channel indices of the patch
     * that the sample's sequence set contains); otherwise, or with fewer than two given, returns the patch unchanged.
     */
    public Result apply(Patch patch, int[] given, RandomGenerator rng) {
        if (probability == 0 || given.length < 2) return new Result(patch, -1, null, 0);
        if (rng.nextDouble() >= probability) return new Result(patch, -1, null, 0);
        int channel = given[rng.nextInt(given.length)];
        Corruption[] kinds = Corruption.values();
        Corruption kind = kinds[rng.nextInt(kinds.length)];
        double strength = switch (kind) {
            case NOISE -> NOISE_MIN + (NOISE_MAX - NOISE_MIN) * rng.nextDouble();
            case GHOSTING -> GHOST_MIN + (GHOST_MAX - GHOST_MIN) * rng.nextDouble();
            case BIAS -> BIAS_MIN + (BIAS_MAX - BIAS_MIN) * rng.nextDouble();
            case WRONG_SEQUENCE -> 0;
        };
        if (kind == Corruption.WRONG_SEQUENCE && patch.channels() < 2) return new Result(patch, -1, null, 0);
        return new Result(corrupt(patch, channel, kind, strength, rng), channel, kind, strength);
    }

    /**
     * {@code patch} with channel {@code channel} corrupted by {@code kind} at {@code strength} (see the class comment);
     * the other channels and the labels are the same arrays' values, copied.
     */
    public static Patch corrupt(Patch patch, int channel, Corruption kind, double strength, RandomGenerator rng) {
        if (channel < 0 || channel >= patch.channels()) {
            throw new IllegalArgumentException("channel " + channel + " outside 0.." + (patch.channels() - 1));
        }
        int n = patch.voxels(), nx = patch.width(), ny = patch.height(), nz = patch.depth();
        float[] img = patch.image().clone();
        int off = channel * n;
        float[] x = new float[n];
        System.arraycopy(img, off, x, 0, n);
        double mean = 0, sq = 0, lo = Double.POSITIVE_INFINITY;
        int count = 0;
        for (float a : x) {
            if (a == 0f) continue;
            mean += a;
            sq += (double) a * a;
            lo = Math.min(lo, a);
            count++;
        }
        if (count < 2) return new Patch(img, patch.labels(), patch.channels(), nz, ny, nx); // nothing of the head here
        mean /= count;
        double sd = Math.sqrt(Math.max(0, sq / count - mean * mean));
        double[] y = new double[n];
        switch (kind) {
            case NOISE -> {
                for (int i = 0; i < n; i++) if (x[i] != 0f) y[i] = x[i] + strength * rng.nextGaussian();
            }
            case GHOSTING -> {
                int[] shifts = {ny / 4, ny / 2};
                double[] amp = {strength, strength / 2};
                for (int z = 0, i = 0; z < nz; z++) {
                    for (int yy = 0; yy < ny; yy++) {
                        for (int xx = 0; xx < nx; xx++, i++) {
                            if (x[i] == 0f) continue;
                            double s = x[i];
                            for (int k = 0; k < 2; k++) s += amp[k] * x[(z * ny + (yy + shifts[k]) % ny) * nx + xx];
                            y[i] = s;
                        }
                    }
                }
            }
            case BIAS -> {
                float[] f = SmoothField.of(nx, ny, nz, 8, rng);
                for (int z = 0, i = 0; z < nz; z++) {
                    for (int yy = 0; yy < ny; yy++) {
                        for (int xx = 0; xx < nx; xx++, i++) {
                            if (x[i] == 0f) continue;
                            double ramp = 2.0 * xx / Math.max(1, nx - 1) - 1;
                            y[i] = lo + (x[i] - lo) * Math.exp(strength * (0.5 * f[i] + 0.5 * ramp));
                        }
                    }
                }
            }
            case WRONG_SEQUENCE -> {
                if (patch.channels() < 2) throw new IllegalArgumentException("a wrong sequence needs a second channel");
                int other = rng.nextInt(patch.channels() - 1);
                if (other >= channel) other++;
                for (int i = 0; i < n; i++) if (x[i] != 0f) y[i] = img[other * n + i];
            }
        }
        // back to the clean patch's brain mean and standard deviation (what z-scoring the corrupted scan does)
        double m2 = 0, s2 = 0;
        for (int i = 0; i < n; i++) {
            if (x[i] == 0f) continue;
            m2 += y[i];
            s2 += y[i] * y[i];
        }
        m2 /= count;
        double sd2 = Math.sqrt(Math.max(0, s2 / count - m2 * m2));
        double k = sd2 > 1e-12 ? sd / sd2 : 0;
        for (int i = 0; i < n; i++) {
            if (x[i] == 0f) continue;
            float v = (float) (mean + (y[i] - m2) * k);
            img[off + i] = v == 0f ? Float.MIN_NORMAL : v; // a brain voxel stays non-zero
        }
        return new Patch(img, patch.labels(), patch.channels(), nz, ny, nx);
    }
}
