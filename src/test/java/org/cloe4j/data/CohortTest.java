package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Opening the BraTS and MSD folder layouts. */
class CohortTest {

    @TempDir Path dir;

    /** A BraTS case whose k-th sequence (flair, t1ce, t1, t2) is bright where x == k, so channels can be told apart. */
    private void bratsCase(String id, boolean withSeg, String... skip) {
        Path c = dir.resolve(id);
        String[] names = {"flair", "t1ce", "t1", "t2"};
        for (int k = 0; k < names.length; k++) {
            if (List.of(skip).contains(names[k])) continue;
            int bright = k;
            TestVolumes.write(TestVolumes.of(4, 4, 4, (x, y, z) -> x == bright ? 6 : 1), c.resolve(id + "_" + names[k] + ".nii.gz"),
                    NiftiDatatype.INT16);
        }
        if (withSeg) {
            TestVolumes.write(TestVolumes.of(4, 4, 4, (x, y, z) -> x == 0 ? 4 : 0), c.resolve(id + "_seg.nii.gz"),
                    NiftiDatatype.UINT8);
        }
    }

    @Test
    void bratsFoldersBecomeCasesWithFlairT1ceT1T2Order() {
        bratsCase("BraTS20_Training_002", true);
        bratsCase("BraTS20_Training_001", true);
        bratsCase("BraTS20_Validation_001", false);
        Cohort c = Cohort.open(dir);
        assertEquals(Cohort.Layout.BRATS, c.layout());
        assertEquals(List.of(Modality.FLAIR, Modality.T1CE, Modality.T1, Modality.T2), c.modalities());
        assertEquals(List.of("BraTS20_Training_001", "BraTS20_Training_002", "BraTS20_Validation_001"), c.ids());
        CaseRecord r = c.get("BraTS20_Training_001");
        assertTrue(r.images().get(Modality.T1).file().getFileName().toString().endsWith("_t1.nii.gz"), "_t1 is not _t1ce");
        assertTrue(r.images().get(Modality.T1CE).file().getFileName().toString().endsWith("_t1ce.nii.gz"));
        assertTrue(r.hasLabel());
        assertNull(c.get("BraTS20_Validation_001").label());
    }

    @Test
    void preparedBratsChannelsAreFlairT1ceT1T2AndLabelsAreClasses() {
        bratsCase("A", true);
        PreparedCase p = new Preprocessor(1, 1e-3).prepare(Cohort.open(dir).get("A"));
        assertEquals(4, p.channels());
        for (int c = 0; c < 4; c++) {
            for (int i = 0; i < p.voxels(); i++) {
                boolean bright = i % 4 == c; // x == c
                float v = p.image()[c * p.voxels() + i];
                assertTrue(bright ? v > 1 : v < 0, "channel " + c + " voxel " + i + " = " + v);
            }
        }
        assertEquals(3, p.labels()[0], "BraTS 4 (ET) is class 3");
        assertEquals(0, p.labels()[1]);
    }

    @Test
    void aMissingSequenceIsNamedWithItsFolder() {
        bratsCase("B", true, "t1ce");
        DataException e = assertThrows(DataException.class, () -> Cohort.open(dir));
        assertTrue(e.getMessage().contains("B") && e.getMessage().contains("T1ce"), e.getMessage());
    }

    @Test
    void aFolderWithoutCasesIsRefused() throws IOException {
        Files.createDirectories(dir.resolve("empty"));
        assertThrows(DataException.class, () -> Cohort.open(dir));
    }

    /** MSD Task01: 4D images with channels FLAIR, T1w, t1gd, T2w (values 10, 20, 30, 40) and labels 0..3. */
    private void msdBrain() throws IOException {
        Files.writeString(dir.resolve("dataset.json"), """
                {"name": "BRATS", "tensorImageSize": "4D",
                 "modality": {"0": "FLAIR", "1": "T1w", "2": "t1gd", "3": "T2w"},
                 "labels": {"0": "background", "1": "edema", "2": "non-enhancing tumor", "3": "enhancing tumour"},
                 "numTraining": 1,
                 "training": [{"image": "./imagesTr/BRATS_001.nii.gz", "label": "./labelsTr/BRATS_001.nii.gz"}],
                 "test": []}
                """);
        float[] img = new float[4 * 8];
        for (int c = 0; c < 4; c++) for (int i = 0; i < 8; i++) img[c * 8 + i] = 10 * (c + 1) + i;
        NiftiHeader h = TestVolumes.header(2, 2, 2).withDims(2, 2, 2, 4);
        Files.createDirectories(dir.resolve("imagesTr"));
        NiftiWriter.write(new Volume(h, img, null), dir.resolve("imagesTr/BRATS_001.nii.gz"), NiftiDatatype.FLOAT32);
        float[] lab = {0, 1, 2, 3, 0, 0, 0, 0};
        NiftiWriter.write(new Volume(TestVolumes.header(2, 2, 2), lab, null), dir.resolve("labelsTr/BRATS_001.nii.gz"),
                NiftiDatatype.UINT8);
    }

