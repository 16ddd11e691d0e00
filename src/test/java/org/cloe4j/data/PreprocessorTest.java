package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Preprocessing as docs/MODEL.md states it: crop, z-score over the brain mask, labels 4 -> 3. */
class PreprocessorTest {

    @TempDir Path dir;

    /** 20 × 16 × 12 volume, non-zero only inside x 5..9, y 3..6, z 2..4, with values 1 + x. */
    private static Volume brainBox(float scale) {
        return TestVolumes.of(20, 16, 12, (x, y, z) ->
                x >= 5 && x <= 9 && y >= 3 && y <= 6 && z >= 2 && z <= 4 ? scale * (1 + x) : 0);
    }

    private static Map<Modality, Volume> twoModalities() {
        Map<Modality, Volume> m = new LinkedHashMap<>();
        m.put(Modality.FLAIR, brainBox(1));
        m.put(Modality.T1, brainBox(3));
        return m;
    }

    @Test
    void cropIsTheNonZeroBoxGrownToTheMinimumSizeAndClampedToTheVolume() {
        PreparedCase p = new Preprocessor(8, 1e-3).prepare("c", List.of(Modality.FLAIR, Modality.T1), twoModalities(),
                null, LabelScheme.BRATS);
        // x: 5..9 (5 wide) grown to 8 centred: start 5 - (8-5)/2 = 4; y: 3..6 (4) -> start 3 - 2 = 1;
        // z: 2..4 (3) -> 8 > 12? no: start 2 - 2 = 0, size 8
        assertEquals(new CropBox(4, 1, 0, 8, 8, 8), p.crop());
        assertEquals(8, p.depth());
        PreparedCase small = new Preprocessor(128, 1e-3).prepare("c", List.of(Modality.FLAIR), twoModalities(), null,
                LabelScheme.BRATS);
        assertEquals(new CropBox(0, 0, 0, 20, 16, 12), small.crop(), "128 is more than the volume: the whole volume");
        PreparedCase tight = new Preprocessor(1, 1e-3).prepare("c", List.of(Modality.FLAIR), twoModalities(), null,
                LabelScheme.BRATS);
        assertEquals(new CropBox(5, 3, 2, 5, 4, 3), tight.crop(), "no growth needed: the bounding box itself");
    }

    @Test
    void enlargedBoxShiftsInsideTheVolumeAtAnEdge() {
        Preprocessor p = new Preprocessor(8, 1e-3);
        assertArrayEquals(new int[] {0, 8}, p.enlarge(0, 2, 20));
        assertArrayEquals(new int[] {12, 8}, p.enlarge(18, 19, 20));
    }

    @Test
    void eachChannelHasMeanZeroAndUnitStdInsideTheMaskAndZeroOutside() {
        PreparedCase p = new Preprocessor(8, 1e-3).prepare("c", List.of(Modality.FLAIR, Modality.T1), twoModalities(),
                null, LabelScheme.BRATS);
        int n = p.voxels();
        // inside the mask both channels are 1 + x for x = 5..9 (scaled): mean over x 5..9 of x+1 is 8, std sqrt(2)
        for (int c = 0; c < 2; c++) {
            double sum = 0, sq = 0;
            int count = 0;
            for (int i = 0; i < n; i++) {
                float v = p.image()[c * n + i];
                int x = i % p.width() + p.crop().x0(), y = i / p.width() % p.height() + p.crop().y0(),
                        z = i / (p.width() * p.height()) + p.crop().z0();
                boolean inside = x >= 5 && x <= 9 && y >= 3 && y <= 6 && z >= 2 && z <= 4;
                if (!inside) {
                    assertEquals(0f, v, "outside the mask");
                    continue;
                }
                assertEquals((x + 1 - 8) / Math.sqrt(2), v, 1e-5, "channel " + c + " at x=" + x);
                sum += v;
                sq += v * v;
                count++;
            }
            assertEquals(60, count);
            assertEquals(0, sum / count, 1e-6);
            assertEquals(1, sq / count, 1e-5);
        }
    }

    @Test
    void missingModalitiesBecomeZeroChannelsMarkedUnavailable() {
        Map<Modality, Volume> m = Map.of(Modality.T1, brainBox(1));
        PreparedCase p = new Preprocessor(1, 1e-3).prepare("c", Modality.BRATS, m, null, LabelScheme.BRATS);
        assertArrayEquals(new boolean[] {false, false, true, false}, p.available());
        for (int i = 0; i < p.voxels(); i++) assertEquals(0f, p.image()[i], "FLAIR channel is empty");
    }

