package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class ReliabilityAugmentationTest {
    private static final int P = 24, C = 4, N = P * P * P;

    /** Four channels of independent N(0, 1) values inside a ball (the "brain"), exactly 0 outside; labels 0/1. */
    private static Patch patch(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] img = new float[C * N];
        byte[] labels = new byte[N];
        for (int z = 0, i = 0; z < P; z++) {
            for (int y = 0; y < P; y++) {
                for (int x = 0; x < P; x++, i++) {
                    double d = Math.sqrt((z - 11.5) * (z - 11.5) + (y - 11.5) * (y - 11.5) + (x - 11.5) * (x - 11.5));
                    if (d > 10) continue;
                    for (int c = 0; c < C; c++) img[c * N + i] = (float) r.nextGaussian();
                    labels[i] = (byte) (d < 4 ? 1 : 0);
                }
            }
        }
        return new Patch(img, labels, C, P, P, P);
    }

    private static double[] channel(Patch p, int c) {
        double[] v = new double[N];
        for (int i = 0; i < N; i++) v[i] = p.image()[c * N + i];
        return v;
    }

    /** Pearson correlation over the brain (the voxels non-zero in {@code mask}). */
    private static double correlation(double[] a, double[] b, double[] mask) {
        double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
        int n = 0;
        for (int i = 0; i < a.length; i++) {
            if (mask[i] == 0) continue;
            sa += a[i];
            sb += b[i];
            saa += a[i] * a[i];
            sbb += b[i] * b[i];
            sab += a[i] * b[i];
            n++;
        }
        double ca = saa / n - (sa / n) * (sa / n), cb = sbb / n - (sb / n) * (sb / n), cab = sab / n - (sa / n) * (sb / n);
        return cab / Math.sqrt(ca * cb);
    }

    private static double[] meanSd(double[] v) {
        double s = 0, q = 0;
        int n = 0;
        for (double x : v) {
            if (x == 0) continue;
            s += x;
            q += x * x;
            n++;
        }
        return new double[]{s / n, Math.sqrt(q / n - (s / n) * (s / n))};
    }

    private static void assertOnlyChannelChanged(Patch clean, Patch out, int channel) {
        assertSame(clean.labels(), out.labels(), "labels are the clean patch's");
        for (int c = 0; c < C; c++) {
            double[] a = channel(clean, c), b = channel(out, c);
            for (int i = 0; i < N; i++) {
                if (c != channel) assertEquals(a[i], b[i], 0.0, "channel " + c + " voxel " + i + " must not change");
                else if (a[i] == 0) assertEquals(0.0, b[i], 0.0, "background voxel " + i + " must stay exactly 0");
                else assertNotEquals(0.0, b[i], "brain voxel " + i + " must stay non-zero");
            }
        }
    }

    @Test
    void noiseLowersTheCorrelationWithTheCleanSequenceByTheStatedSigma() {
        Patch clean = patch(1);
        for (double sigma : new double[]{0.5, 1.0, 2.0}) {
            Patch out = ReliabilityAugmentation.corrupt(clean, 2, Corruption.NOISE, sigma, new SplittableRandom(5));
            assertOnlyChannelChanged(clean, out, 2);
            // clean sd 1, noise sd sigma: corr = 1/sqrt(1 + sigma²); ~4000 brain voxels give a sampling sd of ~0.01,
            // so 0.04 is about 4 sd
            double expected = 1 / Math.sqrt(1 + sigma * sigma);
            double got = correlation(channel(clean, 2), channel(out, 2), channel(clean, 2));
            assertEquals(expected, got, 0.04, "correlation of noise sigma " + sigma);
        }
        // the check above tells strengths apart: without noise the correlation is 1, not 1/sqrt(2)
        Patch none = ReliabilityAugmentation.corrupt(clean, 2, Corruption.NOISE, 0, new SplittableRandom(5));
        assertEquals(1.0, correlation(channel(clean, 2), channel(none, 2), channel(clean, 2)), 1e-6);
    }

    @Test
    void theCorruptedSequenceKeepsTheCleanPatchsBrainMeanAndSd() {
        Patch clean = patch(2);
        double[] ms = meanSd(channel(clean, 1));
        for (Corruption k : Corruption.values()) {
            Patch out = ReliabilityAugmentation.corrupt(clean, 1, k, 1.5, new SplittableRandom(9));
            assertOnlyChannelChanged(clean, out, 1);
            double[] got = meanSd(channel(out, 1));
            // float32 storage of values of order 1: 1e-4 is far above rounding and far below any corruption's effect
            assertEquals(ms[0], got[0], 1e-4, k + " mean");
            assertEquals(ms[1], got[1], 1e-4, k + " sd");
        }
    }

    @Test
    void wrongSequenceIsAnotherChannelRescaledAndGhostingAddsTheShiftedCopies() {
        Patch clean = patch(3);
        double[] brain = channel(clean, 0);
        Patch wrong = ReliabilityAugmentation.corrupt(clean, 0, Corruption.WRONG_SEQUENCE, 0, new SplittableRandom(4));
        double best = 0;
        int source = -1;
        for (int c = 1; c < C; c++) {
            double r = correlation(channel(wrong, 0), channel(clean, c), brain);
            if (r > best) {
                best = r;
                source = c;
            }
        }
        assertTrue(best > 0.9999, "the wrong sequence is an affine image of another channel: best correlation " + best);
        assertTrue(correlation(channel(wrong, 0), brain, brain) < 0.1, "and no longer the channel itself");
        assertTrue(source > 0);

        double a = 0.8;
        Patch ghost = ReliabilityAugmentation.corrupt(clean, 0, Corruption.GHOSTING, a, new SplittableRandom(4));
        double[] x = channel(clean, 0), expected = new double[N];
        for (int z = 0, i = 0; z < P; z++) {
            for (int y = 0; y < P; y++) {
                for (int xx = 0; xx < P; xx++, i++) {
                    if (x[i] == 0) continue;
                    expected[i] = x[i] + a * x[(z * P + (y + P / 4) % P) * P + xx] + a / 2 * x[(z * P + (y + P / 2) % P) * P + xx];
                }
            }
        }
        assertEquals(1.0, correlation(channel(ghost, 0), expected, x), 1e-5, "ghosting = clean + a·shift(P/4) + a/2·shift(P/2)");
        // and the ghosts are there (the copies come partly from outside the ball, where they add 0)
        double r = correlation(channel(ghost, 0), x, x);
        assertTrue(r < 0.9, "correlation with the clean channel " + r);

        Patch biased = ReliabilityAugmentation.corrupt(clean, 0, Corruption.BIAS, 2.0, new SplittableRandom(4));
        assertTrue(correlation(channel(biased, 0), x, x) < 0.95, "a bias field of strength 2 changes the contrast");
    }

    @Test
    void aSampleIsCorruptedWithTheGivenProbabilityAndOnlyAmongTheGivenSequences() {
        Patch clean = patch(4);
        ReliabilityAugmentation aug = new ReliabilityAugmentation(0.5);
        SplittableRandom rng = new SplittableRandom(11);
        int n = 600, hits = 0;
        int[] per = new int[C];
        int[] kinds = new int[Corruption.values().length];
        for (int s = 0; s < n; s++) {
            ReliabilityAugmentation.Result r = aug.apply(clean, new int[]{1, 3}, rng);
            if (!r.corrupted()) {
                assertSame(clean, r.patch());
                continue;
            }
            hits++;
            per[r.channel()]++;
            kinds[r.kind().ordinal()]++;
        }
        // binomial(600, 0.5): sd 12.2, so ±50 is about 4 sd
        assertEquals(300, hits, 50, "corrupted samples");
        assertEquals(0, per[0] + per[2], "only given channels are corrupted");
        assertTrue(per[1] > 0 && per[3] > 0, "both given channels are drawn: " + java.util.Arrays.toString(per));
        for (int k : kinds) assertTrue(k > 0, "every kind is drawn: " + java.util.Arrays.toString(kinds));
    }

    @Test
    void offItDrawsNothingAndOneGivenSequenceIsNeverCorrupted() {
        Patch clean = patch(5);
        SplittableRandom a = new SplittableRandom(3), b = new SplittableRandom(3);
        ReliabilityAugmentation.Result r = new ReliabilityAugmentation(0).apply(clean, new int[]{0, 1, 2, 3}, a);
        assertSame(clean, r.patch());
        assertEquals(b.nextLong(), a.nextLong(), "probability 0 leaves the generator untouched (older runs repeat)");
        for (int s = 0; s < 50; s++) {
            assertSame(clean, new ReliabilityAugmentation(1).apply(clean, new int[]{2}, a).patch(), "one sequence: nothing to compare");
        }
        assertArrayEquals(clean.image(), patch(5).image(), 0f, "the input patch is never written");
        assertThrows(IllegalArgumentException.class, () -> new ReliabilityAugmentation(1.5));
        assertThrows(IllegalArgumentException.class,
                () -> ReliabilityAugmentation.corrupt(clean, 4, Corruption.NOISE, 1, new SplittableRandom(1)));
    }
}
