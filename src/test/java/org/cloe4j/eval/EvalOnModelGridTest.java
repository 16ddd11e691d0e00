package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.cloe4j.data.LabelScheme;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiHeader;
import org.cloe4j.data.Orientation;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.StudyGeometry;
import org.cloe4j.data.TrainingGeometry;
import org.cloe4j.data.Volume;
import org.junit.jupiter.api.Test;

/**
 * cloe eval on a case whose grid is not the model's: the case is segmented on the model's grid and the labels come
 * back to the case's own crop. A reorientation moves no value, so the way back must give the case's labels exactly.
 */
class EvalOnModelGridTest {
    static final int X = 30, Y = 26, Z = 20;

    @Test
    void labelsOnTheModelsGridComeBackToTheCasesOwnCropExactly() {
        NiftiHeader h = NiftiHeader.of(X, Y, Z, new double[] {1, 1, 1}, new double[] {0, 0, 0});
        SplittableRandom rng = new SplittableRandom(5);
        Map<Modality, Volume> images = new LinkedHashMap<>();
        float[] seg = new float[X * Y * Z];
        for (Modality m : Modality.BRATS) {
            float[] v = new float[X * Y * Z];
            for (int z = 0, i = 0; z < Z; z++) {
                for (int y = 0; y < Y; y++) {
                    for (int x = 0; x < X; x++, i++) {
                        double a = (x - 16.0) / 11, b = (y - 12.0) / 10, c = (z - 9.0) / 8; // an off-centre head
                        if (a * a + b * b + c * c < 1) v[i] = 100 + (float) rng.nextDouble(50);
                        double d = Math.sqrt((x - 19.0) * (x - 19.0) + (y - 10.0) * (y - 10.0) + (z - 8.0) * (z - 8.0));
                        seg[i] = d < 1.5 ? 4 : d < 3 ? 1 : d < 5 ? 2 : 0; // an asymmetric tumour: ET, NCR, ED
                        if (x == 19 && y > 10 && d < 5) seg[i] = 2;
                    }
                }
            }
            images.put(m, new Volume(h, v, null));
        }
        Volume label = new Volume(h, seg, null);
        Preprocessor pre = new Preprocessor();
        PreparedCase own = pre.prepare("t", Modality.BRATS, images, label, LabelScheme.BRATS);
        StudyGeometry g = StudyGeometry.of(h, null, new TrainingGeometry(Orientation.parse("LPI"), new double[] {1, 1, 1}, true));
        assertFalse(g.isIdentity(), "the test needs a geometry that moves the voxels");
        PreparedCase onGrid = pre.prepare("t", Modality.BRATS, g.toModel(images), g.toModel(label), LabelScheme.BRATS);
        assertNotEquals(java.util.Arrays.toString(own.labels()), java.util.Arrays.toString(onGrid.labels()),
                "on the model's grid the crop's voxels are in another order");
        byte[] back = Evaluator.toOwnGrid(onGrid.labels(), onGrid, g, own);
        assertArrayEquals(own.labels(), back);
        int tumour = 0;
        for (byte b : back) if (b != 0) tumour++;
        assertTrue(tumour > 100, "the test case needs a tumour, has " + tumour + " voxels");
    }
}
