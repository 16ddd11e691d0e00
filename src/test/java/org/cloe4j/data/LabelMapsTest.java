package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelMapsTest {

    @TempDir Path dir;

    @Test
    void classesAndBratsLabelsConvertBothWays() {
        assertArrayEquals(new byte[] {0, 1, 2, 4}, LabelMaps.toBratsLabels(new byte[] {0, 1, 2, 3}));
        assertArrayEquals(new byte[] {0, 1, 2, 3}, LabelMaps.toClasses(new byte[] {0, 1, 2, 4}));
        assertThrows(IllegalArgumentException.class, () -> LabelMaps.toClasses(new byte[] {3}));
        assertThrows(IllegalArgumentException.class, () -> LabelMaps.toBratsLabels(new byte[] {4}));
    }

    @Test
    void fewerThanTheThresholdEnhancingVoxelsBecomeNecrosis() {
        byte[] c = new byte[1000];
        Arrays.fill(c, 0, 499, (byte) 3);
        c[600] = 2;
        assertTrue(LabelMaps.suppressSmallEnhancing(c, 500));
        for (int i = 0; i < 499; i++) assertEquals(1, c[i]);
        assertEquals(2, c[600]);
        byte[] enough = new byte[1000];
        Arrays.fill(enough, 0, 500, (byte) 3);
        assertFalse(LabelMaps.suppressSmallEnhancing(enough, 500), "500 voxels is not fewer than 500");
        assertEquals(3, enough[0]);
    }

    @Test
    void restoredMapSitsAtTheCropInTheOriginalGeometryAndReadsBack() {
        // original 20 × 16 × 12 with an oblique-free, shifted geometry; brain in x 5..9, y 3..6, z 2..4
        NiftiHeader h = NiftiHeader.of(20, 16, 12, new double[] {1.2, 1, 2}, new double[] {-10, 20, 5});
        float[] img = new float[20 * 16 * 12];
        for (int z = 2; z <= 4; z++) for (int y = 3; y <= 6; y++) for (int x = 5; x <= 9; x++) img[(z * 16 + y) * 20 + x] = 1 + x;
        Volume v = new Volume(h, img, null);
        PreparedCase p = new Preprocessor(1, 1e-3).prepare("c", List.of(Modality.FLAIR), Map.of(Modality.FLAIR, v), null,
                LabelScheme.BRATS);
        byte[] classes = new byte[p.voxels()];
        classes[0] = 3; // crop (0,0,0) = original (5, 3, 2)
        classes[p.voxels() - 1] = 2; // crop (2,3,4) = original (9, 6, 4)
        Path out = dir.resolve("pred.nii.gz");
        LabelMaps.write(classes, p, out);
        Volume back = NiftiReader.read(out);
        assertEquals(20, back.nx());
        assertEquals(16, back.ny());
        assertEquals(12, back.nz());
        assertArrayEquals(h.affine(), back.header().affine(), 1e-6);
        assertEquals(NiftiDatatype.UINT8.code(), back.header().datatype());
        assertEquals(4f, back.at(5, 3, 2), "class 3 is written as BraTS 4");
        assertEquals(2f, back.at(9, 6, 4));
        double sum = 0;
        for (float x : back.data()) sum += x;
        assertEquals(6, sum, "nothing else is labelled");
    }
}
