package org.cloe4j.data;

import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How one study's voxel grid maps to the grid a model was trained on ({@link TrainingGeometry}) and back: first an
 * exact reorientation to the model's orientation ({@link Reorientation}: axis permutation and flips derived from the
 * affine), then, where the voxel size differs from the model's by more than {@link #SPACING_TOLERANCE} (relative),
 * a resampling to the model's voxel size over the same field of view ({@link Resampler}: images trilinear). A
 * predicted label map goes the way back: resampled to the reoriented study grid through its one-hot maps, then
 * reoriented to the study's own voxel order, in the study's own header (dims, qform, sform). A study already on the
 * model's grid passes through untouched.
 *
 * <p>Used by {@code cloe predict} and the {@code Cloe} API; {@link #of(Map, TrainingGeometry, double)} also checks
 * that the sequences share one grid.
 */
public final class StudyGeometry {

    /** Voxel sizes within this fraction of the model's are not resampled (0.1 %). */
    public static final double SPACING_TOLERANCE = 1e-3;

    private final NiftiHeader input;
    private final Path source;
    private final Orientation inputOrientation;
    private final double[] inputSpacing;
    private final Reorientation reorientation;
    private final int[] canonicalDims;
    private final int[] modelDims;
    private final NiftiHeader modelHeader;

    private StudyGeometry(NiftiHeader input, Path source, TrainingGeometry model) {
        this.input = input;
        this.source = source;
        double[] affine = input.affine();
        this.inputOrientation = Orientation.of(affine, source);
        this.inputSpacing = Orientation.spacing(affine, source);
        int[] dims = {input.nx(), input.ny(), input.nz()};
        this.reorientation = Reorientation.between(inputOrientation, model.orientation(), dims);
        this.canonicalDims = reorientation.outputDims();
        int[] perm = permutation(inputOrientation, model.orientation());
        double[] canonicalSpacing = new double[3];
        for (int t = 0; t < 3; t++) {
            canonicalSpacing[t] = inputSpacing[perm[t]];
        }
        double[] target = model.spacing();
        this.modelDims = new int[3];
        for (int t = 0; t < 3; t++) {
            boolean same = Math.abs(canonicalSpacing[t] - target[t]) <= SPACING_TOLERANCE * target[t];
            modelDims[t] = same ? canonicalDims[t] : Resampler.size(canonicalDims[t], canonicalSpacing[t], target[t]);
        }
        double[] modelAffine = Resampler.affine(reorientation.affine(affine), canonicalDims, modelDims);
        this.modelHeader = header(modelDims, modelAffine, input.descrip());
    }

    /** The geometry of one study, from a header (the volume it came from names errors). */
    public static StudyGeometry of(NiftiHeader input, Path source, TrainingGeometry model) {
        return new StudyGeometry(input, source, model);
    }

    /**
     * The geometry of a study given as several sequences, which must share dims and affine (within
     * {@code affineToleranceMm} per entry): otherwise a {@link DataException} names both files. A 4D sequence or a
     * non-invertible affine is refused the same way.
     */
    public static StudyGeometry of(Map<?, Volume> sequences, TrainingGeometry model, double affineToleranceMm) {
        Volume reference = null;
        for (var e : sequences.entrySet()) {
            Volume v = e.getValue();
            if (v.volumes() != 1) {
                throw new DataException(v.source(), "sequence " + e.getKey() + " must be a 3D volume, it has " + v.volumes());
            }
            if (reference == null) {
                reference = v;
                continue;
            }
            if (v.nx() != reference.nx() || v.ny() != reference.ny() || v.nz() != reference.nz()) {
                throw new DataException(v.source(), "dims " + v.nx() + "×" + v.ny() + "×" + v.nz() + " differ from "
                        + reference.nx() + "×" + reference.ny() + "×" + reference.nz() + " of " + reference.source());
            }
            if (!reference.header().sameGeometry(v.header(), affineToleranceMm)) {
                throw new DataException(v.source(), "voxel-to-world affine " + Arrays.toString(v.header().affine())
                        + " differs from " + Arrays.toString(reference.header().affine()) + " of " + reference.source()
                        + " by more than " + affineToleranceMm + " mm");
            }
        }
        if (reference == null) throw new IllegalArgumentException("no sequence given");
        return new StudyGeometry(reference.header(), reference.source(), model);
    }

    /** Whether the study is on the model's grid already (nothing is moved or resampled). */
    public boolean isIdentity() {
        return reorientation.isIdentity() && Arrays.equals(canonicalDims, modelDims);
    }

    /** Whether the voxel size differs from the model's, so that values are interpolated. */
    public boolean resamples() {
        return !Arrays.equals(canonicalDims, modelDims);
    }

    public Orientation inputOrientation() {
        return inputOrientation;
    }

    /** Voxel size of the study in mm along its own axes i, j, k. */
    public double[] inputSpacing() {
        return inputSpacing.clone();
    }

    /** Dims of the study on the model's grid, {nx, ny, nz}. */
    public int[] modelDims() {
        return modelDims.clone();
    }

    /** The header of the model's grid for this study (its affine places it where the study is). */
    public NiftiHeader modelHeader() {
        return modelHeader;
    }

    /** One image of the study on the model's grid: reoriented, then trilinearly resampled when needed. */
    public Volume toModel(Volume image) {
        requireStudyGrid(image);
        if (isIdentity()) return image;
        float[] v = reorientation.apply(image.data());
        if (resamples()) v = Resampler.trilinear(v, canonicalDims, modelDims);
        return new Volume(modelHeader, v, image.source());
    }

    /** Every image of the study on the model's grid, in the same order. */
    public <K> Map<K, Volume> toModel(Map<K, Volume> images) {
        Map<K, Volume> out = new LinkedHashMap<>();
        images.forEach((k, v) -> out.put(k, toModel(v)));
        return out;
    }

    /**
     * A label map on the model's grid back on the study's grid: resampled through its one-hot maps when needed, then
     * reoriented; in the study's header (its dims, qform and sform).
     */
    public Volume labelsToInput(Volume labels) {
        if (labels.nx() != modelDims[0] || labels.ny() != modelDims[1] || labels.nz() != modelDims[2]) {
            throw new IllegalArgumentException("label map is " + labels.nx() + "×" + labels.ny() + "×" + labels.nz()
                    + ", the model grid of this study is " + modelDims[0] + "×" + modelDims[1] + "×" + modelDims[2]);
        }
        NiftiHeader out = input.withDims(input.nx(), input.ny(), input.nz(), 1);
        if (isIdentity()) return new Volume(out, labels.data(), null);
        float[] v = labels.data();
        if (resamples()) v = Resampler.labels(v, modelDims, canonicalDims);
        v = reorientation.inverse().apply(v);
        return new Volume(out, v, null);
    }

    private void requireStudyGrid(Volume image) {
        if (image.nx() != input.nx() || image.ny() != input.ny() || image.nz() != input.nz() || image.volumes() != 1) {
            throw new DataException(image.source(), "is not on the study's grid " + input.nx() + "×" + input.ny() + "×"
                    + input.nz() + " of " + source);
        }
    }

    /** For each model axis t, the study axis that runs along the same world axis. */
    private static int[] permutation(Orientation from, Orientation to) {
        int[] fw = from.worldAxis(), tw = to.worldAxis();
        int[] perm = new int[3];
        for (int t = 0; t < 3; t++) for (int k = 0; k < 3; k++) if (fw[k] == tw[t]) perm[t] = k;
        return perm;
    }

    private static NiftiHeader header(int[] dims, double[] affine, String descrip) {
        long[] dim = {3, dims[0], dims[1], dims[2], 1, 1, 1, 1};
        double[] s = Orientation.spacing(affine, null);
        double[] pixdim = {1, s[0], s[1], s[2], 1, 1, 1, 1};
        return new NiftiHeader(1, ByteOrder.LITTLE_ENDIAN, dim, NiftiDatatype.FLOAT32.code(), pixdim, 352, 1, 0,
                NiftiHeader.UNITS_MM_SEC, 0, NiftiHeader.XFORM_SCANNER_ANAT, new double[3], new double[3], affine, 0, descrip);
    }

    @Override
    public String toString() {
        return "study " + inputOrientation.codes() + " " + input.nx() + "×" + input.ny() + "×" + input.nz() + " at "
                + String.format(java.util.Locale.ROOT, "%.3g×%.3g×%.3g", inputSpacing[0], inputSpacing[1], inputSpacing[2])
                + " mm → model grid " + modelDims[0] + "×" + modelDims[1] + "×" + modelDims[2];
    }
}
