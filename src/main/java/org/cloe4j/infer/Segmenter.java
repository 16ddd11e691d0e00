package org.cloe4j.infer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.cloe4j.backend.Backend;
import org.cloe4j.data.LabelMaps;
import org.cloe4j.data.Modality;
import org.cloe4j.data.Patch;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.graph.Graph;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.tensor.Tensor;

/**
 * Sliding-window inference of a trained model over a prepared case (docs/MODEL.md): cubic windows of the patch size
 * (or a given size, cut to the case's longest edge, or chosen per case with {@link #AUTO_WINDOW}) with 50 % overlap,
 * softmax averaged over overlaps (optionally with nnU-Net's Gaussian weights), argmax, then every voxel
 * where all given sequences are background set to 0 ({@link #restrictToHead}), then tumour components smaller than a
 * tenth of the largest removed ({@link LabelMaps#removeSmallTumourComponents}; off with the three-argument
 * constructor). Besides the class
 * map it reports each modality's agreement scores and gate weight, averaged over the windows. Thread-safe: graphs
 * are built once per signature and each call owns its buffers.
 */
public final class Segmenter {
    private final CloeModel model;
    private final boolean gaussian;
    private final boolean removeSmallComponents;
    private final int window;
    private final boolean auto;

    public Segmenter(CloeModel model, boolean gaussian) {
        this(model, gaussian, true);
    }

    /** {@code removeSmallComponents}: whether the component post-processing runs (the evaluator scores both). */
    public Segmenter(CloeModel model, boolean gaussian, boolean removeSmallComponents) {
        this(model, gaussian, removeSmallComponents, 0);
    }

    /**
     * {@code window}: the sliding window's edge in voxels, a multiple of 8; 0 for {@link #defaultWindow} of the
     * model's config; {@link #AUTO_WINDOW} for the choice per case and sequence set.
     */
    public Segmenter(CloeModel model, boolean gaussian, boolean removeSmallComponents, int window) {
        this.model = model;
        this.gaussian = gaussian;
        this.removeSmallComponents = removeSmallComponents;
        this.auto = window == AUTO_WINDOW;
        this.window = window == 0 || auto ? defaultWindow(model.config().patch()) : checkWindow(window);
    }

    /**
     * {@code window} value of the automatic choice: segment with the default window, and again with one twice as
     * large (cut to the case) for each sequence set whose largest tumour component does not fit in the window
     * (docs/GENERALISATION.md, cause 8).
     */
    public static final int AUTO_WINDOW = -1;

    /**
     * The inference window of a model trained on {@code patch}³ patches: the patch, as the paper infers. A larger one
     * ({@code --window}) gives the network more context; which size is better depends on how large the tumours are
     * beside the window (docs/GENERALISATION.md, cause 8).
     */
    public static int defaultWindow(int patch) {
        return patch;
    }

    private static int checkWindow(int window) {
        if (window < 8 || window % 8 != 0) {
            throw new IllegalArgumentException("the inference window must be a positive multiple of 8 voxels (the network"
                    + " halves it three times), got " + window);
        }
        return window;
    }

    /** The sliding window's edge, voxels. */
    /** The model this segments with. */
    public CloeModel model() {
        return model;
    }

    public int window() {
        return window;
    }

    /**
     * The window used on {@code c}: {@link #window()}, but no larger than the case's longest edge rounded up to a
     * multiple of 8 (a larger one would only add zero padding) unless that is below the training patch (the patch is
     * what inference has always used).
     */
    public int windowFor(PreparedCase c) {
        return cutToCase(window, c);
    }

    /** {@code size}, but no larger than {@code c}'s longest edge rounded up to a multiple of 8, nor that below the patch. */
    private int cutToCase(int size, PreparedCase c) {
        int longest = Math.max(c.depth(), Math.max(c.height(), c.width()));
        return Math.min(size, Math.max(model.config().patch(), (longest + 7) / 8 * 8));
    }

