package org.cloe4j.data;

import java.util.Map;
import java.util.SplittableRandom;

/**
 * Ways a sequence can be present but unreliable, at a chosen strength, to test how a model treats it. Each works on
 * the raw intensities inside the head (voxels &gt; 0 of the sequence; the background stays 0, so the head mask and the
 * crop do not change) and is seeded:
 * <ul>
 * <li>{@link #NOISE}: Rician noise of σ = strength × the mean intensity in the head;
 * <li>{@link #GHOSTING}: motion ghosts, copies of the image shifted by a quarter and a half of the field of view
 *     along y (the phase-encoding direction) added with amplitudes strength and strength / 2;
 * <li>{@link #BIAS}: a multiplicative field {@code exp(strength · f)} with f a smooth field in [−1, 1] plus a linear
 *     ramp across x, far stronger than the acquisition's own;
 * <li>{@link #WRONG_SEQUENCE}: another sequence of the same case given under this one's name (strength unused).
 * </ul>
 */
public enum Corruption {
    NOISE, GHOSTING, BIAS, WRONG_SEQUENCE;

    /** The corruption of this command-line name: noise, ghosting, bias, wrong-sequence. */
    public static Corruption parse(String name) {
        for (Corruption c : values()) if (c.cliName().equals(name)) return c;
        throw new IllegalArgumentException("unknown corruption '" + name + "' (known: noise, ghosting, bias, wrong-sequence)");
    }

    public String cliName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /**
     * The corrupted copy of {@code sequences.get(target)}; {@code sequences} supplies the substitute for
     * {@link #WRONG_SEQUENCE} (the next sequence in the map's order after the target).
     */
    public Volume apply(Map<Modality, Volume> sequences, Modality target, double strength, long seed) {
        Volume v = sequences.get(target);
        if (v == null) throw new IllegalArgumentException("no sequence " + target + " to corrupt");
        if (strength < 0) throw new IllegalArgumentException("corruption strength must be >= 0: " + strength);
        float[] x = v.data();
        int n = v.voxels(), nx = v.nx(), ny = v.ny(), nz = v.nz();
        float[] out = x.clone();
        SplittableRandom rng = new SplittableRandom(seed);
        double mean = 0;
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (x[i] > 0) {
                mean += x[i];
                count++;
            }
        }
        mean /= Math.max(1, count);
        switch (this) {
            case NOISE -> {
                double sigma = strength * mean;
                for (int i = 0; i < n; i++) {
                    if (x[i] <= 0) continue;
                    double re = x[i] + sigma * rng.nextGaussian(), im = sigma * rng.nextGaussian();
                    out[i] = (float) Math.max(1e-3, Math.sqrt(re * re + im * im));
                }
            }
            case GHOSTING -> {
                int[] shifts = {ny / 4, ny / 2};
                double[] amp = {strength, strength / 2};
                for (int z = 0, i = 0; z < nz; z++) {
                    for (int y = 0; y < ny; y++) {
                        for (int xx = 0; xx < nx; xx++, i++) {
                            if (x[i] <= 0) continue;
                            double s = x[i];
                            for (int k = 0; k < 2; k++) s += amp[k] * x[(z * ny + (y + shifts[k]) % ny) * nx + xx];
                            out[i] = (float) s;
                        }
                    }
                }
            }
            case BIAS -> {
                float[] f = SmoothField.of(nx, ny, nz, Math.max(4, Math.min(nx, Math.min(ny, nz)) / 2.0), rng);
                for (int z = 0, i = 0; z < nz; z++) {
                    for (int y = 0; y < ny; y++) {
                        for (int xx = 0; xx < nx; xx++, i++) {
                            if (x[i] <= 0) continue;
                            double ramp = 2.0 * xx / Math.max(1, nx - 1) - 1;
                            out[i] = (float) (x[i] * Math.exp(strength * (0.5 * f[i] + 0.5 * ramp)));
                        }
                    }
                }
            }
            case WRONG_SEQUENCE -> {
                Modality other = substitute(sequences, target);
                float[] y = sequences.get(other).data();
                if (y.length != n) throw new IllegalArgumentException("sequences " + target + " and " + other + " differ in size");
                // keep this sequence's head mask so that only the contrast is wrong
                for (int i = 0; i < n; i++) out[i] = x[i] > 0 ? Math.max(1e-3f, y[i]) : 0f;
            }
        }
        return v.withData(out);
    }

    /** The sequence given in place of {@code target} by {@link #WRONG_SEQUENCE}: the next one in the map's order. */
    public static Modality substitute(Map<Modality, Volume> sequences, Modality target) {
        var keys = new java.util.ArrayList<>(sequences.keySet());
        if (keys.size() < 2) throw new IllegalArgumentException("a wrong sequence needs a second sequence");
        return keys.get((keys.indexOf(target) + 1) % keys.size());
    }
}