    @Test
    void labelsBecomeClassesWithEnhancingThree() {
        Volume label = TestVolumes.of(20, 16, 12, (x, y, z) -> x == 5 ? 4 : x == 6 ? 2 : x == 7 ? 1 : 0);
        PreparedCase p = new Preprocessor(1, 1e-3).prepare("c", List.of(Modality.FLAIR), twoModalities(), label,
                LabelScheme.BRATS);
        assertEquals(3, p.labels()[0]);
        assertEquals(2, p.labels()[1]);
        assertEquals(1, p.labels()[2]);
        assertEquals(0, p.labels()[3]);
    }

    @Test
    void labelsOutsideTheSchemeAreRefusedWithFileAndVoxel() {
        Path f = TestVolumes.write(TestVolumes.of(20, 16, 12, (x, y, z) -> x == 7 && y == 2 && z == 1 ? 3 : 0),
                dir.resolve("bad_seg.nii.gz"), NiftiDatatype.UINT8);
        DataException e = assertThrows(DataException.class, () -> new Preprocessor(1, 1e-3).prepare("c",
                List.of(Modality.FLAIR), twoModalities(), NiftiReader.read(f), LabelScheme.BRATS));
        assertTrue(e.getMessage().contains("bad_seg.nii.gz") && e.getMessage().contains("(7, 2, 1)")
                && e.getMessage().contains("{0, 1, 2, 4}"), e.getMessage());
    }

    @Test
    void modalitiesWithDifferentDimsOrAffinesAreRefusedNamingBothFiles() {
        Path a = TestVolumes.write(brainBox(1), dir.resolve("a_flair.nii.gz"), NiftiDatatype.INT16);
        Path b = TestVolumes.write(TestVolumes.of(20, 16, 11, (x, y, z) -> 1), dir.resolve("a_t1.nii.gz"), NiftiDatatype.INT16);
        Volume shifted = new Volume(NiftiHeader.of(20, 16, 12, new double[] {1, 1, 1}, new double[] {0, 0, 5}),
                brainBox(1).data(), null);
        Path c = TestVolumes.write(shifted, dir.resolve("a_t2.nii.gz"), NiftiDatatype.INT16);
        Preprocessor pre = new Preprocessor(1, 1e-3);
        DataException dims = assertThrows(DataException.class, () -> pre.prepare("a", List.of(Modality.FLAIR, Modality.T1),
                Map.of(Modality.FLAIR, NiftiReader.read(a), Modality.T1, NiftiReader.read(b)), null, LabelScheme.BRATS));
        assertTrue(dims.getMessage().contains("a_flair") && dims.getMessage().contains("a_t1"), dims.getMessage());
        DataException affine = assertThrows(DataException.class, () -> pre.prepare("a", List.of(Modality.FLAIR, Modality.T2),
                Map.of(Modality.FLAIR, NiftiReader.read(a), Modality.T2, NiftiReader.read(c)), null, LabelScheme.BRATS));
        assertTrue(affine.getMessage().contains("a_flair") && affine.getMessage().contains("a_t2")
                && affine.getMessage().contains("affine"), affine.getMessage());
    }

    @Test
    void nanImagesAreRefused() {
        Volume v = TestVolumes.of(4, 4, 4, (x, y, z) -> x == 1 ? Float.NaN : 1);
        assertThrows(DataException.class, () -> new Preprocessor(1, 1e-3).prepare("c", List.of(Modality.FLAIR),
                Map.of(Modality.FLAIR, v), null, LabelScheme.BRATS));
    }

    @Test
    void anAllZeroCaseIsRefused() {
        Volume v = TestVolumes.of(4, 4, 4, (x, y, z) -> 0);
        DataException e = assertThrows(DataException.class, () -> new Preprocessor(1, 1e-3).prepare("zero",
                List.of(Modality.FLAIR), Map.of(Modality.FLAIR, v), null, LabelScheme.BRATS));
        assertTrue(e.getMessage().contains("zero"), e.getMessage());
        assertFalse(e.getMessage().isBlank());
    }
}
