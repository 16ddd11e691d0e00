package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.cloe4j.data.Modality;
import org.junit.jupiter.api.Test;

/**
 * The relative flag rule on hand-computed numbers. Tolerances: 1e-12 where the expected value is a few exact decimal
 * operations (only rounding of the doubles differs).
 */
class RelativeFlagRuleTest {
    static final List<Modality> THREE = List.of(Modality.FLAIR, Modality.T1, Modality.T2);
    static final double THIRD = 1.0 / 3;

    @Test
    void gapToTheMedianOfTheOthers() {
        // i=0: others 0.96, 0.95, 0.97 → median 0.96, gap −0.06; i=1: 0.90, 0.95, 0.97 → 0.95, +0.01;
        // i=2: 0.90, 0.96, 0.97 → 0.96, −0.01; i=3: 0.90, 0.96, 0.95 → 0.95, +0.02
        assertArrayEquals(new double[] {-0.06, 0.01, -0.01, 0.02},
                RelativeFlagRule.gapToOthers(new double[] {0.90, 0.96, 0.95, 0.97}), 1e-12);
        // three sequences: the median of two others is their mean; i=0: 0.9 − (0.96 + 0.98)/2 = −0.07
        assertArrayEquals(new double[] {-0.07, 0.02, 0.05}, RelativeFlagRule.gapToOthers(new double[] {0.90, 0.96, 0.98}), 1e-12);
    }

    @Test
    void levelBelowTheCleanScoresAndHalfWayToTheCorruptedOnes() {
        double[] clean = {0.0, -0.01, 0.01, 0.0};
        // min −0.01, mean 0, sd = sqrt((0.0001 + 0.0001) / 3); m = −0.01 − sd
        double m = -0.01 - Math.sqrt(0.0002 / 3);
        // corrupted −0.05 and −0.03 lie below m: half-way between m and the higher of them
        assertEquals((m - 0.03) / 2, RelativeFlagRule.threshold(clean, new double[] {-0.05, -0.03, -0.005}), 1e-12);
        // none below m: m itself (−0.005 is within the clean spread and cannot be told apart)
        assertEquals(m, RelativeFlagRule.threshold(clean, new double[] {-0.005}), 1e-12);
        assertEquals(Double.NEGATIVE_INFINITY, RelativeFlagRule.threshold(new double[0], new double[] {-1}));
    }

    /** Two clean validation cases and one with FLAIR corrupted, three sequences. */
    static List<RelativeFlagRule.Measurement> measurements() {
        double[] equal = {THIRD, THIRD, THIRD};
        return List.of(
                new RelativeFlagRule.Measurement(0, null, -1, new double[] {0.96, 0.97, 0.98}, equal),
                new RelativeFlagRule.Measurement(1, null, -1, new double[] {0.95, 0.97, 0.97}, equal),
                new RelativeFlagRule.Measurement(0, "bias 1.5", 0, new double[] {0.90, 0.96, 0.97}, new double[] {0.25, 0.36, 0.39}));
    }

    @Test
    void fittedOffsetsLevelsAndRates() {
        RelativeFlagRule r = RelativeFlagRule.fit(THREE, List.of("bias 1.5"), measurements());
        // clean gaps: case 0 {−0.015, 0, +0.015}, case 1 {−0.02, +0.01, +0.01}; offsets their means
        assertArrayEquals(new double[] {-0.0175, 0.005, 0.0125}, r.offsetU(), 1e-12);
        assertArrayEquals(new double[] {1, 1, 1}, r.offsetW(), 1e-12);
        // clean relU: {+0.0025, −0.005, +0.0025} and {−0.0025, +0.005, −0.0025}: min −0.005, mean 0,
        // sd = sqrt((4·0.0025² + 2·0.005²) / 5) = sqrt(0.000015); the corrupted FLAIR: 0.90 − 0.965 + 0.0175 = −0.0475
        double m = -0.005 - Math.sqrt(0.000015);
        assertEquals((m - 0.0475) / 2, r.thresholdU(), 1e-12);
        // clean k·w all 1 (sd 0, level 0); corrupted FLAIR 3·0.25 − 1 = −0.25: half-way, −0.125
        assertEquals(-0.125, r.thresholdW(), 1e-12);
        assertEquals(2, r.cases());
        assertEquals(new RelativeFlagRule.Stats(2, 0, 1, 1, 0, r.inSample().perCondition()), r.inSample());
        assertArrayEquals(new int[] {1, 1}, r.inSample().perCondition().get("bias 1.5"));
        // leaving case 0 out, the rule fitted on case 1 alone (offsets {−0.02, 0.01, 0.01}, level 0) flags case 0's
        // clean T1 (0 − 0.01 = −0.01) and finds its corrupted FLAIR (−0.065 + 0.02 = −0.045); leaving case 1 out,
        // the rule from case 0 (offsets {−0.015, 0, 0.015}, level −0.025) leaves case 1's clean scores
        // {−0.005, +0.01, −0.005} alone: one false flag in two clean studies, one detection in one
        RelativeFlagRule.Stats loo = r.leaveOneOut();
        assertEquals(2, loo.cleanStudies());
        assertEquals(1, loo.cleanFlagged());
        assertEquals(0.5, loo.falseFlagRate(), 0);
        assertEquals(1, loo.corruptedStudies());
        assertEquals(1.0, loo.detectionRate(), 0);
    }

