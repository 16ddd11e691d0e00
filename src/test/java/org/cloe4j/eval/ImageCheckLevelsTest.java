package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.cloe4j.data.Corruption;
import org.cloe4j.data.ImageStats;
import org.cloe4j.data.Modality;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.data.Volume;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The image checks on small phantoms (40 × 40 × 32, the demo's style): levels from four clean phantoms, then a fifth
 * clean, with a sequence duplicated or given under another's name, and with noise. What the phantoms give (measured
 * once, 2026-12-01, and the reason each expectation holds): clean pairs correlate at flair–t1ce 0.56–0.69, flair–t1
 * 0.56–0.69, flair–t2 −0.61 to −0.37, t1ce–t1 0.80–0.89, t1ce–t2 −0.86 to −0.68, t1–t2 −0.95 to −0.86; noise
 * estimates 0.06–0.17. FLAIR given as T2 makes t1ce–"t2" and t1–"t2" the FLAIR's positive correlations, out of
 * their negative ranges, so "t2" is off with all three partners and the sound T1 and T1ce with one only.
 */
class ImageCheckLevelsTest {
    private static final PhantomGenerator GEN = new PhantomGenerator(40, 40, 32, 7);
    private static ImageCheckLevels levels;
    private static Map<Modality, Volume> study;

    @BeforeAll
    static void calibrate() {
        List<ImageStats> clean = new ArrayList<>();
        for (int i = 1; i <= 4; i++) clean.add(ImageStats.measure(new LinkedHashMap<>(GEN.generate(i).images())));
        levels = ImageCheckLevels.calibrate(Modality.BRATS, clean);
        study = new LinkedHashMap<>(GEN.generate(5).images());
    }

    private static Set<String> flagged(ImageCheckLevels.Result r) {
        Set<String> out = new TreeSet<>();
        for (ImageCheckLevels.Finding f : r.findings()) for (Modality m : f.sequences()) out.add(m.name());
        return out;
    }

    private static Map<Modality, Volume> with(Modality target, Corruption kind, double strength) {
        Map<Modality, Volume> in = new LinkedHashMap<>(study);
        in.put(target, kind.apply(study, target, strength, 3));
        return in;
    }

    @Test
    void levelsFollowTheRuleWithItsFloors() {
        assertEquals(4, levels.cases());
        for (int i = 0; i < 4; i++) {
            assertEquals(levels.noiseMean()[i] + Math.max(4 * levels.noiseSd()[i], 0.1), levels.noiseLevel(i), 1e-15);
            for (int j = 0; j < 4; j++) {
                if (i != j) assertEquals(Math.max(4 * levels.rSd()[i][j], 0.2), levels.rMargin(i, j), 1e-15);
            }
        }
        // t1ce–t1 correlates at 0.887–0.891 on the four phantoms: sd about 0.002, so the floor of 0.2 sets the margin
        assertEquals(0.2, levels.rMargin(1, 2), 0);
        assertTrue(levels.rMean()[1][2] > 0.8 && levels.rMean()[2][3] < -0.8, "t1ce–t1 positive, t1–t2 negative");
    }

    /** Measurements made by hand: two sequences, their noise estimates and correlation. */
    private static ImageStats stats(double noiseT1, double noiseT2, double r) {
        return new ImageStats(List.of(Modality.T1, Modality.T2), new double[] {noiseT1, noiseT2},
                new double[][] {{1, r}, {r, 1}}, 1000);
    }

