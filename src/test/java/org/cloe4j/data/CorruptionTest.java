package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** Each corruption changes the head the way it says and leaves the background at 0. */
class CorruptionTest {
    static final int N = 24;

    /** A head (ball of radius 9) of value 100 + x on FLAIR and 300 − x on T2. */
    static Map<Modality, Volume> sequences() {
        Map<Modality, Volume> m = new LinkedHashMap<>();
        m.put(Modality.FLAIR, TestVolumes.of(N, N, N, (x, y, z) -> inHead(x, y, z) ? 100 + x : 0));
        m.put(Modality.T2, TestVolumes.of(N, N, N, (x, y, z) -> inHead(x, y, z) ? 300 - x : 0));
        return m;
    }

    static boolean inHead(int x, int y, int z) {
        double a = x - 11.5, b = y - 11.5, c = z - 11.5;
        return a * a + b * b + c * c < 81;
    }

    static void backgroundStaysZero(Volume before, Volume after) {
        for (int i = 0; i < before.voxels(); i++) {
            if (before.data()[i] == 0) assertEquals(0f, after.data()[i], "background voxel " + i);
            else assertTrue(after.data()[i] > 0, "head voxel " + i + " stays positive");
        }
    }

    @Test
    void noiseHasTheAskedStandardDeviation() {
        var s = sequences();
        Volume v = Corruption.NOISE.apply(s, Modality.FLAIR, 0.5, 1);
        backgroundStaysZero(s.get(Modality.FLAIR), v);
        // mean head value ≈ 111.5 → σ ≈ 56; Rician magnitude of a signal ~2σ: the residual's sd is within 20 % of σ
        double sum = 0, sq = 0, mean = 0;
        int n = 0;
        for (int i = 0; i < v.voxels(); i++) if (s.get(Modality.FLAIR).data()[i] > 0) { mean += s.get(Modality.FLAIR).data()[i]; n++; }
        mean /= n;
        for (int i = 0; i < v.voxels(); i++) {
            float x = s.get(Modality.FLAIR).data()[i];
            if (x <= 0) continue;
            double d = v.data()[i] - x;
            sum += d;
            sq += d * d;
        }
        double sd = Math.sqrt(sq / n - (sum / n) * (sum / n));
        assertEquals(0.5 * mean, sd, 0.2 * 0.5 * mean);
    }

    @Test
    void ghostingAddsCopiesShiftedAlongY() {
        var s = sequences();
        Volume v = Corruption.GHOSTING.apply(s, Modality.FLAIR, 0.4, 1);
        backgroundStaysZero(s.get(Modality.FLAIR), v);
        float[] x = s.get(Modality.FLAIR).data();
        int i = (12 * N + 12) * N + 12;
        double expected = x[i] + 0.4 * x[(12 * N + (12 + N / 4) % N) * N + 12] + 0.2 * x[(12 * N + (12 + N / 2) % N) * N + 12];
        assertEquals(expected, v.data()[i], 1e-3);
    }

    @Test
    void biasVariesTheHeadByUpToExpStrength() {
        var s = sequences();
        Volume v = Corruption.BIAS.apply(s, Modality.FLAIR, 1.0, 1);
        backgroundStaysZero(s.get(Modality.FLAIR), v);
        double lo = Double.MAX_VALUE, hi = 0;
        for (int i = 0; i < v.voxels(); i++) {
            float x = s.get(Modality.FLAIR).data()[i];
            if (x <= 0) continue;
            double r = v.data()[i] / x;
            lo = Math.min(lo, r);
            hi = Math.max(hi, r);
        }
        assertTrue(lo >= Math.exp(-1) - 1e-6 && hi <= Math.exp(1) + 1e-6, lo + " .. " + hi);
        assertTrue(hi / lo > 2, "a strong field: ratio " + hi / lo);
    }

    @Test
    void wrongSequenceGivesTheOtherSequenceInTheHead() {
        var s = sequences();
        Volume v = Corruption.WRONG_SEQUENCE.apply(s, Modality.T2, 0, 1);
        assertEquals(Modality.FLAIR, Corruption.substitute(s, Modality.T2));
        for (int i = 0; i < v.voxels(); i++) assertEquals(s.get(Modality.FLAIR).data()[i], v.data()[i]);
        assertThrows(IllegalArgumentException.class, () -> Corruption.parse("blur"));
        assertEquals(Corruption.WRONG_SEQUENCE, Corruption.parse("wrong-sequence"));
    }
}
