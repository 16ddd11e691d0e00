package org.cloe4j.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RFNet's preprocessing, as docs/MODEL.md states it: stack the modalities as float32, crop to the bounding box of the
 * non-zero voxels of the maximum over modalities enlarged to at least {@code minCropSize} per side (clamped to the
 * volume), normalise each modality over the brain mask (sum over modalities &gt; 0; voxels outside the mask stay 0),
 * labels to classes (BraTS 4 → 3). Two normalisations ({@link Normalisation}): RFNet's z-score (mean and standard
 * deviation over the brain; a constant channel gets standard deviation 1; the presets'), and the ratio to the
 * brain's median, {@code MEDIAN_SCALE · (x / median − 1)}, whose scale does not depend on the tumour's size or the
 * noise (docs/GENERALISATION.md, cause 9).
 *
 * <p>Modalities must agree in dims and in their voxel-to-world affine within {@code affineToleranceMm} per entry;
 * otherwise a {@link DataException} names both files.
 */
public final class Preprocessor {

    /** How each modality's intensities are normalised over the brain mask. */
    public enum Normalisation {
        /** (x − mean) / sd over the brain: RFNet's and the presets', and what a checkpoint trained before the choice used. */
        ZSCORE("zscore"),
        /**
         * {@code MEDIAN_SCALE · (x − median) / median} over the brain: an MR image's intensity unit is arbitrary but
         * its zero is not (the background is 0), so a ratio to the brain's typical value is the same for a tissue
         * whatever the scanner's gain, the tumour's share of the brain and the noise, all of which move a standard
         * deviation. A channel whose median is not positive (not a magnitude image) falls back to the z-score.
         */
        MEDIAN("median");

        private final String cliName;

        Normalisation(String cliName) {
            this.cliName = cliName;
        }

        public String cliName() {
            return cliName;
        }

        /** The normalisation named {@code name} ("zscore" or "median"); null reads as the z-score (older configs). */
        public static Normalisation named(String name) {
            if (name == null) return ZSCORE;
            for (Normalisation n : values()) if (n.cliName.equals(name)) return n;
            throw new IllegalArgumentException("unknown normalisation '" + name + "' (zscore or median)");
        }
    }

    /**
     * The factor of {@link Normalisation#MEDIAN}: the brain's standard deviation is 0.22–0.55 of its median over the
     * four BraTS sequences of the project's cohorts, so with 3 the values spread about as z-scores do.
     */
    public static final double MEDIAN_SCALE = 3.0;

    /** RFNet's minimum crop size per side. */
    public static final int DEFAULT_MIN_CROP = 128;
    /** Default tolerance on each affine entry, mm. */
    public static final double DEFAULT_AFFINE_TOLERANCE = 1e-2;

    private final int minCropSize;
    private final double affineToleranceMm;
    private final Normalisation normalisation;
    private final NiftiReader reader;

    /** The spec's preprocessing (crop at least 128 per side, z-score). */
    public Preprocessor() {
        this(DEFAULT_MIN_CROP, DEFAULT_AFFINE_TOLERANCE);
    }

    /** Preprocessing with another minimum crop size (small synthetic volumes) and affine tolerance, z-score. */
    public Preprocessor(int minCropSize, double affineToleranceMm) {
        this(minCropSize, affineToleranceMm, Normalisation.ZSCORE);
    }

    /** Preprocessing with the given minimum crop size, affine tolerance and normalisation. */
    public Preprocessor(int minCropSize, double affineToleranceMm, Normalisation normalisation) {
        if (minCropSize < 1) throw new IllegalArgumentException("minCropSize must be >= 1");
        this.minCropSize = minCropSize;
        this.affineToleranceMm = affineToleranceMm;
        this.normalisation = java.util.Objects.requireNonNull(normalisation, "normalisation");
        this.reader = new NiftiReader();
    }

    public int minCropSize() {
        return minCropSize;
    }

    public Normalisation normalisation() {
        return normalisation;
    }

