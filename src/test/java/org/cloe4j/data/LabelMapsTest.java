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

    /** Fills the box [x0, x1) × [y0, y1) × [z0, z1) of an nx·ny·nz map (x fastest) with class c. */
    private static void box(byte[] m, int nx, int ny, int x0, int x1, int y0, int y1, int z0, int z1, int c) {
        for (int z = z0; z < z1; z++) for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) m[(z * ny + y) * nx + x] = (byte) c;
    }

    @Test
    void tumourComponentsUnderATenthOfTheLargestBecomeBackground() {
        int nx = 30, ny = 20, nz = 10;
        byte[] m = new byte[nx * ny * nz];
        box(m, nx, ny, 0, 10, 0, 10, 0, 10, 2);   // 1000 voxels of oedema ...
        box(m, nx, ny, 3, 6, 3, 6, 3, 6, 3);      // ... with an enhancing core: one component of 1000
        box(m, nx, ny, 15, 20, 0, 5, 0, 8, 2);    // 200 voxels (a fifth of the largest): kept
        box(m, nx, ny, 25, 30, 15, 20, 0, 3, 1);  // 75 voxels (under a tenth): removed
        m[(9 * ny + 11) * nx + 11] = 2;            // touches the big box's corner (10, 10, 9) only diagonally: its own component
        byte[] want = m.clone();
        box(want, nx, ny, 25, 30, 15, 20, 0, 3, 0);
        want[(9 * ny + 11) * nx + 11] = 0;
        assertEquals(76, LabelMaps.removeSmallTumourComponents(m, nx, ny, nz, 0.1));
        assertArrayEquals(want, m);
        // fraction 0 keeps everything, 1 only the largest
        byte[] copy = want.clone();
        assertEquals(0, LabelMaps.removeSmallTumourComponents(copy, nx, ny, nz, 0));
        assertEquals(200, LabelMaps.removeSmallTumourComponents(copy, nx, ny, nz, 1));
        assertThrows(IllegalArgumentException.class, () -> LabelMaps.removeSmallTumourComponents(new byte[10], 3, 3, 1, 0.1));
    }
}
