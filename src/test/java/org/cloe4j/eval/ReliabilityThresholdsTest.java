package org.cloe4j.eval;

import org.cloe4j.data.Modality;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    /** A reliability.json as written before the relative rule existed (a trained model's, values as stored). */
    static final String OLD_FILE = """
            {
              "cases" : 4,
              "k" : 3.0,
              "minSd" : 0.02,
              "sequences" : [ {
                "name" : "flair", "meanU" : 0.9636284613981844, "sdU" : 0.004241612313588782, "thresholdU" : 0.9036284613981844,
                "meanW" : 0.23972567948512732, "sdW" : 0.006171614056814695, "thresholdW" : 0.17972567948512733
              }, {
                "name" : "t1ce", "meanU" : 0.973304826579988, "sdU" : 0.0021626385823819336, "thresholdU" : 0.9133048265799879,
                "meanW" : 0.2588904763106257, "sdW" : 0.003023162670342762, "thresholdW" : 0.19889047631062567
              }, {
                "name" : "t1", "meanU" : 0.9705530246719718, "sdU" : 0.00449817707242311, "thresholdU" : 0.9105530246719717,
                "meanW" : 0.2530771763063967, "sdW" : 0.005060234338747853, "thresholdW" : 0.1930771763063967
              }, {
                "name" : "t2", "meanU" : 0.9678993610665202, "sdU" : 0.0029980205368255637, "thresholdU" : 0.9078993610665202,
                "meanW" : 0.24830666761845352, "sdW" : 0.0037780681021662146, "thresholdW" : 0.18830666761845352
              } ]
            }
            """;

    @Test
    void anOldFileStillLoadsAndKeepsTheAbsoluteRule(@TempDir Path dir) throws Exception {
        java.nio.file.Files.writeString(dir.resolve(ReliabilityThresholds.FILE), OLD_FILE);
        ReliabilityThresholds t = ReliabilityThresholds.read(dir);
        assertTrue(t.needsRecalibration());
        assertNull(t.relative());
        assertFalse(t.relativeApplies(MODS));
        // FLAIR's level 0.9636 − 3·max(0.0042, 0.02) = 0.9036: u 0.90 is flagged, 0.91 is not
        assertEquals(0.9036284613981844, t.thresholdU(0), 1e-12);
        List<ReliabilityThresholds.Flag> f = t.flags(MODS, new double[] {0.90, 0.97, 0.97, 0.97}, new double[] {0.25, 0.25, 0.25, 0.25});
        assertEquals(List.of(Modality.FLAIR), f.stream().map(ReliabilityThresholds.Flag::modality).toList());
        assertEquals("agreement u", f.get(0).measure());
        assertTrue(t.flags(MODS, new double[] {0.91, 0.97, 0.97, 0.97}, new double[] {0.25, 0.25, 0.25, 0.25}).isEmpty());
    }

    @Test
    void theRelativeRuleIsWrittenReadBackAndUsedWithEverySequence(@TempDir Path dir) throws Exception {
        RelativeFlagRule.Stats in = new RelativeFlagRule.Stats(4, 0, 64, 40, 3, new java.util.LinkedHashMap<>(
                java.util.Map.of("bias 1.5", new int[] {15, 16})));
        RelativeFlagRule rel = new RelativeFlagRule(MODS, new double[] {-0.007, 0.004, 0.001, -0.003}, new double[] {0.96, 1.04, 1.01, 0.99},
                -0.015, -0.12, List.of("bias 1.5"), 4, in, null);
        ReliabilityThresholds v = validation();
        new ReliabilityThresholds(MODS, v.meanU(), v.sdU(), v.meanW(), v.sdW(), 4, 3, 0.02, rel).write(dir);
        ReliabilityThresholds back = ReliabilityThresholds.read(dir);
        assertFalse(back.needsRecalibration());
        assertArrayEquals(rel.offsetU(), back.relative().offsetU(), 0);
        assertArrayEquals(rel.offsetW(), back.relative().offsetW(), 0);
        assertEquals(-0.015, back.relative().thresholdU(), 0);
        assertEquals(-0.12, back.relative().thresholdW(), 0);
        assertEquals(List.of("bias 1.5"), back.relative().conditions());
        assertEquals(40, back.relative().inSample().detected());
        assertArrayEquals(new int[] {15, 16}, back.relative().inSample().perCondition().get("bias 1.5"));
        assertNull(back.relative().leaveOneOut());
        // every sequence given, in another order: the relative rule. FLAIR u 0.93 against the others' median 0.96:
        // 0.93 − 0.96 + 0.007 = −0.023 < −0.015; T2 0.96 − median(0.93, 0.97, 0.96) = 0 + 0.003 = 0.003
        List<Modality> order = List.of(Modality.T2, Modality.FLAIR, Modality.T1CE, Modality.T1);
        List<ReliabilityThresholds.Flag> f = back.flags(order, new double[] {0.96, 0.93, 0.97, 0.96},
                new double[] {0.25, 0.24, 0.26, 0.25});
        assertEquals(List.of(Modality.FLAIR), f.stream().map(ReliabilityThresholds.Flag::modality).toList());
        assertEquals(-0.023, f.get(0).value(), 1e-12);
        assertTrue(f.get(0).message().contains("40 of 64 corrupted"), f.get(0).message());
        // three sequences given: the absolute rule (all u above 0.65, nothing flagged)
        assertTrue(back.flags(List.of(Modality.FLAIR, Modality.T1, Modality.T2), new double[] {0.70, 0.9, 0.9},
                new double[] {0.3, 0.35, 0.35}).isEmpty());
    }
}
