package org.cloe4j.infer;

import java.util.function.UnaryOperator;
import org.cloe4j.data.PreparedCase;

/**
 * Accumulates per-class probabilities of overlapping windows into a whole-volume prediction: each patch's values are
 * multiplied by a per-voxel weight (uniform, or the Gaussian importance map) and summed; {@link #probabilities}
 * divides by the summed weights, {@link #classes} takes the argmax. Parts of a patch beyond the volume are ignored.
 */
public final class Stitcher {

    private final SlidingWindow grid;
    private final int classes;
    private final float[] weights;
    private final float[] sum;
    private final float[] norm;

    /**
     * A stitcher for {@code classes} channels over {@code grid}'s volume; {@code gaussian} selects nnU-Net's importance
     * weighting (sigma = patch/8), otherwise every voxel of a patch weighs 1 (plain averaging, as RFNet).
     */
    public Stitcher(SlidingWindow grid, int classes, boolean gaussian) {
        this.grid = grid;
        this.classes = classes;
        int[] p = grid.patch();
        int pn = p[0] * p[1] * p[2];
        if (gaussian) {
            this.weights = SlidingWindow.gaussianWeights(p);
        } else {
            this.weights = new float[pn];
            java.util.Arrays.fill(weights, 1f);
        }
        int vn = grid.depth() * grid.height() * grid.width();
        this.sum = new float[classes * vn];
        this.norm = new float[vn];
    }

    /**
     * Sliding-window inference over a prepared case: every window of {@code patch} with 50 % overlap is cut out of
     * {@code c.image()} ({@code channels × patch}, zero-padded), given to {@code model}, which returns
     * {@code classes × patch} probabilities, and stitched. Read the result with {@link #classes()} or
     * {@link #probabilities()}; then {@link LabelMaps#suppressSmallEnhancing} and {@link LabelMaps#write}.
     */
    public static Stitcher predict(PreparedCase c, int[] patch, int classes, boolean gaussian, UnaryOperator<float[]> model) {
        SlidingWindow grid = SlidingWindow.over(c, patch);
        Stitcher s = new Stitcher(grid, classes, gaussian);
        for (SlidingWindow.Window w : grid.windows()) s.add(w, model.apply(grid.extract(c.image(), c.channels(), w)));
        return s;
    }

    /** Adds the {@code classes × patch} probabilities predicted for the window {@code w}. */
    public void add(SlidingWindow.Window w, float[] patchProbabilities) {
        int[] p = grid.patch();
        int pd = p[0], ph = p[1], pw = p[2], pn = pd * ph * pw;
        if (patchProbabilities.length != classes * pn) {
            throw new IllegalArgumentException("expected " + classes + "×" + pd + "×" + ph + "×" + pw + " values, got " + patchProbabilities.length);
        }
        int d = grid.depth(), h = grid.height(), wd = grid.width(), vn = d * h * wd;
        int run = Math.min(pw, wd - w.x());
        for (int z = 0; z < pd && w.z() + z < d; z++) {
            for (int y = 0; y < ph && w.y() + y < h; y++) {
                int pi = (z * ph + y) * pw, vi = ((w.z() + z) * h + w.y() + y) * wd + w.x();
                for (int x = 0; x < run; x++) norm[vi + x] += weights[pi + x];
                for (int c = 0; c < classes; c++) {
                    int po = c * pn + pi, vo = c * vn + vi;
                    for (int x = 0; x < run; x++) sum[vo + x] += patchProbabilities[po + x] * weights[pi + x];
                }
            }
        }
    }

    /** Weighted mean probabilities, {@code classes × D × H × W}; voxels no window covered are 0. */
    public float[] probabilities() {
        int vn = norm.length;
        float[] out = new float[sum.length];
        for (int c = 0; c < classes; c++) {
            for (int i = 0; i < vn; i++) out[c * vn + i] = norm[i] > 0 ? sum[c * vn + i] / norm[i] : 0;
        }
        return out;
    }

    /** Argmax class per voxel ({@code D × H × W}); ties go to the lower class. */
    public byte[] classes() {
        int vn = norm.length;
        byte[] out = new byte[vn];
        for (int i = 0; i < vn; i++) {
            int best = 0;
            float bestValue = sum[i];
            for (int c = 1; c < classes; c++) {
                if (sum[c * vn + i] > bestValue) {
                    bestValue = sum[c * vn + i];
                    best = c;
                }
            }
            out[i] = (byte) best;
        }
        return out;
    }
}
