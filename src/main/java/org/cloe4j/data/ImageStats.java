package org.cloe4j.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Label-free, model-independent measurements of a study's sequences on one grid, for the image checks beside the
 * agreement flag ({@code org.cloe4j.eval.ImageCheckLevels}):
 * <ul>
 * <li>{@link #correlation}: for every pair of given sequences, the Pearson correlation of their intensities inside the
 *     head mask the preprocessing uses (voxels where the sum of the given sequences is &gt; 0, {@link Preprocessor}).
 *     Either normalisation is an affine map per sequence, so this is the correlation of the normalised intensities too. Two
 *     different MR contrasts of one head correlate in a range characteristic of the pair; the same image twice gives 1;
 * <li>{@link #noise}: per sequence, σ̂ / sd, a robust noise estimate in z-score units: σ̂ = 1.4826 · median
 *     |x(i+1) − x(i)| / √2 over the neighbouring-voxel pairs along x that both lie inside the head mask eroded by
 *     {@value #ERODE} voxels (in every direction), sd the sequence's standard deviation over the head mask (the one the
 *     z-score divides by). For white noise of σ on a smooth image the difference of two neighbours is N(0, 2σ²), whose
 *     median absolute value is 0.6745 · √2 σ, hence the factors; the median ignores the few pairs across an edge.
 *     NaN when fewer than {@value #MIN_PAIRS} such pairs exist.
 * </ul>
 *
 * @param modalities  the sequences measured, in the order given
 * @param noise       σ̂ / sd per sequence (NaN: too small a head to tell)
 * @param correlation Pearson r per pair, symmetric, 1 on the diagonal (NaN where a sequence is constant in the head)
 * @param voxels      voxels in the head mask
 */
public record ImageStats(List<Modality> modalities, double[] noise, double[][] correlation, long voxels) {
    /** Voxels the head mask is eroded by before the noise estimate, so that pairs across its border do not count. */
    public static final int ERODE = 2;
    /** Fewest neighbouring-voxel pairs a noise estimate is made from. */
    public static final int MIN_PAIRS = 100;
    /** 1 / Φ⁻¹(3/4): the median absolute deviation of a normal variable times this is its σ. */
    static final double MAD_TO_SIGMA = 1.4826;

    public ImageStats {
        modalities = List.copyOf(modalities);
        if (noise.length != modalities.size() || correlation.length != modalities.size()) {
            throw new IllegalArgumentException("one value per sequence expected");
        }
    }

    /** The correlation of sequences {@code a} and {@code b} (NaN when either was not measured). */
    public double r(Modality a, Modality b) {
        int i = modalities.indexOf(a), j = modalities.indexOf(b);
        return i < 0 || j < 0 ? Double.NaN : correlation[i][j];
    }

    /** The noise estimate of {@code m} (NaN when it was not measured). */
    public double noise(Modality m) {
        int i = modalities.indexOf(m);
        return i < 0 ? Double.NaN : noise[i];
    }

    /**
     * Measures the sequences of {@code images} (3D volumes on one grid; checked by the caller, as
     * {@link Preprocessor#prepare} does), in the map's order.
     */
    public static ImageStats measure(Map<Modality, Volume> images) {
        List<Modality> mods = new ArrayList<>(images.keySet());
        if (mods.isEmpty()) throw new IllegalArgumentException("no sequence to measure");
        Volume ref = images.get(mods.get(0));
        int nx = ref.nx(), ny = ref.ny(), nz = ref.nz(), n = ref.voxels();
        float[][] x = new float[mods.size()][];
        for (int k = 0; k < mods.size(); k++) {
            Volume v = images.get(mods.get(k));
            if (v.nx() != nx || v.ny() != ny || v.nz() != nz || v.volumes() != 1) {
                throw new IllegalArgumentException("sequence " + mods.get(k) + " is not a 3D volume on " + mods.get(0) + "'s grid");
            }
            x[k] = v.data();
        }
        boolean[] mask = new boolean[n];
        long count = 0;
        for (int i = 0; i < n; i++) {
            float s = 0; // summed in float as the preprocessing does
            for (float[] d : x) s += d[i];
            mask[i] = s > 0;
            if (mask[i]) count++;
        }
        int m = mods.size();
        double[] mean = new double[m], sd = new double[m];
        for (int k = 0; k < m; k++) {
            double s = 0;
            for (int i = 0; i < n; i++) if (mask[i]) s += x[k][i];
            mean[k] = count == 0 ? Double.NaN : s / count;
            double q = 0;
            for (int i = 0; i < n; i++) {
                if (mask[i]) {
                    double d = x[k][i] - mean[k];
                    q += d * d;
                }
            }
            sd[k] = count == 0 ? Double.NaN : Math.sqrt(q / count);
        }
        double[][] r = new double[m][m];
        for (int a = 0; a < m; a++) {
            r[a][a] = sd[a] > 0 ? 1 : Double.NaN;
            for (int b = a + 1; b < m; b++) {
                double c = 0;
                for (int i = 0; i < n; i++) if (mask[i]) c += (x[a][i] - mean[a]) * (x[b][i] - mean[b]);
                double v = sd[a] > 0 && sd[b] > 0 ? c / count / (sd[a] * sd[b]) : Double.NaN;
                r[a][b] = r[b][a] = Double.isNaN(v) ? v : Math.max(-1, Math.min(1, v));
            }
        }
        boolean[] inner = erode(mask, nx, ny, nz, ERODE);
        double[] noise = new double[m];
        float[] diffs = new float[n];
        for (int k = 0; k < m; k++) {
            int p = 0;
            for (int i = 0; i < n; i++) {
                if (i % nx + 1 < nx && inner[i] && inner[i + 1]) diffs[p++] = Math.abs(x[k][i + 1] - x[k][i]);
            }
            noise[k] = p < MIN_PAIRS || !(sd[k] > 0) ? Double.NaN : MAD_TO_SIGMA * median(diffs, p) / Math.sqrt(2) / sd[k];
        }
        return new ImageStats(mods, noise, r, count);
    }

    /** {@code mask} eroded by a cube of half-width {@code radius} (outside the volume counts as outside the mask). */
    static boolean[] erode(boolean[] mask, int nx, int ny, int nz, int radius) {
        boolean[] a = mask.clone();
        int[][] strides = {{1, nx}, {nx, ny}, {nx * ny, nz}}; // stride and extent along x, y, z
        for (int[] s : strides) {
            boolean[] b = new boolean[a.length];
            for (int i = 0; i < a.length; i++) {
                if (!a[i]) continue;
                int pos = (i / s[0]) % s[1];
                boolean keep = pos >= radius && pos + radius < s[1];
                for (int d = 1; keep && d <= radius; d++) keep = a[i - d * s[0]] && a[i + d * s[0]];
                b[i] = keep;
            }
            a = b;
        }
        return a;
    }

    /** The median of the first {@code p} values (sorts them in place). */
    static double median(float[] v, int p) {
        Arrays.sort(v, 0, p);
        return p % 2 == 1 ? v[p / 2] : 0.5 * ((double) v[p / 2 - 1] + v[p / 2]);
    }
}
