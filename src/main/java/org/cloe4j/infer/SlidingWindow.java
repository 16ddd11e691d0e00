package org.cloe4j.infer;

import java.util.ArrayList;
import java.util.List;
import org.cloe4j.data.PreparedCase;

/**
 * Patch positions covering a D × H × W volume for sliding-window inference: along each axis windows start every
 * {@code round(patch · (1 − overlap))} voxels (at least 1) and the last window ends flush with the volume's end.
 * Along an axis where the volume is smaller than the patch there is one window at 0 and the patch reaches past the
 * end; {@link #extract} pads it with zeros and the {@link Stitcher} ignores what lies outside the volume.
 *
 * @param depth   D of the volume
 * @param height  H
 * @param width   W
 * @param patch   patch size {D, H, W}
 * @param overlap fraction of a patch shared with its neighbour, in [0, 1); 0.5 in the spec
 */
public record SlidingWindow(int depth, int height, int width, int[] patch, double overlap) {

    /** Origin (z, y, x) of one window, in volume voxels. */
    public record Window(int z, int y, int x) {}

    public SlidingWindow {
        if (patch.length != 3 || patch[0] < 1 || patch[1] < 1 || patch[2] < 1) throw new IllegalArgumentException("patch needs 3 positive sizes");
        if (!(overlap >= 0 && overlap < 1)) throw new IllegalArgumentException("overlap must be in [0, 1): " + overlap);
        if (depth < 1 || height < 1 || width < 1) throw new IllegalArgumentException("empty volume");
        patch = patch.clone();
    }

    /** Windows over a prepared case with the spec's 50 % overlap. */
    public static SlidingWindow over(PreparedCase c, int[] patch) {
        return new SlidingWindow(c.depth(), c.height(), c.width(), patch, 0.5);
    }

    @Override
    public int[] patch() {
        return patch.clone();
    }

    /** Every window, z slowest, x fastest. */
    public List<Window> windows() {
        List<Window> out = new ArrayList<>();
        for (int z : starts(depth, patch[0])) {
            for (int y : starts(height, patch[1])) {
                for (int x : starts(width, patch[2])) out.add(new Window(z, y, x));
            }
        }
        return out;
    }

    /** Window starts along one axis of length {@code n}. */
    List<Integer> starts(int n, int p) {
        List<Integer> s = new ArrayList<>();
        if (n <= p) {
            s.add(0);
            return s;
        }
        int step = Math.max(1, (int) Math.round(p * (1 - overlap)));
        for (int i = 0; i + p < n; i += step) s.add(i);
        s.add(n - p);
        return s;
    }

    /**
     * Copies the patch at {@code w} out of a channel-first {@code image} ({@code channels × D × H × W}) into a new
     * {@code channels × patch} array; voxels beyond the volume are 0.
     */
    public float[] extract(float[] image, int channels, Window w) {
        int pd = patch[0], ph = patch[1], pw = patch[2], pn = pd * ph * pw, vn = depth * height * width;
        float[] out = new float[channels * pn];
        int run = Math.min(pw, width - w.x());
        for (int c = 0; c < channels; c++) {
            for (int z = 0; z < pd && w.z() + z < depth; z++) {
                for (int y = 0; y < ph && w.y() + y < height; y++) {
                    System.arraycopy(image, c * vn + ((w.z() + z) * height + w.y() + y) * width + w.x(), out,
                            c * pn + (z * ph + y) * pw, run);
                }
            }
        }
        return out;
    }

    /**
     * nnU-Net's importance map for a patch: a Gaussian centred on the patch with sigma = size/8 per axis, scaled so
     * its maximum is 1 and with zeros replaced by the smallest non-zero value (so every voxel counts a little).
     */
    public static float[] gaussianWeights(int[] patch) {
        int pd = patch[0], ph = patch[1], pw = patch[2];
        double[][] g = new double[3][];
        for (int a = 0; a < 3; a++) {
            int n = patch[a];
            double sigma = n / 8.0, centre = (n - 1) / 2.0;
            g[a] = new double[n];
            for (int i = 0; i < n; i++) g[a][i] = Math.exp(-0.5 * (i - centre) * (i - centre) / (sigma * sigma));
        }
        float[] w = new float[pd * ph * pw];
        double max = 0;
        for (int z = 0, i = 0; z < pd; z++) {
            for (int y = 0; y < ph; y++) {
                for (int x = 0; x < pw; x++, i++) {
                    double v = g[0][z] * g[1][y] * g[2][x];
                    w[i] = (float) v;
                    max = Math.max(max, v);
                }
            }
        }
        float min = Float.MAX_VALUE;
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (w[i] / max);
            if (w[i] > 0) min = Math.min(min, w[i]);
        }
        for (int i = 0; i < w.length; i++) if (w[i] == 0) w[i] = min;
        return w;
    }
}
