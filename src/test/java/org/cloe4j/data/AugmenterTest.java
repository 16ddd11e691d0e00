package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Augmentation: reproducible, and each transform does what it says. */
class AugmenterTest {

    /** A prepared case built directly: channel c voxel (z, y, x) = f_c, labels given by a function. */
    private static PreparedCase prepared(int d, int h, int w, int channels, Fn image, Fn labels) {
        int n = d * h * w;
        float[] img = new float[channels * n];
        byte[] lab = new byte[n];
        for (int c = 0; c < channels; c++) {
            for (int z = 0, i = 0; z < d; z++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++, i++) {
                        img[c * n + i] = image.at(c, z, y, x);
                        if (c == 0) lab[i] = (byte) labels.at(0, z, y, x);
                    }
                }
            }
        }
        boolean[] avail = new boolean[channels];
        Arrays.fill(avail, true);
        return new PreparedCase("t", Modality.BRATS.subList(0, channels), avail, img, lab, d, h, w,
                new CropBox(0, 0, 0, w, h, d), TestVolumes.header(w, h, d), LabelScheme.BRATS);
    }

    interface Fn {
        float at(int c, int z, int y, int x);
    }

    /** Encodes the position in the value, so a patch tells where each voxel came from. */
    private static final Fn POSITION = (c, z, y, x) -> c * 1_000_000 + z * 10_000 + y * 100 + x;

    @Test
    void sameSeedSamePatchOtherSeedOtherPatch() {
        PreparedCase c = prepared(30, 28, 26, 2, POSITION, (k, z, y, x) -> (z + y + x) % 4);
        Augmenter a = new Augmenter(16, 16, 16);
        Patch p1 = a.sample(c, new SplittableRandom(5)), p2 = a.sample(c, new SplittableRandom(5));
        Patch p3 = a.sample(c, new SplittableRandom(6));
        assertArrayEquals(p1.image(), p2.image());
        assertArrayEquals(p1.labels(), p2.labels());
        assertFalse(Arrays.equals(p1.image(), p3.image()));
    }

    @Test
    void cropOnlyGivesAContiguousBlockOfTheVolume() {
        PreparedCase c = prepared(30, 28, 26, 2, POSITION, (k, z, y, x) -> (z * 7 + y * 3 + x) % 4);
        Augmenter a = new Augmenter(new int[] {8, 10, 12}, Augmenter.Options.CROP_ONLY);
        for (int seed = 0; seed < 20; seed++) {
            Patch p = a.sample(c, new SplittableRandom(seed));
            float first = p.image()[0];
            int z0 = (int) first / 10_000, y0 = (int) first / 100 % 100, x0 = (int) first % 100;
            assertTrue(z0 + 8 <= 30 && y0 + 10 <= 28 && x0 + 12 <= 26, "inside the volume");
            for (int ch = 0; ch < 2; ch++) {
                for (int z = 0, i = 0; z < 8; z++) {
                    for (int y = 0; y < 10; y++) {
                        for (int x = 0; x < 12; x++, i++) {
                            assertEquals(POSITION.at(ch, z0 + z, y0 + y, x0 + x), p.image()[ch * p.voxels() + i]);
                            if (ch == 0) assertEquals(((z0 + z) * 7 + (y0 + y) * 3 + x0 + x) % 4, p.labels()[i]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aVolumeSmallerThanThePatchIsZeroPadded() {
        PreparedCase c = prepared(4, 5, 6, 1, (k, z, y, x) -> 1, (k, z, y, x) -> 2);
        Patch p = new Augmenter(new int[] {8, 8, 8}, Augmenter.Options.CROP_ONLY).sample(c, new SplittableRandom(1));
        int ones = 0, twos = 0;
        for (int i = 0; i < p.voxels(); i++) {
            if (p.image()[i] == 1) ones++;
            else assertEquals(0f, p.image()[i]);
            if (p.labels()[i] == 2) twos++;
        }
        assertEquals(4 * 5 * 6, ones, "every voxel of the volume is in the patch once");
        assertEquals(4 * 5 * 6, twos);
    }

    @Test
    void flipsMirrorImageAndLabelsTogether() {
        PreparedCase c = prepared(6, 6, 6, 1, POSITION, (k, z, y, x) -> x < 3 ? 1 : 2);
        Augmenter a = new Augmenter(new int[] {6, 6, 6}, new Augmenter.Options(true, false, 0, 0, 0));
        boolean sawFlipX = false;
        for (int seed = 0; seed < 16; seed++) {
            Patch p = a.sample(c, new SplittableRandom(seed));
            for (int i = 0; i < p.voxels(); i++) {
                int v = (int) p.image()[i];
                int sx = v % 100;
                assertEquals(sx < 3 ? 1 : 2, p.labels()[i], "label follows its voxel");
            }
            if ((int) p.image()[0] % 100 == 5) sawFlipX = true;
        }
        assertTrue(sawFlipX, "x flipped at least once in 16 draws (p = 0.5 each)");
    }

    @Test
    void intensityScaleAndShiftArePerChannelWithinTheirRanges() {
        PreparedCase c = prepared(8, 8, 8, 4, (k, z, y, x) -> 1, (k, z, y, x) -> 0);
        Augmenter a = new Augmenter(new int[] {8, 8, 8}, new Augmenter.Options(false, false, 0, 0.1, 0.1));
        double min = 2, max = 0;
        for (int seed = 0; seed < 50; seed++) {
            Patch p = a.sample(c, new SplittableRandom(seed));
            float[] firstOfChannel = new float[4];
            for (int ch = 0; ch < 4; ch++) {
                firstOfChannel[ch] = p.image()[ch * p.voxels()];
                for (int i = 0; i < p.voxels(); i++) assertEquals(firstOfChannel[ch], p.image()[ch * p.voxels() + i]);
                min = Math.min(min, firstOfChannel[ch]);
                max = Math.max(max, firstOfChannel[ch]);
            }
            // 1·s + t with s in [0.9, 1.1], t in [-0.1, 0.1]
            for (float v : firstOfChannel) assertTrue(v >= 0.8f - 1e-6 && v <= 1.2f + 1e-6, "value " + v);
            assertFalse(firstOfChannel[0] == firstOfChannel[1] && firstOfChannel[1] == firstOfChannel[2], "per channel");
        }
        assertTrue(min < 0.9 && max > 1.1, "the range is used: " + min + " .. " + max);
    }

    @Test
    void rotationTurnsALinearRampByAtMostTenDegreesAndKeepsItsSlope() {
        // image = x (a ramp along W); trilinear interpolation reproduces linear functions exactly
        PreparedCase c = prepared(40, 40, 40, 1, (k, z, y, x) -> x, (k, z, y, x) -> x < 20 ? 1 : 2);
        Augmenter a = new Augmenter(new int[] {16, 16, 16}, new Augmenter.Options(false, true, 10, 0, 0));
        double largest = 0;
        for (int seed = 0; seed < 30; seed++) {
            Patch p = a.sample(c, new SplittableRandom(seed));
            int n = 16;
            // gradient from central differences on the inner voxels (away from any zero fill)
            double gz = 0, gy = 0, gx = 0;
            int at = (8 * n + 8) * n + 8;
            gx = (p.image()[at + 1] - p.image()[at - 1]) / 2;
            gy = (p.image()[at + n] - p.image()[at - n]) / 2;
            gz = (p.image()[at + n * n] - p.image()[at - n * n]) / 2;
            assertEquals(1, Math.sqrt(gx * gx + gy * gy + gz * gz), 1e-4, "a rotation keeps the slope");
            double angle = Math.toDegrees(Math.acos(Math.min(1, gx)));
            assertTrue(angle <= 10 + 1e-3, "rotated by " + angle + " degrees");
            largest = Math.max(largest, angle);
            for (byte l : p.labels()) assertTrue(l == 0 || l == 1 || l == 2, "nearest keeps label values");
        }
        assertTrue(largest > 2, "some rotation happens: " + largest);
    }

    @Test
    void patchShapeIsReported() {
        PreparedCase c = prepared(10, 10, 10, 3, POSITION, (k, z, y, x) -> 0);
        Patch p = new Augmenter(6, 7, 8).sample(c, new SplittableRandom(0));
        assertEquals(List.of(3, 6, 7, 8), List.of(p.channels(), p.depth(), p.height(), p.width()));
    }

    /** A 40³ case whose only tumour is a 4³ block in a corner: how often a patch contains some of it. */
    private static double tumourShare(double foregroundFraction, int draws) {
        PreparedCase c = prepared(40, 40, 40, 1, (k, z, y, x) -> 1,
                (k, z, y, x) -> z >= 2 && z < 6 && y >= 2 && y < 6 && x >= 2 && x < 6 ? 3 : 0);
        Augmenter a = new Augmenter(new int[] {8, 8, 8}, Augmenter.Options.CROP_ONLY);
        SplittableRandom rng = new SplittableRandom(42);
        int with = 0;
        for (int k = 0; k < draws; k++) {
            Patch p = a.sample(c, rng, foregroundFraction);
            for (byte l : p.labels()) {
                if (l > 0) { with++; break; }
            }
        }
        return (double) with / draws;
    }

    @Test
    void aThirdOfThePatchesAreForcedOntoTheTumour() {
        // uniform centres: a patch holds some of the block when its origin is <= 5 on every axis: P = (10/40)^3 ≈ 1.6 %
        double plain = tumourShare(0, 3000);
        assertTrue(plain < 0.04, "without forcing, the corner tumour is rare: " + plain);
        // forced: 1/3 + 2/3 · 1.6 % ≈ 34 %; 3000 draws give a standard error of about 0.9 %
        double forced = tumourShare(Augmenter.DEFAULT_FOREGROUND_FRACTION, 3000);
        assertEquals(1.0 / 3 + 2.0 / 3 * Math.pow(10 / 40.0, 3), forced, 0.035, "share with tumour");
        assertEquals(1.0, tumourShare(1, 200), 0, "fraction 1: every patch holds tumour");
    }

    @Test
    void borderVoxelsAreCoveredAboutAsOftenAsCentralOnes() {
        // patch 8 in 40: a voxel in the middle is in 8/40 of uniformly centred patches; the first plane is in the patch
        // whenever the centre falls in 0..4, 5/40 (a crop uniform over origins would give it 1/33)
        PreparedCase c = prepared(40, 40, 40, 1, POSITION, (k, z, y, x) -> 0);
        Augmenter a = new Augmenter(new int[] {8, 8, 8}, Augmenter.Options.CROP_ONLY);
        SplittableRandom rng = new SplittableRandom(3);
        int first = 0, middle = 0, draws = 4000;
        for (int k = 0; k < draws; k++) {
            Patch p = a.sample(c, rng, 0);
            int x0 = (int) p.image()[0] % 100;
            if (x0 == 0) first++;
            if (x0 <= 20 && 20 < x0 + 8) middle++;
        }
        assertEquals(5 / 40.0, (double) first / draws, 0.02, "first plane");
        assertEquals(8 / 40.0, (double) middle / draws, 0.025, "middle plane");
    }

    @Test
    void intensityAugmentationLeavesBackgroundAtZero() {
        PreparedCase c = prepared(8, 8, 8, 2, (k, z, y, x) -> x < 4 ? 0 : 1, (k, z, y, x) -> 0);
        Augmenter a = new Augmenter(new int[] {8, 8, 8}, new Augmenter.Options(false, false, 0, 0.1, 0.1));
        for (int seed = 0; seed < 10; seed++) {
            Patch p = a.sample(c, new SplittableRandom(seed));
            for (int ch = 0; ch < 2; ch++) {
                for (int i = 0; i < p.voxels(); i++) {
                    if (i % 8 < 4) assertEquals(0f, p.image()[ch * p.voxels() + i], "background stays 0");
                    else assertTrue(p.image()[ch * p.voxels() + i] != 0);
                }
            }
        }
    }

    /** A 32³ one-channel patch: a brain ball of z-score-like values (a smooth ramp plus a pattern) in a zero background. */
    private static float[] brainPatch(int e) {
        float[] img = new float[e * e * e];
        SplittableRandom r = new SplittableRandom(3);
        for (int z = 0, i = 0; z < e; z++) {
            for (int y = 0; y < e; y++) {
                for (int x = 0; x < e; x++, i++) {
                    double dz = z - e / 2.0, dy = y - e / 2.0, dx = x - e / 2.0;
                    if (dz * dz + dy * dy + dx * dx < (e * 0.4) * (e * 0.4)) img[i] = (float) (0.05 * x - 0.8 + r.nextGaussian() * 0.5 + 0.001);
                }
            }
        }
        return img;
    }

    @Test
    void noiseHasTheDrawnSigmaOnTheBrainAndNoneOnTheBackground() {
        float[] before = brainPatch(32), after = before.clone();
        double sigma = 0.08;
        Augmenter.addNoise(after, 0, after.length, sigma, new SplittableRandom(9));
        double sum = 0, sq = 0;
        int n = 0;
        for (int i = 0; i < before.length; i++) {
            if (before[i] == 0) {
                assertEquals(0f, after[i], "background stays 0");
                continue;
            }
            double d = after[i] - before[i];
            sum += d;
            sq += d * d;
            n++;
        }
        double sd = Math.sqrt(sq / n - (sum / n) * (sum / n));
        // ~8,500 brain voxels: the sample sd of N(0, σ²) has a relative sd of 1/sqrt(2n) ≈ 0.8 %; 4 % is 5 of those
        assertTrue(n > 8000, "brain voxels " + n);
        assertEquals(sigma, sd, 0.04 * sigma, "measured noise sd");
        assertEquals(0, sum / n, 5 * sigma / Math.sqrt(n), "noise mean");
    }

    @Test
    void gammaKeepsTheRangeAndTheOrderAndChangesTheMiddle() {
        float[] before = brainPatch(32);
        for (double g : new double[] {0.7, 1.5}) {
            float[] after = before.clone();
            Augmenter.gamma(after, 0, after.length, g);
            float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY, amin = min, amax = max;
            double moved = 0;
            for (int i = 0; i < before.length; i++) {
                if (before[i] == 0) {
                    assertEquals(0f, after[i], "background stays 0");
                    continue;
                }
                min = Math.min(min, before[i]);
                max = Math.max(max, before[i]);
                amin = Math.min(amin, after[i]);
                amax = Math.max(amax, after[i]);
                moved = Math.max(moved, Math.abs(after[i] - before[i]));
            }
            // float rounding of (x − min)/range·range + min: a few ulps of values of order 3
            assertEquals(min, amin, 1e-5, "minimum kept, γ " + g);
            assertEquals(max, amax, 1e-5, "maximum kept, γ " + g);
            assertTrue(moved > 0.1, "γ " + g + " changes mid-range values; largest change " + moved);
            // monotonic: the order of two brain voxels is kept
            for (int i = 1; i < before.length; i++) {
                if (before[i] != 0 && before[i - 1] != 0 && before[i] > before[i - 1] + 1e-4) {
                    assertTrue(after[i] >= after[i - 1], "order kept at " + i);
                }
            }
            // γ < 1 brightens the middle of the range, γ > 1 darkens it: the mean moves accordingly
            double mb = 0, ma = 0;
            for (int i = 0; i < before.length; i++) {
                mb += before[i];
                ma += after[i];
            }
            assertTrue(g < 1 ? ma > mb : ma < mb, "γ " + g + ": mean " + mb + " -> " + ma);
        }
    }

    @Test
    void biasFieldBlurAndContrastLeaveTheBackgroundAtZeroAndChangeTheBrain() {
        float[] before = brainPatch(32);
        float[] bias = before.clone(), blur = before.clone(), contrast = before.clone();
        Augmenter.biasField(bias, 0, bias.length, SmoothField.of(32, 32, 32, 16, new SplittableRandom(4)), 0.3);
        Augmenter.blur(blur, 0, 32, 32, 32, 1.0);
        Augmenter.contrast(contrast, 0, contrast.length, 0.75);
        double vb = 0, vc = 0, vb0 = 0, mean = 0;
        int n = 0;
        for (float v : before) if (v != 0) { mean += v; n++; }
        mean /= n;
        for (int i = 0; i < before.length; i++) {
            if (before[i] == 0) {
                assertEquals(0f, bias[i]);
                assertEquals(0f, blur[i]);
                assertEquals(0f, contrast[i]);
                continue;
            }
            assertTrue(bias[i] != 0 && blur[i] != 0 && contrast[i] != 0, "a brain voxel stays non-zero");
            vb0 += (before[i] - mean) * (before[i] - mean);
            vb += (blur[i] - mean) * (blur[i] - mean);
            vc += (contrast[i] - mean) * (contrast[i] - mean);
        }
        // the pattern's voxel noise (sd 0.5) is mostly removed by a σ = 1 blur; contrast 0.75 scales the sd by 0.75
        assertTrue(vb < 0.6 * vb0, "blur lowers the variance: " + vb / vb0);
        assertEquals(0.75, Math.sqrt(vc / vb0), 0.02, "contrast factor on the sd (clipping to the range changes nothing here)");
        assertFalse(Arrays.equals(before, bias), "the bias field changes the brain");
    }

    @Test
    void appearanceAugmentationIsReproducibleKeepsTheBackgroundAndTheOldDrawsAreUnchanged() {
        PreparedCase c = prepared(40, 40, 40, 4, (k, z, y, x) -> {
            double dz = z - 20, dy = y - 20, dx = x - 20;
            return dz * dz + dy * dy + dx * dx < 15 * 15 ? (float) (k + 0.03 * x + 0.1) : 0;
        }, (k, z, y, x) -> (z - 20) * (z - 20) + (y - 20) * (y - 20) < 16 ? 2 : 0);
        Augmenter full = new Augmenter(new int[] {32, 32, 32}, Augmenter.Options.APPEARANCE);
        Augmenter flat = new Augmenter(new int[] {32, 32, 32},
                new Augmenter.Options(false, false, 0, 0, 0, true, false));
        int changed = 0;
        for (int seed = 0; seed < 20; seed++) {
            Patch p1 = full.sample(c, new SplittableRandom(seed), 1.0 / 3);
            Patch p2 = full.sample(c, new SplittableRandom(seed), 1.0 / 3);
            assertArrayEquals(p1.image(), p2.image(), "same seed, same bytes");
            assertArrayEquals(p1.labels(), p2.labels());
            Patch q = flat.sample(c, new SplittableRandom(seed));
            Patch crop = new Augmenter(new int[] {32, 32, 32}, Augmenter.Options.CROP_ONLY).sample(c, new SplittableRandom(seed));
            for (int i = 0; i < q.image().length; i++) {
                assertEquals(crop.image()[i] == 0, q.image()[i] == 0, "exactly the background is 0 at " + i);
            }
            if (!Arrays.equals(q.image(), crop.image())) changed++;
        }
        // 4 channels, p(no step) per channel = 0.8·0.85·0.8·0.85·0.85·0.7 ≈ 0.275: ~99.4 % of patches change
        assertTrue(changed >= 17, "patches changed by the appearance augmentation: " + changed + " of 20");
        // RFNet's options give the same patch and leave the generator where the build before the appearance
        // augmentation did (values printed by that build, commit "Merge branch 's2-gen'", for this case and seed), so a
        // run trained with them resumes bit for bit
        SplittableRandom r = new SplittableRandom(7);
        Patch old = new Augmenter(new int[] {32, 32, 32}, Augmenter.Options.RFNET).sample(c, r, 1.0 / 3);
        assertEquals(-1609989131, Arrays.hashCode(old.image()), "RFNet patch image as before");
        assertEquals(-1098435583, Arrays.hashCode(old.labels()), "RFNet patch labels as before");
        assertEquals(6020303405324641991L, r.nextLong(), "generator state after an RFNet patch as before");
    }

    @Test
    void zoomScalesThePatchByAFactorIn085To125OneTimeInFive() {
        // the image is the x coordinate: trilinear sampling reproduces it exactly, so its slope along a patch row
        // (away from the volume's border) is the zoom factor
        PreparedCase c = prepared(96, 96, 96, 1, (k, z, y, x) -> x + 1, (k, z, y, x) -> 0);
        Augmenter zoomOnly = new Augmenter(new int[] {32, 32, 32}, new Augmenter.Options(false, false, 0, 0, 0, false, true));
        int zoomed = 0, draws = 400;
        double sum = 0;
        for (int seed = 0; seed < draws; seed++) {
            Patch p = zoomOnly.sample(c, new SplittableRandom(seed));
            int row = (16 * 32 + 16) * 32;
            double slope = (p.image()[row + 23] - p.image()[row + 8]) / 15.0;
            if (Math.abs(slope - 1) < 1e-5) continue;
            assertTrue(slope >= 0.85 - 1e-5 && slope <= 1.25 + 1e-5, "zoom factor " + slope);
            zoomed++;
            sum += slope;
        }
        // p = 0.2: 80 of 400, binomial sd 8, so ±24 is 3 sd; mean of U(0.85, 1.25) is 1.05, sd of the mean of ~80
        // draws 0.115/√80 ≈ 0.013, so ±0.04 is 3 sd
        assertEquals(80, zoomed, 24, "zoomed patches of " + draws);
        assertEquals(1.05, sum / zoomed, 0.04, "mean zoom factor");
    }

    @Test
    void multisiteZoomScalesByAFactorIn07To14ThreeTimesInTen() {
        PreparedCase c = prepared(96, 96, 96, 1, (k, z, y, x) -> x + 1, (k, z, y, x) -> 0);
        Augmenter zoomOnly = new Augmenter(new int[] {32, 32, 32},
                new Augmenter.Options(false, false, 0, 0, 0, false, true, true));
        int zoomed = 0, draws = 400;
        double sum = 0, min = 9, max = 0;
        for (int seed = 0; seed < draws; seed++) {
            Patch p = zoomOnly.sample(c, new SplittableRandom(seed));
            int row = (16 * 32 + 16) * 32;
            double slope = (p.image()[row + 23] - p.image()[row + 8]) / 15.0;
            if (Math.abs(slope - 1) < 1e-5) continue;
            assertTrue(slope >= 0.7 - 1e-5 && slope <= 1.4 + 1e-5, "zoom factor " + slope);
            zoomed++;
            sum += slope;
            min = Math.min(min, slope);
            max = Math.max(max, slope);
        }
        // p = 0.3: 120 of 400, binomial sd 9.2, so ±28 is 3 sd; mean of U(0.7, 1.4) is 1.05, sd of the mean of ~120
        // draws 0.202/√120 ≈ 0.018, so ±0.055 is 3 sd; ~120 uniform draws reach within 0.05 of both ends
        assertEquals(120, zoomed, 28, "zoomed patches of " + draws);
        assertEquals(1.05, sum / zoomed, 0.055, "mean zoom factor");
        assertTrue(min < 0.75 && max > 1.35, "range reached: " + min + " .. " + max);
    }

    @Test
    void multisiteWidensNoiseAndBrightnessToTheSpreadBetweenSites() {
        int draws = 4000;
        for (int wide = 0; wide < 2; wide++) {
            SplittableRandom r = new SplittableRandom(5);
            int noisy = 0, bright = 0, noiseAbove01 = 0;
            double sMax = 0, mMin = 9, mMax = 0, logSum = 0;
            for (int i = 0; i < draws; i++) {
                double s = Augmenter.noiseSigma(r, wide == 1);
                if (!Double.isNaN(s)) {
                    noisy++;
                    sMax = Math.max(sMax, s);
                    if (s > 0.1) noiseAbove01++;
                }
                double m = Augmenter.brightness(r, wide == 1);
                if (!Double.isNaN(m)) {
                    bright++;
                    mMin = Math.min(mMin, m);
                    mMax = Math.max(mMax, m);
                    logSum += Math.log(m);
                }
            }
            // binomial sd at 4000 draws: √(4000·0.15·0.85) ≈ 22.6, √(4000·0.25·0.75) ≈ 27.4, √(4000·0.3·0.7) ≈ 29;
            // tolerances are 4 sd
            if (wide == 0) {
                // nnU-Net's: noise σ ~ U(0, 0.1) at p 0.15, brightness U(0.75, 1.25) at p 0.15
                assertEquals(600, noisy, 90, "noise draws");
                assertEquals(0, noiseAbove01, "σ never above 0.1");
                assertEquals(600, bright, 90, "brightness draws");
                assertTrue(mMin >= 0.75 && mMax <= 1.25, "brightness range " + mMin + " .. " + mMax);
            } else {
                // the spread between the sites: noise σ 0.06–0.4 in z-score units, tumour z-scores ×/÷ 1.5
                assertEquals(1000, noisy, 110, "noise draws");
                assertTrue(sMax > 0.39 && sMax < 0.4, "σ reaches 0.4: " + sMax);
                // σ ~ U(0, 0.4): three quarters of the draws above 0.1 (sd of that share ≈ 0.014, 4 sd 0.055)
                assertEquals(0.75, noiseAbove01 / (double) noisy, 0.055, "share of σ above nnU-Net's 0.1");
                assertEquals(1200, bright, 116, "brightness draws");
                assertTrue(mMin >= 1 / 1.5 && mMin < 1 / 1.48 && mMax <= 1.5 && mMax > 1.48,
                        "brightness range " + mMin + " .. " + mMax);
                // log-uniform: the mean log factor is 0 (sd of log m is ln 1.5/√3 ≈ 0.234; of the mean over ~1200
                // draws 0.0068; 4 sd 0.027)
                assertEquals(0, logSum / bright, 0.027, "mean log brightness");
            }
        }
    }

    @Test
    void multisiteKeepsTheBackgroundAtZeroAndIsReproducible() {
        PreparedCase c = prepared(40, 40, 40, 4, (k, z, y, x) -> {
            double dz = z - 20, dy = y - 20, dx = x - 20;
            return dz * dz + dy * dy + dx * dx < 15 * 15 ? (float) (k + 0.03 * x + 0.1) : 0;
        }, (k, z, y, x) -> (z - 20) * (z - 20) + (y - 20) * (y - 20) < 16 ? 2 : 0);
        Augmenter flat = new Augmenter(new int[] {32, 32, 32}, new Augmenter.Options(false, false, 0, 0, 0, true, false, true));
        Augmenter crop = new Augmenter(new int[] {32, 32, 32}, Augmenter.Options.CROP_ONLY);
        for (int seed = 0; seed < 5; seed++) {
            Patch q = flat.sample(c, new SplittableRandom(seed));
            assertArrayEquals(q.image(), flat.sample(c, new SplittableRandom(seed)).image(), "same seed, same bytes");
            Patch p = crop.sample(c, new SplittableRandom(seed));
            for (int i = 0; i < q.image().length; i++) {
                assertEquals(p.image()[i] == 0, q.image()[i] == 0, "exactly the background is 0 at " + i);
            }
        }
        assertEquals(Augmenter.Options.MULTISITE, Augmenter.Options.named("multisite"));
        // "appearance" gives the patch and generator state of the build before multisite existed (values printed by
        // that build, commit "Merge branch 's2-aug'", for this case and seed): its runs repeat bit for bit
        SplittableRandom r = new SplittableRandom(7);
        Patch old = new Augmenter(new int[] {32, 32, 32}, Augmenter.Options.APPEARANCE).sample(c, r, 1.0 / 3);
        assertEquals(-880481699, Arrays.hashCode(old.image()), "appearance patch image as before");
        assertEquals(641152001, Arrays.hashCode(old.labels()), "appearance patch labels as before");
        assertEquals(6489047778490930055L, r.nextLong(), "generator state after an appearance patch as before");
    }
}
