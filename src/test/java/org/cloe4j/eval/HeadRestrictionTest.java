package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.cloe4j.infer.Segmenter;
import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.data.CropBox;
import org.cloe4j.data.LabelScheme;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiHeader;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.junit.jupiter.api.Test;

/** Predictions stay inside the head: no tumour label where every given sequence is background. */
class HeadRestrictionTest {
    static final int D = 20, H = 24, W = 32;

    /** Inside an ellipsoid "head" (plus, for T2 only, a slab at x < 3) random values; 0 elsewhere. */
    static boolean head(int z, int y, int x) {
        double a = (z - 9.5) / 9, b = (y - 11.5) / 10, c = (x - 15.5) / 13;
        return a * a + b * b + c * c < 1;
    }

    static PreparedCase prepared() {
        int n = D * H * W;
        float[] img = new float[4 * n];
        SplittableRandom rng = new SplittableRandom(7);
        for (int z = 0, i = 0; z < D; z++) {
            for (int y = 0; y < H; y++) {
                for (int x = 0; x < W; x++, i++) {
                    for (int ch = 0; ch < 4; ch++) {
                        boolean in = head(z, y, x) || (ch == 3 && x < 3);
                        img[ch * n + i] = in ? (float) rng.nextGaussian() + 0.01f : 0f;
                    }
                }
            }
        }
        boolean[] all = new boolean[4];
        Arrays.fill(all, true);
        return new PreparedCase("h", Modality.BRATS, all, img, new byte[n], D, H, W, new CropBox(0, 0, 0, W, H, D),
                NiftiHeader.of(W, H, D, new double[] {1, 1, 1}, new double[] {0, 0, 0}), LabelScheme.BRATS);
    }

    static int count(java.util.function.IntPredicate p) {
        int k = 0;
        for (int i = 0; i < D * H * W; i++) if (p.test(i)) k++;
        return k;
    }

    static boolean inHead(int i) {
        return head(i / (H * W), (i / W) % H, i % W);
    }

    @Test
    void everyTumourVoxelOutsideTheGivenSequencesIsSetToBackground() {
        PreparedCase c = prepared();
        List<Modality> mods = CloeConfig.BRATS;
        byte[] allTumour = new byte[c.voxels()];
        Arrays.fill(allTumour, (byte) 2);
        int outside = count(i -> !inHead(i));
        // all four sequences: the T2 slab at x < 3 counts as head (T2 is non-zero there)
        byte[] full = allTumour.clone();
        int slabOutside = count(i -> !inHead(i) && i % W < 3);
        assertEquals(outside - slabOutside, Segmenter.restrictToHead(full, c, ModalityMask.full(mods)));
        // FLAIR only: the slab is background
        byte[] flair = allTumour.clone();
        assertEquals(outside, Segmenter.restrictToHead(flair, c, ModalityMask.of(mods, List.of(Modality.FLAIR))));
        for (int i = 0; i < c.voxels(); i++) assertEquals(inHead(i) ? 2 : 0, flair[i], "voxel " + i);
        assertEquals(0, Evaluator.outsideHead(full, c));
    }

    @Test
    void anUntrainedModelsMapsHaveNoTumourOutsideTheHead() {
        PreparedCase c = prepared();
        CloeConfig cfg = CloeConfig.tiny(CloeConfig.BRATS, 4).withArchitecture(4, 16);
        CloeModel model = new CloeModel(cfg, new CpuBackend());
        List<ModalityMask> masks = List.of(ModalityMask.full(CloeConfig.BRATS), ModalityMask.of(CloeConfig.BRATS, List.of(Modality.T1)));
        for (Segmenter.Segmentation s : new Segmenter(model, false).segmentAll(c, masks)) {
            byte[] map = s.classes();
            for (int i = 0; i < map.length; i++) {
                if (i % W < 3 && s.mask().has(Modality.T2)) continue; // T2's slab is head for masks with T2
                if (!inHead(i)) assertEquals(0, map[i], s.mask().label() + ": voxel " + i + " outside the head");
            }
            assertTrue(s.outsideHead() >= 0);
        }
    }
}