    @Test
    void leavingEachCaseOutCountsTheCaseUnlikeTheOthers() {
        // four cases alike (noise 0.10 and 0.20, r −0.50) and one with T1's noise at 0.50: left out, the other four give
        // T1 a level of 0.10 + max(4·0, 0.1) = 0.20, which 0.50 exceeds; each of the four alike, left out, sees the
        // others' mean 0.20 ± 0.20 (0.1, 0.1, 0.1, 0.5), a level of 1.0: not flagged. One of five. All five: mean
        // 0.18, sd √((4 · 0.08² + 0.32²) / 4) = 0.179.
        List<ImageStats> cases = new ArrayList<>();
        for (int i = 0; i < 4; i++) cases.add(stats(0.10, 0.20, -0.50));
        cases.add(stats(0.50, 0.20, -0.50));
        ImageCheckLevels l = ImageCheckLevels.calibrate(List.of(Modality.T1, Modality.T2), cases);
        assertEquals(1, l.looFlagged());
        assertEquals(5, l.cases());
        assertEquals(0.18, l.noiseMean()[0], 1e-12);
        assertEquals(0.18 + 4 * Math.sqrt(4 * 0.08 * 0.08 + 0.32 * 0.32) / 2, l.noiseLevel(0), 1e-12, "sd over 4 degrees of freedom");
        assertEquals(0.3, l.noiseLevel(1), 1e-12, "no spread: the floor");
        assertEquals(-1, ImageCheckLevels.calibrate(List.of(Modality.T1, Modality.T2), cases.subList(0, 2)).looFlagged(),
                "too few cases to leave one out");
    }

    @Test
    void oneOddPairAmongThreeIsNotAttributedButWithTwoSequencesBothAreFlagged() {
        // clean: T1–T2 −0.5, T1–FLAIR 0.5, T2–FLAIR −0.2, all alike, so each margin is the floor 0.2
        List<Modality> mods = List.of(Modality.T1, Modality.T2, Modality.FLAIR);
        double[] quiet = {0.1, 0.1, 0.1};
        ImageStats clean = new ImageStats(mods, quiet, new double[][] {{1, -0.5, 0.5}, {-0.5, 1, -0.2}, {0.5, -0.2, 1}}, 1000);
        ImageCheckLevels l = ImageCheckLevels.calibrate(mods, List.of(clean, clean, clean));
        // T1–T2 at +0.1 (0.6 from its mean), the other two pairs as usual: one odd pair, nobody flagged
        ImageStats one = new ImageStats(mods, quiet, new double[][] {{1, 0.1, 0.5}, {0.1, 1, -0.2}, {0.5, -0.2, 1}}, 1000);
        assertTrue(ImageCheckLevels.check(l, one).findings().isEmpty());
        // and T2–FLAIR off too: T2 has two odd pairs, T1 and FLAIR one each: T2 alone is flagged
        ImageStats two = new ImageStats(mods, quiet, new double[][] {{1, 0.1, 0.5}, {0.1, 1, 0.3}, {0.5, 0.3, 1}}, 1000);
        ImageCheckLevels.Result r = ImageCheckLevels.check(l, two);
        assertEquals(Set.of("t2"), flagged(r), r.findings().toString());
        assertEquals(List.of("correlation"), r.checks(Modality.T2));
        // T1 and T2 alone, their pair odd: nothing tells them apart, both are flagged
        ImageStats pair = new ImageStats(List.of(Modality.T1, Modality.T2), new double[] {0.1, 0.1},
                new double[][] {{1, 0.1}, {0.1, 1}}, 1000);
        assertEquals(Set.of("t1", "t2"), flagged(ImageCheckLevels.check(l, pair)));
    }

    @Test
    void aCleanStudyIsNotFlagged() {
        ImageCheckLevels.Result r = ImageCheckLevels.check(levels, ImageStats.measure(study));
        assertTrue(r.findings().isEmpty(), r.findings().toString());
        assertTrue(r.calibrated());
    }

    @Test
    void flairGivenAsT2IsADuplicateAndT2TheOddOneOutNotTheSoundThird() {
        ImageCheckLevels.Result r = ImageCheckLevels.check(levels, ImageStats.measure(with(Modality.T2, Corruption.WRONG_SEQUENCE, 0)));
        ImageCheckLevels.Finding dup = r.findings().stream().filter(f -> f.check().equals("duplicate")).findFirst().orElseThrow();
        assertEquals(List.of(Modality.FLAIR, Modality.T2), dup.sequences());
        assertTrue(dup.value() > 0.999, "the same image under two names: r " + dup.value());
        assertTrue(dup.message().contains("flair and t2") && dup.message().contains("r = 1.000"), dup.message());
        assertEquals(List.of("duplicate", "correlation"), r.checks(Modality.T2));
        assertEquals(List.of("duplicate"), r.checks(Modality.FLAIR));
        assertTrue(r.checks(Modality.T1).isEmpty() && r.checks(Modality.T1CE).isEmpty(), r.findings().toString());
    }

