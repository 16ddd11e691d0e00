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
    void medianNormalisationIsThreeTimesTheRatioToTheBrainsMedianMinusOne() {
        // inside the mask x + 1 for x = 5..9 (times 1 and 3): 12 voxels of each of 6, 7, 8, 9, 10 along y and z, so the
        // median is 8 and the value 3 · (x + 1 − 8) / 8, by hand; outside 0
        PreparedCase p = new Preprocessor(8, 1e-3, Preprocessor.Normalisation.MEDIAN).prepare("c",
                List.of(Modality.FLAIR, Modality.T1), twoModalities(), null, LabelScheme.BRATS);
        int n = p.voxels();
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < n; i++) {
                float v = p.image()[c * n + i];
                int x = i % p.width() + p.crop().x0(), y = i / p.width() % p.height() + p.crop().y0(),
                        z = i / (p.width() * p.height()) + p.crop().z0();
                boolean inside = x >= 5 && x <= 9 && y >= 3 && y <= 6 && z >= 2 && z <= 4;
                // float arithmetic on values of order 1: 1e-6 is a few ulp
                assertEquals(inside ? 3.0 * (x + 1 - 8) / 8 : 0, v, 1e-6, "channel " + c + " at x=" + x);
            }
        }
    }

    @Test
    void medianNormalisationDoesNotDependOnATumoursShareOrTheNoiseAsTheZScoreDoes() {
        // a brain of "tissue" 100 with a bright "tumour" block of 300 over a growing share of it: the tissue's z-score
        // moves with the share (the tumour inflates the standard deviation); its median-normalised value stays 0 while
        // the tumour is under half the brain, and the tumour's stays 3 · (300/100 − 1) = 6
        for (int tumourX : new int[] {1, 3, 6}) {
            Map<Modality, Volume> m = Map.of(Modality.FLAIR, TestVolumes.of(16, 8, 8, (x, y, z) -> x < tumourX ? 300 : 100));
            PreparedCase med = new Preprocessor(1, 1e-3, Preprocessor.Normalisation.MEDIAN).prepare("c",
                    List.of(Modality.FLAIR), m, null, LabelScheme.BRATS);
            PreparedCase z = new Preprocessor(1, 1e-3).prepare("c", List.of(Modality.FLAIR), m, null, LabelScheme.BRATS);
            assertEquals(6f, med.image()[0], 1e-6, "tumour, median, share " + tumourX + "/16");
            assertEquals(0f, med.image()[15], 0f, "tissue, median, share " + tumourX + "/16");
            double share = tumourX / 16.0, sd = 200 * Math.sqrt(share * (1 - share));
            assertEquals(-200 * share / sd, z.image()[15], 1e-5, "tissue, z-score, share " + tumourX + "/16");
        }
        // a gain and noise: multiplying the image changes nothing (up to float rounding)
        Map<Modality, Volume> a = Map.of(Modality.FLAIR, TestVolumes.of(9, 7, 5, (x, y, z) -> 50 + x * 7 + y * 3 + z));
        Map<Modality, Volume> b = Map.of(Modality.FLAIR, TestVolumes.of(9, 7, 5, (x, y, z) -> 3.7f * (50 + x * 7 + y * 3 + z)));
        Preprocessor pre = new Preprocessor(1, 1e-3, Preprocessor.Normalisation.MEDIAN);
        assertArrayEquals(pre.prepare("a", List.of(Modality.FLAIR), a, null, LabelScheme.BRATS).image(),
                pre.prepare("b", List.of(Modality.FLAIR), b, null, LabelScheme.BRATS).image(), 1e-5f);
    }

    @Test
    void aChannelWithoutAPositiveMedianFallsBackToTheZScore() {
        // not a magnitude image (values around 0): the ratio to the median means nothing, the z-score is used
        Map<Modality, Volume> m = new LinkedHashMap<>();
        m.put(Modality.FLAIR, brainBox(1));
        m.put(Modality.T1, TestVolumes.of(20, 16, 12, (x, y, z) ->
                x >= 5 && x <= 9 && y >= 3 && y <= 6 && z >= 2 && z <= 4 ? x - 7 : 0));
        PreparedCase p = new Preprocessor(8, 1e-3, Preprocessor.Normalisation.MEDIAN).prepare("c",
                List.of(Modality.FLAIR, Modality.T1), m, null, LabelScheme.BRATS);
        int n = p.voxels();
        for (int i = 0; i < n; i++) {
            int x = i % p.width() + p.crop().x0(), y = i / p.width() % p.height() + p.crop().y0(),
                    z = i / (p.width() * p.height()) + p.crop().z0();
            boolean inside = x >= 5 && x <= 9 && y >= 3 && y <= 6 && z >= 2 && z <= 4;
            assertEquals(inside ? (x - 7) / Math.sqrt(2) : 0, p.image()[n + i], 1e-5, "T1 at x=" + x);
        }
    }

    @Test
    void theMedianEqualsASortsMiddle() {
        var rnd = new java.util.Random(3);
        for (int n : new int[] {1, 2, 3, 10, 11, 1000, 1001, 4096}) {
            for (int rep = 0; rep < 20; rep++) {
                float[] v = new float[n];
                int levels = rep % 2 == 0 ? 5 : Integer.MAX_VALUE; // many ties, or almost none
                for (int i = 0; i < n; i++) v[i] = rep % 2 == 0 ? rnd.nextInt(levels) : rnd.nextFloat() * 100 - 20;
                float[] sorted = v.clone();
                java.util.Arrays.sort(sorted);
                double want = n % 2 == 1 ? sorted[n / 2] : 0.5 * ((double) sorted[n / 2 - 1] + sorted[n / 2]);
                assertEquals(want, Preprocessor.median(v, n), 0, "n " + n + ", rep " + rep);
            }
        }
    }

    @Test
    void normalisationNamesRoundTripAndAnUnknownOneIsRefused() {
        assertEquals(Preprocessor.Normalisation.ZSCORE, Preprocessor.Normalisation.named(null));
        assertEquals(Preprocessor.Normalisation.MEDIAN, Preprocessor.Normalisation.named("median"));
        assertEquals(Preprocessor.Normalisation.ZSCORE, Preprocessor.Normalisation.named("zscore"));
        var e = assertThrows(IllegalArgumentException.class, () -> Preprocessor.Normalisation.named("minmax"));
        assertTrue(e.getMessage().contains("minmax"), e.getMessage());
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
