package org.cloe4j.data;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * RFNet's preprocessing, as docs/MODEL.md states it: stack the modalities as float32, crop to the bounding box of the
 * non-zero voxels of the maximum over modalities enlarged to at least {@code minCropSize} per side (clamped to the
 * volume), z-score each modality with the mean and standard deviation over the brain mask (sum over modalities &gt; 0;
 * voxels outside the mask stay 0; a constant channel gets standard deviation 1), labels to classes (BraTS 4 → 3).
 *
 * <p>Modalities must agree in dims and in their voxel-to-world affine within {@code affineToleranceMm} per entry;
 * otherwise a {@link DataException} names both files.
 */
public final class Preprocessor {

    /** RFNet's minimum crop size per side. */
    public static final int DEFAULT_MIN_CROP = 128;
    /** Default tolerance on each affine entry, mm. */
    public static final double DEFAULT_AFFINE_TOLERANCE = 1e-2;

    private final int minCropSize;
    private final double affineToleranceMm;
    private final NiftiReader reader;

    /** The spec's preprocessing (crop at least 128 per side). */
    public Preprocessor() {
        this(DEFAULT_MIN_CROP, DEFAULT_AFFINE_TOLERANCE);
    }

    /** Preprocessing with another minimum crop size (small synthetic volumes) and affine tolerance. */
    public Preprocessor(int minCropSize, double affineToleranceMm) {
        if (minCropSize < 1) throw new IllegalArgumentException("minCropSize must be >= 1");
        this.minCropSize = minCropSize;
        this.affineToleranceMm = affineToleranceMm;
        this.reader = new NiftiReader();
    }

    public int minCropSize() {
        return minCropSize;
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
        normalise(out, channels, n, available);
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

    /** z-score of each available channel over the mask sum > 0; voxels outside the mask are set to 0. */
    static void normalise(float[] image, int channels, int n, boolean[] available) {
        boolean[] mask = new boolean[n];
        int count = 0;
        for (int i = 0; i < n; i++) {
            float s = 0;
            for (int c = 0; c < channels; c++) s += image[c * n + i];
            mask[i] = s > 0;
            if (mask[i]) count++;
        }
        if (count == 0) return;
        for (int c = 0; c < channels; c++) {
            if (!available[c]) continue;
            int off = c * n;
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
            float m = (float) mean, inv = (float) (1 / std);
            for (int i = 0; i < n; i++) image[off + i] = mask[i] ? (image[off + i] - m) * inv : 0f;
        }
    }
}