    /** Reads a case's files (in parallel: gzip decoding is the bulk of the time) and prepares it. */
    public PreparedCase prepare(CaseRecord c) {
        Map<Path, Volume> files = new ConcurrentHashMap<>();
        c.files().parallelStream().forEach(f -> files.put(f, reader.load(f)));
        Map<Modality, Volume> images = new LinkedHashMap<>();
        for (var e : c.images().entrySet()) {
            CaseRecord.ImageSource src = e.getValue();
            Volume file = files.get(src.file());
            if (src.volume() >= file.volumes()) {
                throw new DataException(src.file(), "has " + file.volumes() + " volumes; modality " + e.getKey()
                        + " should be volume " + src.volume());
            }
            images.put(e.getKey(), file.volumes() == 1 ? file : file.volume(src.volume()));
        }
        Volume label = c.label() == null ? null : files.get(c.label());
        return prepare(c.id(), List.copyOf(c.images().keySet()), images, label, c.scheme());
    }

    /**
     * Prepares volumes already in memory. {@code order} is the channel order; a modality of {@code order} missing from
     * {@code images} becomes an all-zero channel marked unavailable. {@code label} may be null.
     */
    public PreparedCase prepare(String id, List<Modality> order, Map<Modality, Volume> images, Volume label,
                                LabelScheme scheme) {
        Volume reference = null;
        for (Modality m : order) {
            Volume v = images.get(m);
            if (v == null) continue;
            if (v.volumes() != 1) throw new DataException(v.source(), "modality " + m + " must be a 3D volume, it has " + v.volumes());
            v.requireFinite();
            if (reference == null) reference = v;
            else requireSameGrid(reference, v);
        }
        if (reference == null) throw new DataException(null, "case " + id + ": none of the modalities " + order + " is given");
        if (label != null) {
            if (label.volumes() != 1) throw new DataException(label.source(), "label map must be 3D, it has " + label.volumes() + " volumes");
            requireSameGrid(reference, label);
        }
        int nx = reference.nx(), ny = reference.ny(), nz = reference.nz();
        CropBox box = cropBox(id, reference, order, images);
        int channels = order.size(), n = box.voxels();
        float[] out = new float[channels * n];
        boolean[] available = new boolean[channels];
        for (int c = 0; c < channels; c++) {
            Volume v = images.get(order.get(c));
            if (v == null) continue;
            available[c] = true;
            copyBox(v.data(), nx, ny, box, out, c * n);
        }
        normalise(out, channels, n, available, normalisation);
        byte[] classes = null;
        if (label != null) {
            byte[] all = scheme.toClasses(label);
            classes = new byte[n];
            int i = 0;
            for (int z = 0; z < box.nz(); z++) {
                for (int y = 0; y < box.ny(); y++) {
                    int from = ((z + box.z0()) * ny + y + box.y0()) * nx + box.x0();
                    System.arraycopy(all, from, classes, i, box.nx());
                    i += box.nx();
                }
            }
        }
        return new PreparedCase(id, order, available, out, classes, box.nz(), box.ny(), box.nx(), box,
                reference.header().withDims(nx, ny, nz, 1), scheme);
    }

    private void requireSameGrid(Volume a, Volume b) {
        if (a.nx() != b.nx() || a.ny() != b.ny() || a.nz() != b.nz()) {
            throw new DataException(b.source(), "dims " + b.nx() + "×" + b.ny() + "×" + b.nz() + " differ from "
                    + a.nx() + "×" + a.ny() + "×" + a.nz() + " of " + a.source());
        }
        if (!a.header().sameGeometry(b.header(), affineToleranceMm)) {
            throw new DataException(b.source(), "voxel-to-world affine " + java.util.Arrays.toString(b.header().affine())
                    + " differs from " + java.util.Arrays.toString(a.header().affine()) + " of " + a.source()
                    + " by more than " + affineToleranceMm + " mm");
        }
    }

    /** Bounding box of voxels where any modality is non-zero, enlarged to at least minCropSize per side. */
    CropBox cropBox(String id, Volume reference, List<Modality> order, Map<Modality, Volume> images) {
        int nx = reference.nx(), ny = reference.ny(), nz = reference.nz();
        int x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
        List<float[]> data = order.stream().filter(images::containsKey).map(m -> images.get(m).data()).toList();
        int i = 0;
        for (int z = 0; z < nz; z++) {
            for (int y = 0; y < ny; y++) {
                for (int x = 0; x < nx; x++, i++) {
                    boolean any = false;
                    for (float[] d : data) {
                        if (d[i] != 0) { any = true; break; }
                    }
                    if (any) {
                        if (x < x0) x0 = x;
                        if (x > x1) x1 = x;
                        if (y < y0) y0 = y;
                        if (y > y1) y1 = y;
                        if (z < z0) z0 = z;
                        if (z > z1) z1 = z;
                    }
                }
            }
        }
        if (x1 < 0) throw new DataException(reference.source(), "case " + id + ": every modality is zero everywhere");
        int[] bx = enlarge(x0, x1, nx), by = enlarge(y0, y1, ny), bz = enlarge(z0, z1, nz);
        return new CropBox(bx[0], by[0], bz[0], bx[1], by[1], bz[1]);
    }

