package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.infer.Segmenter;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.junit.jupiter.api.Test;

/** The sliding window's size: its default, its bounds, and that a given size is the one used. */
class InferenceWindowTest {

    @Test
    void theDefaultWindowIsThePatchAndAGivenOneIsKept() {
        assertEquals(32, Segmenter.defaultWindow(32));
        assertEquals(112, Segmenter.defaultWindow(112), "the paper's patch, as the paper infers");
        CloeModel tiny = new CloeModel(CloeConfig.tiny(CloeConfig.BRATS, 4), new CpuBackend());
        assertEquals(32, new Segmenter(tiny, false).window());
        assertEquals(64, new Segmenter(tiny, false, true, 64).window());
    }

    @Test
    void aWindowThatIsNotAPositiveMultipleOf8IsRefusedNamingIt() {
        CloeModel tiny = new CloeModel(CloeConfig.tiny(CloeConfig.BRATS, 4), new CpuBackend());
        for (int bad : new int[] {-8, 4, 20, 33}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Segmenter(tiny, false, true, bad));
            assertTrue(e.getMessage().contains("multiple of 8") && e.getMessage().contains(String.valueOf(bad)), e.getMessage());
        }
    }

    /**
     * The 20×24×32 case's longest edge is 32: a 64³ window is cut to 32³, so the maps are those of an explicit 32³
     * window exactly (same graph, same single window); the model's 16³ patch tiles the case with 12 windows and gives
     * other agreement scores (instance normalisation sees each window alone), which shows the size reaches the graph.
     */
    @Test
    void aWindowLargerThanTheCaseIsCutToItsLongestEdgeAndASmallerOneTilesIt() {
        PreparedCase c = HeadRestrictionTest.prepared();
        CloeModel model = new CloeModel(CloeConfig.tiny(CloeConfig.BRATS, 4).withArchitecture(4, 16), new CpuBackend());
        List<ModalityMask> masks = List.of(ModalityMask.full(CloeConfig.BRATS));
        Segmenter big = new Segmenter(model, false, false, 64), exact = new Segmenter(model, false, false, 32),
                small = new Segmenter(model, false, false, 0);
        assertEquals(32, big.windowFor(c));
        assertEquals(16, small.windowFor(c));
        Segmenter.Segmentation a = big.segmentAll(c, masks).get(0), b = exact.segmentAll(c, masks).get(0),
                s = small.segmentAll(c, masks).get(0);
        assertArrayEquals(b.classes(), a.classes());
        assertArrayEquals(b.reliability().w(), a.reliability().w(), 0.0);
        double[] u32 = b.reliability().u(), u16 = s.reliability().u();
        double diff = 0;
        for (int k = 0; k < u32.length; k++) diff = Math.max(diff, Math.abs(u32[k] - u16[k]));
        assertTrue(diff > 1e-6, "16³ and 32³ windows gave the same agreement scores: the window size was not used");
    }
    @Test
    void theTumourExtentIsTheLongestEdgeOfTheLargestComponentsBox() {
        int nx = 20, ny = 12, nz = 6;
        byte[] m = new byte[nx * ny * nz];
        assertEquals(0, Segmenter.tumourExtent(m, nx, ny, nz));
        for (int z = 1; z < 4; z++) for (int y = 2; y < 6; y++) for (int x = 3; x < 13; x++) m[(z * ny + y) * nx + x] = 2;
        m[(5 * ny + 11) * nx + 19] = 1; // a far single voxel: its own, smaller component
        m[(5 * ny + 11) * nx + 0] = 1;  // another one: together they would span x 0..19
        assertEquals(10, Segmenter.tumourExtent(m, nx, ny, nz), "x 3..12 of the 10×4×3 box");
    }

    /**
     * The automatic window, checked on both branches against explicit windows: a model whose logits' bias makes every
     * voxel tumour predicts the whole head, longer (about 30 voxels) than the 16³ patch, so each set is segmented
     * again with 32³ windows and the maps are those of an explicit 32³ window; a model biased to background predicts
     * no tumour, and the maps are those of the patch.
     */
    @Test
    void theAutomaticWindowDoublesThePatchExactlyWhereTheTumourIsLongerThanIt() {
        PreparedCase c = HeadRestrictionTest.prepared();
        List<ModalityMask> masks = List.of(ModalityMask.full(CloeConfig.BRATS),
                ModalityMask.of(CloeConfig.BRATS, List.of(org.cloe4j.data.Modality.FLAIR)));
        for (int favoured : new int[] {2, 0}) {
            CloeModel model = new CloeModel(CloeConfig.tiny(CloeConfig.BRATS, 4).withArchitecture(4, 16), new CpuBackend());
            for (String name : List.of("fusion_decoder.seg.bias", "expert_decoder.seg.bias")) {
                float[] bias = new float[4];
                bias[favoured] = 20f;
                model.parameters().get(name).load(bias);
            }
            List<Segmenter.Segmentation> patch = new Segmenter(model, false, false, 16).segmentAll(c, masks);
            List<Segmenter.Segmentation> doubled = new Segmenter(model, false, false, 32).segmentAll(c, masks);
            Segmenter autoSeg = new Segmenter(model, false, false, Segmenter.AUTO_WINDOW);
            assertTrue(autoSeg.automaticWindow());
            List<Segmenter.Segmentation> auto = autoSeg.segmentAll(c, masks);
            for (int i = 0; i < masks.size(); i++) {
                int extent = Segmenter.tumourExtent(patch.get(i).classes(), c.width(), c.height(), c.depth());
                if (favoured == 2) assertTrue(extent > 16, "the whole head is tumour: extent " + extent);
                else assertEquals(0, extent);
                Segmenter.Segmentation want = extent > 16 ? doubled.get(i) : patch.get(i);
                assertArrayEquals(want.classes(), auto.get(i).classes(), masks.get(i).label());
                assertArrayEquals(want.reliability().w(), auto.get(i).reliability().w(), 0.0);
            }
            assertArrayEquals(auto.get(1).classes(), autoSeg.segment(c, masks.get(1)).classes(), "segment = segmentAll");
        }
    }
}