    @Test
    void msdTask01MapsChannelsToBratsOrderAndLabelsToBratsRegions() throws IOException {
        msdBrain();
        Cohort c = Cohort.open(dir);
        assertEquals(Cohort.Layout.MSD, c.layout());
        assertEquals(Modality.BRATS, c.modalities());
        assertEquals(LabelScheme.MSD_BRAIN_TUMOUR, c.labelScheme());
        CaseRecord r = c.get("BRATS_001");
        assertEquals(2, r.images().get(Modality.T1CE).volume(), "t1gd is the file's third volume");
        assertEquals(1, r.images().get(Modality.T1).volume());
        PreparedCase p = new Preprocessor(1, 1e-3).prepare(r);
        // MSD 1 edema -> class 2 (ED), 2 non-enhancing -> class 1 (NCR), 3 enhancing -> class 3 (ET)
        assertArrayEquals(new byte[] {0, 2, 1, 3, 0, 0, 0, 0}, p.labels());
        // channel 1 of the prepared image is T1ce = the file's volume 2 (values 30..37): z-scored ramp, same as FLAIR's
        float[] t1ce = java.util.Arrays.copyOfRange(p.image(), 8, 16);
        float[] flair = java.util.Arrays.copyOfRange(p.image(), 0, 8);
        assertArrayEquals(flair, t1ce, 1e-6f);
        // and written predictions use BraTS labels: class 2 (ED) -> 2, class 1 -> 1, class 3 -> 4
        Volume back = LabelMaps.restore(p.labels(), p);
        assertArrayEquals(new float[] {0, 2, 1, 4, 0, 0, 0, 0}, back.data());
    }

    @Test
    void msdTask05ProstateHasT2AndAdcAndZoneLabels() throws IOException {
        Files.writeString(dir.resolve("dataset.json"), """
                {"name": "Prostate", "modality": {"0": "T2", "1": "ADC"},
                 "labels": {"0": "background", "1": "PZ", "2": "TZ"},
                 "training": [{"image": "./imagesTr/prostate_00.nii.gz", "label": "./labelsTr/prostate_00.nii.gz"},
                              {"image": "./imagesTr/._prostate_00.nii.gz", "label": "./labelsTr/._prostate_00.nii.gz"}]}
                """);
        float[] img = new float[2 * 8];
        for (int i = 0; i < 8; i++) {
            img[i] = 100 + i; // T2: a ramp
            img[8 + i] = i % 2 == 0 ? 5 : 1; // ADC: alternating
        }
        NiftiWriter.write(new Volume(TestVolumes.header(2, 2, 2).withDims(2, 2, 2, 2), img, null),
                dir.resolve("imagesTr/prostate_00.nii.gz"), NiftiDatatype.FLOAT32);
        NiftiWriter.write(new Volume(TestVolumes.header(2, 2, 2), new float[] {0, 1, 2, 0, 0, 1, 2, 0}, null),
                dir.resolve("labelsTr/prostate_00.nii.gz"), NiftiDatatype.UINT8);
        Cohort c = Cohort.open(dir);
        assertEquals(List.of(Modality.T2, Modality.ADC), c.modalities());
        PreparedCase p = new Preprocessor(1, 1e-3).prepare(c.get("prostate_00"));
        assertArrayEquals(new byte[] {0, 1, 2, 0, 0, 1, 2, 0}, p.labels(), "PZ 1 and TZ 2 stay as they are");
        assertTrue(p.image()[8] > 0 && p.image()[9] < 0, "channel 1 is ADC, the file's second volume");
        assertEquals(LabelScheme.MSD_PROSTATE, c.labelScheme());
        assertEquals(List.of("prostate_00"), c.ids(), "macOS '._' resource files are skipped");
        assertEquals(3, c.labelScheme().classes());
        assertEquals(-1, c.labelScheme().classOf(3));
    }

    @Test
    void msdWithUnknownLabelsIsRefused() throws IOException {
        Files.writeString(dir.resolve("dataset.json"), """
                {"modality": {"0": "CT"}, "labels": {"0": "background", "1": "liver"},
                 "training": [{"image": "./imagesTr/a.nii.gz", "label": "./labelsTr/a.nii.gz"}]}
                """);
        DataException e = assertThrows(DataException.class, () -> Cohort.open(dir));
        assertTrue(e.getMessage().contains("dataset.json") && e.getMessage().contains("liver"), e.getMessage());
    }

    @Test
    void modalityNamesAreCaseInsensitive() {
        assertEquals(Modality.FLAIR, Modality.of("FLAIR"));
        assertEquals("T1ce", Modality.T1CE.displayName());
        assertEquals(ByteOrder.LITTLE_ENDIAN, TestVolumes.header(1, 1, 1).byteOrder());
    }
}