    /**
     * Class map of the case's crop (D·H·W, classes 0..C-1, restricted to the head, before ET post-processing) and the reliability;
     * {@code outsideHead} counts the voxels the network called tumour where every given sequence is background, which
     * {@link #restrictToHead} set to 0.
     */
    public record Segmentation(ModalityMask mask, byte[] classes, Reliability reliability, int outsideHead) {
    }

    /**
     * Sets to 0 (background) every voxel of {@code classes} where all of the mask's present channels of {@code c} are
     * exactly 0: outside the skull-stripped head, where preprocessing left background at 0, as BraTS pipelines restrict
     * predictions to the brain. Returns how many such voxels held a tumour class.
     */
    public static int restrictToHead(byte[] classes, PreparedCase c, ModalityMask mask) {
        int n = c.voxels();
        if (classes.length != n) throw new IllegalArgumentException("class map has " + classes.length + " voxels, case " + n);
        List<Integer> channels = new ArrayList<>();
        for (Modality m : mask.presentModalities()) {
            int ch = c.modalities().indexOf(m);
            if (ch >= 0 && c.available()[ch]) channels.add(ch);
        }
        float[] img = c.image();
        int removed = 0;
        for (int i = 0; i < n; i++) {
            if (classes[i] == 0) continue;
            boolean head = false;
            for (int ch : channels) {
                if (img[ch * n + i] != 0) { head = true; break; }
            }
            if (!head) {
                classes[i] = 0;
                removed++;
            }
        }
        return removed;
    }

    /** Segments with the present modalities only (the absent ones' encoders never run). */
    public Segmentation segment(PreparedCase c, ModalityMask mask) {
        for (Modality m : mask.presentModalities()) requireChannel(c, m);
        List<Segmentation> first = run(c, List.of(mask), List.of(model.inference(mask, windowFor(c), true)));
        return auto ? enlargeWhereTheTumourFillsTheWindow(c, List.of(mask), first, false).get(0) : first.get(0);
    }

    /** Segments the case once per mask, sharing the encoders and experts (the case must have every modality). */
    public List<Segmentation> segmentAll(PreparedCase c, List<ModalityMask> masks) {
        for (Modality m : model.config().modalities()) requireChannel(c, m);
        List<Segmentation> first = run(c, masks, model.inferenceAllMasks(masks, windowFor(c)));
        return auto ? enlargeWhereTheTumourFillsTheWindow(c, masks, first, true) : first;
    }

    /** Whether the window is chosen per case and sequence set ({@link #AUTO_WINDOW}). */
    public boolean automaticWindow() {
        return auto;
    }

    /** The automatic choice: masks whose largest tumour component is longer than the window, again with twice the window. */
    private List<Segmentation> enlargeWhereTheTumourFillsTheWindow(PreparedCase c, List<ModalityMask> masks,
                                                                   List<Segmentation> first, boolean shareEncoders) {
        int w = windowFor(c);
        int big = cutToCase(2 * w, c);
        if (big <= w) return first;
        List<Integer> redo = new ArrayList<>();
        for (int i = 0; i < first.size(); i++) {
            if (tumourExtent(first.get(i).classes(), c.width(), c.height(), c.depth()) > w) redo.add(i);
        }
        if (redo.isEmpty()) return first;
        List<ModalityMask> sub = redo.stream().map(masks::get).toList();
        List<Segmentation> second = shareEncoders ? run(c, sub, model.inferenceAllMasks(sub, big))
                : run(c, sub, List.of(model.inference(sub.get(0), big, true)));
        List<Segmentation> out = new ArrayList<>(first);
        for (int k = 0; k < redo.size(); k++) out.set(redo.get(k), second.get(k));
        return out;
    }

