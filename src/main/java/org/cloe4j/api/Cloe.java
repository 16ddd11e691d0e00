package org.cloe4j.api;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.cloe4j.backend.Backend;
import org.cloe4j.backend.Backends;
import org.cloe4j.data.ImageStats;
import org.cloe4j.data.LabelMaps;
import org.cloe4j.data.LabelScheme;
import org.cloe4j.data.Modality;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.StudyGeometry;
import org.cloe4j.data.TrainingGeometry;
import org.cloe4j.data.Volume;
import org.cloe4j.infer.Reliability;
import org.cloe4j.infer.Segmenter;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.model.ModelCheckpoint;

/**
 * The embedding API for services: load a checkpoint once, then segment studies with whatever sequences they have.
 *
 * <pre>{@code
 * try (Cloe cloe = Cloe.load(Path.of("runs/demo/checkpoints/epoch-0016"))) {
 *     Cloe.Result r = cloe.segment(Map.of(Modality.FLAIR, flair, Modality.T2, t2));
 *     NiftiWriter.write(r.labels(), Path.of("seg.nii.gz"), NiftiDatatype.UINT8);
 * }
 * }</pre>
 *
 * {@link #segment} is safe to call from many threads at once and gives the same result as sequential calls: the
 * model's weights are only read, each call owns its buffers, and the graph of each (window, modality set) signature
 * is built once and reused.
 */
public final class Cloe implements AutoCloseable {
    private final CloeModel model;
    private final Segmenter segmenter;
    private final LabelScheme scheme;
    private final Preprocessor preprocessor;
    private final int minEnhancing;
    private final TrainingGeometry geometry;
    private volatile boolean closed;

    private Cloe(CloeModel model, TrainingGeometry geometry, boolean gaussian, int minEnhancing, int window) {
        this.model = model;
        this.geometry = geometry;
        this.segmenter = new Segmenter(model, gaussian, true, window);
        this.scheme = schemeOf(model.config());
        this.preprocessor = new Preprocessor(model.config().patch(), Preprocessor.DEFAULT_AFFINE_TOLERANCE,
                model.config().inputNormalisation());
        this.minEnhancing = minEnhancing;
    }

    /** Loads a checkpoint (folder, run folder or model.safetensors) on the best available backend. */
    public static Cloe load(Path checkpoint) throws IOException {
        return load(checkpoint, Backends.pick(), false);
    }

    /** Loads a checkpoint on {@code backend}; {@code gaussian} selects Gaussian window weighting. */
    public static Cloe load(Path checkpoint, Backend backend, boolean gaussian) throws IOException {
        return load(checkpoint, backend, gaussian, LabelMaps.DEFAULT_MIN_ENHANCING_VOXELS);
    }

    /** As {@link #load(Path, Backend, boolean)}, with the ET post-processing threshold (voxels; 500 for BraTS). */
    public static Cloe load(Path checkpoint, Backend backend, boolean gaussian, int minEnhancing) throws IOException {
        return load(checkpoint, backend, gaussian, minEnhancing, 0);
    }

    /**
     * As {@link #load(Path, Backend, boolean, int)}, with the sliding window's edge in voxels, a multiple of 8
     * ({@code 0}: {@link Segmenter#defaultWindow}, the training patch; {@link Segmenter#AUTO_WINDOW}: chosen per study).
     */
    public static Cloe load(Path checkpoint, Backend backend, boolean gaussian, int minEnhancing, int window)
            throws IOException {
        Path ckpt = ModelCheckpoint.resolve(checkpoint);
        return new Cloe(ModelCheckpoint.loadModel(ckpt, backend), TrainingGeometry.read(ckpt), gaussian, minEnhancing,
                window);
    }

    /** The label scheme a model's classes are written in. */
    public static LabelScheme schemeOf(CloeConfig cfg) {
        if (cfg.classes() == 4) return LabelScheme.BRATS;
        if (cfg.classes() == 3) return LabelScheme.MSD_PROSTATE;
        throw new IllegalArgumentException("no label scheme for a model of " + cfg.classes() + " classes");
    }

    /** The sequences this model knows, in channel order. */
    public List<Modality> modalities() {
        return model.config().modalities();
    }

    public CloeConfig config() {
        return model.config();
    }

    /** The grid the model was trained on, which studies are brought to (recorded in the checkpoint, or assumed). */
    public TrainingGeometry geometry() {
        return geometry;
    }

    /**
     * A label map in the input's geometry (BraTS labels 0/1/2/4 for brain models), the modality set used, the
     * reliability report, whether ET post-processing turned a small ET prediction into NCR, and the label-free image
     * measurements of the given sequences on the model's grid (pairwise correlation in the head, noise estimate;
     * {@link ImageStats}), which {@code ReliabilityThresholds.imageChecks} turns into flags.
     */
    public record Result(Volume labels, ModalityMask mask, Reliability reliability, boolean etSuppressed,
                         ImageStats images) {
    }

    /** The label scheme results are written in: {@link LabelScheme#BRATS} (0/1/2/4) for brain-tumour models. */
    public LabelScheme labelScheme() {
        return scheme;
    }

    /**
     * Segments a study from any non-empty subset of the model's sequences. Throws an IllegalArgumentException naming
     * the problem when none is given or a sequence is unknown to the model, and a DataException when the sequences'
     * grids or affines disagree or the affine is not invertible. Any orientation and voxel size is taken: the study is
     * brought to the model's training grid ({@link #geometry()}) and the labels mapped back to the study's grid
     * ({@link StudyGeometry}).
     */
    public Result segment(Map<Modality, Volume> sequences) {
        if (closed) throw new IllegalStateException("this Cloe instance is closed");
        Objects.requireNonNull(sequences, "sequences");
        if (sequences.isEmpty()) {
            throw new IllegalArgumentException("no sequence given; the model takes any non-empty subset of " + modalities());
        }
        for (Modality m : sequences.keySet()) {
            if (!model.config().modalities().contains(m)) {
                throw new IllegalArgumentException("sequence " + m + " is not one of the model's " + modalities());
            }
        }
        ModalityMask mask = ModalityMask.of(model.config().modalities(), sequences.keySet());
        StudyGeometry g = StudyGeometry.of(sequences, geometry, Preprocessor.DEFAULT_AFFINE_TOLERANCE);
        Map<Modality, Volume> onGrid = g.toModel(sequences);
        PreparedCase c = preprocessor.prepare("study", modalities(), onGrid, null, scheme);
        Map<Modality, Volume> given = new LinkedHashMap<>(); // the model's order, as the report's
        for (Modality m : modalities()) if (onGrid.containsKey(m)) given.put(m, onGrid.get(m));
        Segmenter.Segmentation s = segmenter.segment(c, mask);
        byte[] classes = s.classes();
        boolean suppressed = scheme == LabelScheme.BRATS && LabelMaps.suppressSmallEnhancing(classes, minEnhancing);
        return new Result(g.labelsToInput(LabelMaps.restore(classes, c)), mask, s.reliability(), suppressed,
                ImageStats.measure(given));
    }

    /** Frees the model's weights (device memory on a GPU). Calls still running finish first only if the caller waits. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        model.parameters().release();
    }
}
