package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.cloe4j.data.CropBox;
import org.cloe4j.data.LabelScheme;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiHeader;
import org.cloe4j.data.PreparedCase;
import org.junit.jupiter.api.Test;

/** The FLAIR threshold baseline: fitted on training cases, scored on test cases, never outside the head. */
class FlairBaselineTest {
    static final int N = 16;

    /** FLAIR: 0 outside a 12³ head, 2.5 in a tumour block x in [4, 8), 0.5 elsewhere in the head (T1 absent). */
    static PreparedCase prepared(String id, float tumour) {
        int n = N * N * N;
        float[] img = new float[2 * n];
        byte[] lab = new byte[n];
        for (int z = 0, i = 0; z < N; z++) {
            for (int y = 0; y < N; y++) {
                for (int x = 0; x < N; x++, i++) {
                    boolean head = z >= 2 && z < 14 && y >= 2 && y < 14 && x >= 2 && x < 14;
                    boolean t = head && x >= 4 && x < 8 && y >= 4 && y < 8 && z >= 4 && z < 8;
                    img[i] = !head ? 0 : t ? tumour : 0.5f;
                    lab[i] = (byte) (t ? 2 : 0);
                }
            }
        }
        return new PreparedCase(id, List.of(Modality.FLAIR, Modality.T1), new boolean[] {true, false}, img, lab, N, N, N,
                new CropBox(0, 0, 0, N, N, N), NiftiHeader.of(N, N, N, new double[] {1, 1, 1}, new double[] {0, 0, 0}),
                LabelScheme.BRATS);
    }

    @Test
    void theFittedThresholdSeparatesTheTumourAndCarriesOverToTestCases() {
        FlairBaseline.Result r = FlairBaseline.run(List.of(prepared("a", 2.5f)), List.of(prepared("b", 2.0f)));
        // any threshold in [0.5, 2.5) is perfect on the training case; the first on the grid is 0.5
        assertEquals(0.5, r.threshold(), 1e-9);
        assertEquals(1.0, r.trainDice(), 1e-12);
        assertEquals(1.0, r.meanDice(), 1e-12);
        assertEquals(0.0, r.meanHd95(), 1e-12);
    }

    @Test
    void aThresholdBelowTheBackgroundStillStaysInsideTheHead() {
        PreparedCase c = prepared("a", 2.5f);
        boolean[] p = FlairBaseline.predict(c, -10);
        int head = 0;
        for (boolean b : p) if (b) head++;
        assertEquals(12 * 12 * 12, head, "every head voxel, no background voxel");
        PreparedCase noFlair = new PreparedCase("x", List.of(Modality.FLAIR, Modality.T1), new boolean[] {false, true},
                c.image(), c.labels(), N, N, N, c.crop(), c.geometry(), LabelScheme.BRATS);
        assertThrows(IllegalArgumentException.class, () -> FlairBaseline.predict(noFlair, 1));
    }
}
