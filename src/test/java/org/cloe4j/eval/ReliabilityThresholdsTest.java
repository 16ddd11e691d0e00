package org.cloe4j.eval;

import org.cloe4j.data.Modality;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Flag levels from validation statistics: what is flagged, what is not, and the stored file. */
class ReliabilityThresholdsTest {
    static final List<Modality> MODS = List.of(Modality.FLAIR, Modality.T1CE, Modality.T1, Modality.T2);

    static ReliabilityThresholds validation() {
        // u means 0.8 (sd 0.05 → flag below 0.8 − 3·0.05 = 0.65), t2 sd 0.001 floored at 0.02 → below 0.74
        return new ReliabilityThresholds(MODS, new double[] {0.8, 0.8, 0.8, 0.8}, new double[] {0.05, 0.05, 0.05, 0.001},
                new double[] {0.25, 0.25, 0.25, 0.25}, new double[] {0.01, 0.01, 0.01, 0.01}, 4, 3, 0.02);
    }

    @Test
    void thresholdsAreMeanMinusKFlooredStandardDeviations() {
        ReliabilityThresholds t = validation();
        assertEquals(0.65, t.thresholdU(0), 1e-12);
        assertEquals(0.74, t.thresholdU(3), 1e-12);
        assertEquals(0.19, t.thresholdW(1), 1e-12);
    }

    @Test
    void aSequenceFarBelowValidationIsFlaggedAndTheOthersAreNot() {
        ReliabilityThresholds t = validation();
        List<ReliabilityThresholds.Flag> f = t.flags(MODS, new double[] {0.78, 0.70, 0.82, 0.30},
                new double[] {0.26, 0.25, 0.26, 0.23});
        assertEquals(1, f.size(), f.toString());
        assertEquals(Modality.T2, f.get(0).modality());
        assertTrue(f.get(0).message().contains("t2") && f.get(0).message().contains("0.300"), f.get(0).message());
        // gate weight far down with u in range: flagged by w
        f = t.flags(MODS, new double[] {0.8, 0.8, 0.8, 0.8}, new double[] {0.33, 0.33, 0.33, 0.01});
        assertEquals(List.of(Modality.T2), f.stream().map(ReliabilityThresholds.Flag::modality).toList());
        // one sequence: u is NaN and w is 1, nothing to compare
        assertTrue(t.flags(List.of(Modality.T1), new double[] {Double.NaN}, new double[] {1}).isEmpty());
    }

    @Test
    void writtenAndReadBack(@TempDir Path dir) throws Exception {
        assertNull(ReliabilityThresholds.read(dir));
        validation().write(dir);
        ReliabilityThresholds back = ReliabilityThresholds.read(dir);
        assertEquals(MODS, back.modalities());
        assertArrayEquals(validation().sdU(), back.sdU(), 0);
        assertArrayEquals(validation().meanW(), back.meanW(), 0);
        assertEquals(0.74, back.thresholdU(3), 1e-12);
    }
}