    @Test
    void t1ceUnderFlairsNameIsFoundAndTheOthersAreLeftAlone() {
        ImageCheckLevels.Result r = ImageCheckLevels.check(levels, ImageStats.measure(with(Modality.FLAIR, Corruption.WRONG_SEQUENCE, 0)));
        assertEquals(Set.of("flair", "t1ce"), flagged(r), r.findings().toString());
        assertTrue(r.checks(Modality.FLAIR).contains("duplicate"));
    }

    @Test
    void noiseOnFlairIsFlaggedOnFlairOnly() {
        for (double sigma : new double[] {1.0, 3.0}) {
            ImageCheckLevels.Result r = ImageCheckLevels.check(levels, ImageStats.measure(with(Modality.FLAIR, Corruption.NOISE, sigma)));
            assertTrue(r.checks(Modality.FLAIR).contains("noise"), "σ " + sigma + ": " + r.findings());
            assertEquals(Set.of("flair"), flagged(r), "σ " + sigma + ": " + r.findings());
            ImageCheckLevels.Finding f = r.findings().stream().filter(x -> x.check().equals("noise")).findFirst().orElseThrow();
            assertTrue(f.value() > 0.9 && f.value() > f.level(), "estimate " + f.value() + ", level " + f.level());
            assertTrue(f.message().startsWith("sequence flair looks noisy"), f.message());
        }
    }

    @Test
    void withoutLevelsOnlyADuplicateIsFlagged() {
        ImageCheckLevels.Result dup = ImageCheckLevels.check(null, ImageStats.measure(with(Modality.T2, Corruption.WRONG_SEQUENCE, 0)));
        assertFalse(dup.calibrated());
        assertEquals(1, dup.findings().size(), dup.findings().toString());
        assertEquals(Set.of("flair", "t2"), flagged(dup));
        assertTrue(ImageCheckLevels.check(null, ImageStats.measure(with(Modality.FLAIR, Corruption.NOISE, 3.0))).findings().isEmpty(),
                "noise needs calibrated levels");
    }

    @Test
    void anOlderReliabilityFileLoadsWithoutImageLevelsAndStillFindsADuplicate(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(ReliabilityThresholds.FILE), ReliabilityThresholdsTest.OLD_FILE);
        ReliabilityThresholds old = ReliabilityThresholds.read(dir);
        assertNotNull(old);
        assertNull(old.images(), "written before the image checks");
        ImageCheckLevels.Result r = old.imageChecks(ImageStats.measure(with(Modality.T2, Corruption.WRONG_SEQUENCE, 0)));
        assertFalse(r.calibrated());
        assertEquals(Set.of("flair", "t2"), flagged(r));
    }

    @Test
    void levelsAreWrittenAndReadBackBesideTheAgreementLevels(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve(ReliabilityThresholds.FILE), ReliabilityThresholdsTest.OLD_FILE);
        ReliabilityThresholds.read(dir).withImages(levels).write(dir);
        ReliabilityThresholds back = ReliabilityThresholds.read(dir);
        assertNotNull(back.images());
        assertEquals(levels.cases(), back.images().cases());
        for (int i = 0; i < 4; i++) {
            assertEquals(levels.noiseMean()[i], back.images().noiseMean()[i], 0);
            assertEquals(levels.noiseSd()[i], back.images().noiseSd()[i], 0);
            for (int j = 0; j < 4; j++) {
                if (i == j) continue;
                assertEquals(levels.rMean()[i][j], back.images().rMean()[i][j], 0);
                assertEquals(levels.rSd()[i][j], back.images().rSd()[i][j], 0);
            }
        }
        assertEquals(0.9036284613981844, back.thresholdU(0), 1e-15, "the agreement levels are kept");
        String json = Files.readString(dir.resolve(ReliabilityThresholds.FILE));
        assertTrue(json.contains("\"imageChecks\"") && json.contains("\"duplicateR\" : 0.99"), json);
    }
}