    /** [start, size] of [lo, hi] grown symmetrically to at least minCropSize, shifted to stay inside [0, n). */
    int[] enlarge(int lo, int hi, int n) {
        int size = hi - lo + 1;
        if (size >= minCropSize) return new int[] {lo, size};
        int target = Math.min(minCropSize, n);
        int start = lo - (target - size) / 2;
        start = Math.max(0, Math.min(start, n - target));
        return new int[] {start, target};
    }

    private static void copyBox(float[] src, int nx, int ny, CropBox box, float[] dst, int at) {
        for (int z = 0; z < box.nz(); z++) {
            for (int y = 0; y < box.ny(); y++) {
                System.arraycopy(src, ((z + box.z0()) * ny + y + box.y0()) * nx + box.x0(), dst, at, box.nx());
                at += box.nx();
            }
        }
    }

    /** Each available channel normalised over the mask sum > 0 as {@code how} says; voxels outside it are set to 0. */
    static void normalise(float[] image, int channels, int n, boolean[] available, Normalisation how) {
        boolean[] mask = new boolean[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            float s = 0;
            for (int c = 0; c < channels; c++) s += image[c * n + i];
            mask[i] = s > 0;
            if (mask[i]) count++;
        }
        if (count == 0) return;
        float[] scratch = how == Normalisation.MEDIAN ? new float[count] : null;
        for (int c = 0; c < channels; c++) {
            if (!available[c]) continue;
            int off = c * n;
            double centre, scale;
            double median = Double.NaN;
            if (scratch != null) {
                int k = 0;
                for (int i = 0; i < n; i++) if (mask[i]) scratch[k++] = image[off + i];
                median = median(scratch, count);
            }
            if (median > 0) {
                centre = median;
                scale = median / MEDIAN_SCALE;
            } else {
                double sum = 0;
                for (int i = 0; i < n; i++) if (mask[i]) sum += image[off + i];
                double mean = sum / count;
                double sq = 0;
                for (int i = 0; i < n; i++) {
                    if (mask[i]) {
                        double d = image[off + i] - mean;
                        sq += d * d;
                    }
                }
                double std = Math.sqrt(sq / count);
                if (!(std > 1e-8)) std = 1;
                centre = mean;
                scale = std;
            }
            float m = (float) centre, inv = (float) (1 / scale);
            for (int i = 0; i < n; i++) image[off + i] = mask[i] ? (image[off + i] - m) * inv : 0f;
        }
    }

    /**
     * The median of {@code v[0..n)} (the mean of the two middle values when n is even); reorders v. Quickselect with
     * a median-of-three pivot: linear time on the average, as a BraTS brain has about 1.5 million voxels.
     */
    static double median(float[] v, int n) {
        int k = (n - 1) / 2;
        select(v, 0, n - 1, k);
        double lo = v[k];
        if (n % 2 == 1) return lo;
        float hi = Float.POSITIVE_INFINITY; // the smallest value right of k is the (k+1)-th
        for (int i = k + 1; i < n; i++) if (v[i] < hi) hi = v[i];
        return 0.5 * (lo + hi);
    }

    /** Rearranges v[lo..hi] so that v[k] holds the value a sort would put there, smaller or equal values left of it. */
    private static void select(float[] v, int lo, int hi, int k) {
        while (hi > lo) {
            int mid = (lo + hi) >>> 1;
            if (v[mid] < v[lo]) swap(v, mid, lo);
            if (v[hi] < v[lo]) swap(v, hi, lo);
            if (v[hi] < v[mid]) swap(v, hi, mid);
            float pivot = v[mid];
            int i = lo, j = hi;
            while (i <= j) {
                while (v[i] < pivot) i++;
                while (v[j] > pivot) j--;
                if (i <= j) swap(v, i++, j--);
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return; // j < k < i: v[k] equals the pivot
        }
    }

    private static void swap(float[] v, int a, int b) {
        float t = v[a];
        v[a] = v[b];
        v[b] = t;
    }
}
