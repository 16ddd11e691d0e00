package org.cloe4j.infer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Modality;
import org.cloe4j.data.CropBox;
import org.cloe4j.data.LabelScheme;
import org.cloe4j.data.TestVolumes;

/** Sliding-window positions, Gaussian weights and stitching. */
class SlidingWindowTest {

    @Test
    void halfOverlapStartsEveryHalfPatchAndTheLastWindowIsFlushWithTheEnd() {
        SlidingWindow w = new SlidingWindow(10, 11, 4, new int[] {4, 4, 4}, 0.5);
        assertEquals(List.of(0, 2, 4, 6), w.starts(10, 4));
        assertEquals(List.of(0, 2, 4, 6, 7), w.starts(11, 4));
        assertEquals(List.of(0), w.starts(4, 4));
        assertEquals(List.of(0), w.starts(3, 4), "smaller than the patch: one window, padded");
        assertEquals(4 * 5, w.windows().size());
        assertEquals(new SlidingWindow.Window(6, 7, 0), w.windows().getLast());
    }

    @Test
    void bratsSizedCropWith128PatchesNeedsTwoWindowsPerLongAxis() {
        SlidingWindow w = new SlidingWindow(140, 172, 128, new int[] {128, 128, 128}, 0.5);
        assertEquals(List.of(0, 12), w.starts(140, 128));
        assertEquals(List.of(0, 44), w.starts(172, 128));
        assertEquals(4, w.windows().size());
    }

    @Test
    void windowsCoverEveryVoxel() {
        SlidingWindow w = new SlidingWindow(13, 9, 20, new int[] {5, 6, 7}, 0.5);
        boolean[] covered = new boolean[13 * 9 * 20];
        for (SlidingWindow.Window win : w.windows()) {
            for (int z = win.z(); z < win.z() + 5; z++) {
                for (int y = win.y(); y < win.y() + 6; y++) {
                    for (int x = win.x(); x < win.x() + 7; x++) covered[(z * 9 + y) * 20 + x] = true;
                }
            }
        }
        for (boolean c : covered) assertTrue(c);
    }

    @Test
    void extractCopiesThePatchAndPadsBeyondTheVolumeWithZeros() {
        // 2 channels of a 3 × 3 × 3 volume, value = 100·c + index
        float[] img = new float[54];
        for (int i = 0; i < 54; i++) img[i] = (i / 27) * 100 + i % 27 + 1;
        SlidingWindow w = new SlidingWindow(3, 3, 3, new int[] {2, 2, 4}, 0.5);
        float[] p = w.extract(img, 2, new SlidingWindow.Window(1, 1, 0));
        // channel 0, patch (z=0, y=0): volume (1, 1, x=0..2) = indices 12, 13, 14 -> values 13, 14, 15, then padding
        assertArrayEquals(new float[] {13, 14, 15, 0}, java.util.Arrays.copyOfRange(p, 0, 4));
        // channel 1, patch (z=1, y=1): volume (2, 2, x) = indices 24..26 -> 125, 126, 127
        assertArrayEquals(new float[] {125, 126, 127, 0}, java.util.Arrays.copyOfRange(p, 16 + 12, 16 + 16));
    }

    @Test
    void gaussianWeightsPeakAtTheCentreWithSigmaAnEighthOfThePatch() {
        int[] patch = {9, 17, 33};
        float[] g = SlidingWindow.gaussianWeights(patch);
        int centre = (4 * 17 + 8) * 33 + 16;
        assertEquals(1f, g[centre], 1e-6f);
        // one sigma (33/8 = 4.125 voxels) away along W is not a voxel; 4 voxels away: exp(-0.5·(4/4.125)²)
        assertEquals(Math.exp(-0.5 * Math.pow(4 / 4.125, 2)), g[centre + 4], 1e-6);
        assertEquals(g[centre - 4], g[centre + 4], 0f);
        for (float v : g) assertTrue(v > 0 && v <= 1);
    }

    @Test
    void stitchingConstantPredictionsGivesTheConstantEverywhere() {
        SlidingWindow w = new SlidingWindow(10, 7, 12, new int[] {4, 4, 8}, 0.5);
        for (boolean gaussian : new boolean[] {false, true}) {
            Stitcher s = new Stitcher(w, 3, gaussian);
            float[] patch = new float[3 * 4 * 4 * 8];
            for (int i = 0; i < patch.length; i++) patch[i] = i < 128 ? 0.2f : i < 256 ? 0.5f : 0.3f;
            for (SlidingWindow.Window win : w.windows()) s.add(win, patch);
            float[] prob = s.probabilities();
            for (int i = 0; i < 840; i++) {
                assertEquals(0.2f, prob[i], 1e-6f);
                assertEquals(0.5f, prob[840 + i], 1e-6f);
                assertEquals(0.3f, prob[1680 + i], 1e-6f);
            }
            for (byte c : s.classes()) assertEquals(1, c);
        }
    }

    @Test
    void extractingOneHotLabelsAndStitchingThemBackIsTheIdentityEvenWhenPadded() {
        int d = 6, h = 5, wd = 3; // W smaller than the patch
        float[] labels = new float[d * h * wd];
        for (int i = 0; i < labels.length; i++) labels[i] = (i * 7) % 4;
        SlidingWindow w = new SlidingWindow(d, h, wd, new int[] {4, 4, 4}, 0.5);
        Stitcher s = new Stitcher(w, 4, true);
        for (SlidingWindow.Window win : w.windows()) {
            float[] lab = w.extract(labels, 1, win);
            float[] oneHot = new float[4 * lab.length];
            for (int i = 0; i < lab.length; i++) oneHot[(int) lab[i] * lab.length + i] = 1;
            s.add(win, oneHot);
        }
        byte[] back = s.classes();
        for (int i = 0; i < labels.length; i++) assertEquals((int) labels[i], back[i], "voxel " + i);
    }

    @Test
    void predictRunsTheModelOnEveryWindowAndStitchesItsAnswer() {
        // a "model" that reads the class off channel 0 of the patch (values 0..3) and answers one-hot
        int d = 9, h = 7, w = 5, n = d * h * w;
        float[] image = new float[2 * n];
        byte[] truth = new byte[n];
        for (int i = 0; i < n; i++) {
            truth[i] = (byte) ((i * 5) % 4);
            image[i] = truth[i];
            image[n + i] = -1;
        }
        PreparedCase c = new PreparedCase("p", List.of(Modality.FLAIR, Modality.T1), new boolean[] {true, true}, image,
                null, d, h, w, new CropBox(0, 0, 0, w, h, d), TestVolumes.header(w, h, d), LabelScheme.BRATS);
        int[] calls = {0};
        Stitcher s = Stitcher.predict(c, new int[] {4, 4, 4}, 4, true, patch -> {
            calls[0]++;
            int pn = 64;
            float[] out = new float[4 * pn];
            for (int i = 0; i < pn; i++) out[(int) patch[i] * pn + i] = 1;
            return out;
        });
        assertArrayEquals(truth, s.classes());
        assertEquals(new SlidingWindow(d, h, w, new int[] {4, 4, 4}, 0.5).windows().size(), calls[0]);
    }
}
