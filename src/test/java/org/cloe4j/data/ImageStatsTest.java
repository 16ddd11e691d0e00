package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The image measurements behind the image checks, against values worked out by hand. */
class ImageStatsTest {
    private static Volume volume(int nx, int ny, int nz, float... values) {
        return new Volume(TestVolumes.header(nx, ny, nz), values, null);
    }

    @Test
    void correlationInsideTheHeadMatchesPearsonByHand() {
        // 3 × 2 × 2 = 12 voxels; the last four are background in both (outside the head mask, so not counted).
        // In the head a = 1..8 and b = 2 1 4 3 6 5 8 7: both have mean 4.5; the deviations' products sum to
        // 4 · 8.75 + 4 · 0.75 = 38 and each sum of squares is 2 · (12.25 + 6.25 + 2.25 + 0.25) = 42, so r = 38 / 42.
        Volume a = volume(3, 2, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0);
        Volume b = volume(3, 2, 2, 2, 1, 4, 3, 6, 5, 8, 7, 0, 0, 0, 0);
        Volume c = volume(3, 2, 2, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0, 0, 0); // 9 − a: r = −1
        Map<Modality, Volume> m = new LinkedHashMap<>();
        m.put(Modality.FLAIR, a);
        m.put(Modality.T1, b);
        m.put(Modality.T2, c);
        ImageStats s = ImageStats.measure(m);
        assertEquals(8, s.voxels(), "head mask: the voxels where the sequences' sum is > 0");
        // tolerance: the sums are of small integers in double, exact to rounding (1e-12)
        assertEquals(38.0 / 42.0, s.r(Modality.FLAIR, Modality.T1), 1e-12);
        assertEquals(38.0 / 42.0, s.r(Modality.T1, Modality.FLAIR), 1e-12, "symmetric");
        assertEquals(-1, s.r(Modality.FLAIR, Modality.T2), 1e-12);
        assertEquals(1, s.r(Modality.T1, Modality.T1), 0);
        assertTrue(Double.isNaN(s.r(Modality.FLAIR, Modality.T1CE)), "a sequence not given has no correlation");
        // a grid of 3 × 2 × 2 has no voxel 2 deep inside the head: no noise estimate
        assertTrue(Double.isNaN(s.noise(Modality.FLAIR)));
    }

    @Test
    void aVoxelWhereOnlyOneSequenceIsNonZeroIsInsideTheHead() {
        // voxel 3 is 0 in a but 5 in b: the mask is the sum's, as the preprocessing's. In the head (4 voxels)
        // a = 1 2 3 0, b = 1 2 3 5: means 1.5 and 2.75; deviations a −0.5 0.5 1.5 −1.5, b −1.75 −0.75 0.25 2.25;
        // products 0.875 − 0.375 + 0.375 − 3.375 = −2.5; sums of squares 5 and 8.75; r = −2.5 / √(5 · 8.75)
        Volume a = volume(5, 1, 1, 1, 2, 3, 0, 0);
        Volume b = volume(5, 1, 1, 1, 2, 3, 5, 0);
        ImageStats s = ImageStats.measure(Map.of(Modality.T1, a, Modality.T2, b));
        assertEquals(4, s.voxels());
        assertEquals(-2.5 / Math.sqrt(5 * 8.75), s.r(Modality.T1, Modality.T2), 1e-12);
    }

    @Test
    void erosionByTwoKeepsOnlyVoxelsTwoDeepInEveryDirection() {
        // a full 7³ mask: along each axis positions 2..4 are two voxels from the edge (outside counts as outside): 3³
        boolean[] full = new boolean[7 * 7 * 7];
        java.util.Arrays.fill(full, true);
        boolean[] e = ImageStats.erode(full, 7, 7, 7, 2);
        int kept = 0;
        for (int z = 0, i = 0; z < 7; z++) {
            for (int y = 0; y < 7; y++) {
                for (int x = 0; x < 7; x++, i++) {
                    boolean inside = x >= 2 && x <= 4 && y >= 2 && y <= 4 && z >= 2 && z <= 4;
                    assertEquals(inside, e[i], "voxel " + x + "," + y + "," + z);
                    if (e[i]) kept++;
                }
            }
        }
        assertEquals(27, kept);
        // a hole at the centre removes everything within 2 of it
        full[(3 * 7 + 3) * 7 + 3] = false;
        boolean[] h = ImageStats.erode(full, 7, 7, 7, 2);
        for (boolean v : h) assertTrue(!v, "every voxel of the 3³ core is within 2 of the hole");
    }

    @Test
    void noiseEstimateOfARampWithWhiteNoiseIsSigmaOverTheHeadsSd() {
        // 32³, all inside the head: 1000 + 20·(z − 15.5) + N(0, 10²). Differences along x see only the noise
        // (σ̂ → 10); the head's sd is √(ramp² + 10²) with the ramp's sd 20·√((32² − 1)/12) = 184.66 (integers
        // 0..31), so σ̂/sd → 10 / 184.93 = 0.0541. Pairs used: 27 · 28 · 28 = 21,168 inside the 2-voxel erosion; the
        // median-based σ̂ has a relative standard error of about 1.1/√21168 = 0.8 %: tolerance 3 % (about 4 of them).
        int n = 32;
        SplittableRandom rng = new SplittableRandom(42);
        float[] d = new float[n * n * n];
        for (int z = 0, i = 0; z < n; z++) {
            for (int y = 0; y < n; y++) {
                for (int x = 0; x < n; x++, i++) d[i] = (float) (1000 + 20 * (z - 15.5) + 10 * rng.nextGaussian());
            }
        }
        ImageStats s = ImageStats.measure(Map.of(Modality.FLAIR, volume(n, n, n, d)));
        double rampSd = 20 * Math.sqrt((n * n - 1) / 12.0);
        double expected = 10 / Math.sqrt(rampSd * rampSd + 100);
        assertEquals(0.0541, expected, 1e-4, "the hand figure");
        assertEquals(expected, s.noise(Modality.FLAIR), 0.03 * expected);
    }

    @Test
    void noiseAddedByCorruptionRaisesTheEstimateOfThatSequenceOnly() {
        // a phantom's FLAIR with Rician noise of σ = the mean head intensity (1.0) and three times it: the image is
        // then mostly noise, so σ̂/sd approaches 1 (above 0.9), where the clean phantom's is below 0.2
        PhantomGenerator.Phantom p = new PhantomGenerator(40, 40, 32, 7).generate(1);
        Map<Modality, Volume> clean = new LinkedHashMap<>(p.images());
        ImageStats before = ImageStats.measure(clean);
        for (Modality m : clean.keySet()) assertTrue(before.noise(m) < 0.2, m + " clean: " + before.noise(m));
        for (double sigma : new double[] {1.0, 3.0}) {
            Map<Modality, Volume> in = new LinkedHashMap<>(clean);
            in.put(Modality.FLAIR, Corruption.NOISE.apply(clean, Modality.FLAIR, sigma, 5));
            ImageStats after = ImageStats.measure(in);
            assertTrue(after.noise(Modality.FLAIR) > 0.9, "σ " + sigma + ": " + after.noise(Modality.FLAIR));
            for (Modality m : clean.keySet()) {
                if (!m.equals(Modality.FLAIR)) assertEquals(before.noise(m), after.noise(m), 1e-12, m + " untouched");
            }
        }
    }
}