    @Test
    void flagsTheSequenceThatFallsBehindTheOthersNotTheOnesThatAllDrop() {
        RelativeFlagRule r = new RelativeFlagRule(THREE, new double[] {-0.01, 0, 0.01}, new double[] {1, 1, 1}, -0.02, -0.15,
                List.of(), 1, null, null);
        double[] equal = {THIRD, THIRD, THIRD};
        // all three 0.04 below {0.96, 0.97, 0.98}: relU {−0.015 + 0.01, 0, 0.015 − 0.01} = {−0.005, 0, 0.005}: nothing flagged
        assertArrayEquals(new boolean[] {false, false, false}, r.flagged(new double[] {0.92, 0.93, 0.94}, equal));
        // FLAIR 0.035 behind the others' median (0.955): relU = −0.035 + 0.01 = −0.025 < −0.02
        assertArrayEquals(new boolean[] {true, false, false}, r.flagged(new double[] {0.92, 0.95, 0.96}, equal));
        // u in line but w at 0.25 of three: 0.75 − 1 = −0.25 < −0.15
        boolean[] f = r.flagged(new double[] {0.96, 0.97, 0.98}, new double[] {0.38, 0.37, 0.25});
        assertArrayEquals(new boolean[] {false, false, true}, f);
        assertFalse(r.flagged(new double[] {0.96, 0.97, 0.98}, new double[] {0.30, 0.37, 0.33})[0], "0.9 − 1 = −0.1 > −0.15");
        assertTrue(RelativeFlagRule.median(new double[] {3, 1, 2}) == 2);
    }

    /**
     * The levels `cloe calibrate` fitted for a trained model (cohort A, 4 validation cases; rounded to 4 decimals) and
     * the u and w `cloe predict` measured with it on a test case (rounded to 3), clean and with FLAIR under a bias field
     * of strength 3.0 (docs/GENERALISATION.md, the relative flag): the clean study is not flagged, the corrupted
     * FLAIR is. Scores worked out by hand in the comments.
     */
    @Test
    void aTrainedModelsLevelsFlagTheCorruptedCaseAndNotTheCleanOne() {
        List<Modality> four = List.of(Modality.FLAIR, Modality.T1CE, Modality.T1, Modality.T2);
        RelativeFlagRule r = new RelativeFlagRule(four, new double[] {-0.0073, 0.0058, 0.0027, -0.0026},
                new double[] {0.959, 1.036, 1.012, 0.993}, -0.0089, -0.0517, List.of(), 4, null, null);
        // clean: FLAIR 0.962 − 0.976 + 0.0073 = −0.0067, T2 0.966 − 0.976 + 0.0026 = −0.0074 (both above −0.0089);
        // lowest relW FLAIR 4·0.232 − 0.959 = −0.031 (above −0.0517)
        double[] cleanU = {0.962, 0.977, 0.976, 0.966}, cleanW = {0.232, 0.263, 0.262, 0.244};
        assertArrayEquals(new boolean[] {false, false, false, false}, r.flagged(cleanU, cleanW));
        assertEquals(-0.0067, r.relativeU(cleanU)[0], 1e-12);
        // FLAIR biased: 0.934 − 0.966 + 0.0073 = −0.0247 and 4·0.200 − 0.959 = −0.159, both below; T2 −0.0054
        double[] biasU = {0.934, 0.968, 0.966, 0.958}, biasW = {0.200, 0.272, 0.270, 0.258};
        assertArrayEquals(new boolean[] {true, false, false, false}, r.flagged(biasU, biasW));
        assertEquals(-0.0247, r.relativeU(biasU)[0], 1e-12);
        assertEquals(-0.159, r.relativeW(biasW)[0], 1e-12);
        // the blind spot, measured: FLAIR given as T2 agrees with the real FLAIR (T2 0.970 − 0.968 + 0.0026 = +0.0046)
        // and the sound T1 becomes the odd one out (0.962 − 0.970 − 0.0027 = −0.0107): flagged instead
        assertArrayEquals(new boolean[] {false, false, true, false},
                r.flagged(new double[] {0.968, 0.972, 0.962, 0.970}, new double[] {0.252, 0.258, 0.236, 0.254}));
    }
}