    /**
     * The longest edge, in voxels, of the bounding box of the largest 6-connected tumour component of a class map of
     * {@code nx·ny·nz} voxels (x fastest; components tied for the largest are boxed together); 0 without tumour.
     */
    public static int tumourExtent(byte[] classes, int nx, int ny, int nz) {
        byte[] largest = classes.clone();
        LabelMaps.removeSmallTumourComponents(largest, nx, ny, nz, 1.0);
        int x0 = nx, y0 = ny, z0 = nz, x1 = -1, y1 = -1, z1 = -1;
        for (int i = 0; i < largest.length; i++) {
            if (largest[i] == 0) continue;
            int x = i % nx, y = (i / nx) % ny, z = i / (nx * ny);
            x0 = Math.min(x0, x); x1 = Math.max(x1, x);
            y0 = Math.min(y0, y); y1 = Math.max(y1, y);
            z0 = Math.min(z0, z); z1 = Math.max(z1, z);
        }
        return x1 < 0 ? 0 : Math.max(x1 - x0, Math.max(y1 - y0, z1 - z0)) + 1;
    }

    private List<Segmentation> run(PreparedCase c, List<ModalityMask> masks, List<CloeModel.Built> built) {
        Backend be = model.backend();
        int p = built.get(0).window();
        int classes = model.config().classes();
        int[] patch = {p, p, p};
        SlidingWindow grid = SlidingWindow.over(c, patch);
        List<Stitcher> stitchers = new ArrayList<>();
        List<double[][]> scores = new ArrayList<>();
        for (CloeModel.Built b : built) {
            stitchers.add(new Stitcher(grid, classes, gaussian));
            scores.add(new double[3][b.modalities().size()]);
        }
        Graph graph = built.get(0).graph();
        int windows = 0;
        for (SlidingWindow.Window w : grid.windows()) {
            Patch window = new Patch(grid.extract(c.image(), c.channels(), w), null, c.channels(), p, p, p);
            Map<String, Tensor> bound = model.bind(built.get(0), c.modalities(), window);
            try (Graph.Run run = graph.run(be, bound)) {
                for (int i = 0; i < built.size(); i++) {
                    CloeModel.Built b = built.get(i);
                    stitchers.get(i).add(w, be.toHost(run.get(b.prediction())));
                    double[][] s = scores.get(i);
                    add(s[2], be.toHost(run.get(b.w())));
                    if (b.u() != null) {
                        add(s[0], be.toHost(run.get(b.u())));
                        add(s[1], be.toHost(run.get(b.v())));
                    }
                }
            } finally {
                bound.values().forEach(be::release);
            }
            windows++;
        }
        List<Segmentation> out = new ArrayList<>();
        for (int i = 0; i < built.size(); i++) {
            CloeModel.Built b = built.get(i);
            ModalityMask mask = masks.get(i);
            double[][] s = scores.get(i);
            // report only the mask's modalities
            List<Modality> names = new ArrayList<>();
            List<double[]> cols = new ArrayList<>();
            for (int k = 0; k < b.modalities().size(); k++) {
                if (!mask.has(b.modalities().get(k))) continue;
                names.add(b.modalities().get(k));
                cols.add(new double[]{b.u() == null ? Double.NaN : s[0][k] / windows,
                        b.u() == null ? Double.NaN : s[1][k] / windows, s[2][k] / windows});
            }
            double[] u = new double[names.size()], v = new double[names.size()], wt = new double[names.size()];
            for (int k = 0; k < names.size(); k++) {
                u[k] = cols.get(k)[0];
                v[k] = cols.get(k)[1];
                wt[k] = cols.get(k)[2];
            }
            byte[] map = stitchers.get(i).classes();
            int outside = restrictToHead(map, c, mask);
            if (removeSmallComponents) {
                LabelMaps.removeSmallTumourComponents(map, c.width(), c.height(), c.depth(), LabelMaps.DEFAULT_MIN_COMPONENT_FRACTION);
            }
            out.add(new Segmentation(mask, map, new Reliability(names, u, v, wt), outside));
        }
        return out;
    }

    private static void add(double[] acc, float[] v) {
        for (int i = 0; i < acc.length; i++) acc[i] += v[i];
    }

    private static void requireChannel(PreparedCase c, Modality modality) {
        int i = c.modalities().indexOf(modality);
        if (i < 0 || !c.available()[i]) {
            throw new IllegalArgumentException("case " + c.id() + " has no " + modality + " sequence");
        }
    }
}
