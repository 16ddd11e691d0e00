package org.cloe4j.eval;

import java.util.ArrayList;
import java.util.List;

import org.cloe4j.data.Modality;
import org.cloe4j.data.PreparedCase;

/**
 * The plainest whole-tumour segmenter, as a floor for a trained model: inside the head (FLAIR non-zero), a voxel is
 * tumour when its FLAIR z-score over the brain (as preprocessing leaves it) exceeds a threshold. The threshold is
 * fitted on training cases (the one of 0.0, 0.1, ..., 4.0 with the best mean WT Dice), then applied unchanged to the
 * test cases.
 */
public final class FlairBaseline {

    /** Whole-tumour Dice and HD95 (mm) of one test case. */
    public record CaseResult(String caseId, double dice, double hd95) {}

    /** The fitted threshold and the test cases' results. */
    public record Result(double threshold, double trainDice, List<CaseResult> cases) {
        public double meanDice() {
            return cases.stream().mapToDouble(CaseResult::dice).average().orElse(Double.NaN);
        }

        public double meanHd95() {
            return cases.stream().mapToDouble(CaseResult::hd95).average().orElse(Double.NaN);
        }
    }

    private FlairBaseline() {}

    /** The whole-tumour map of {@code c} at {@code threshold}. */
    public static boolean[] predict(PreparedCase c, double threshold) {
        int ch = flairChannel(c), n = c.voxels();
        boolean[] out = new boolean[n];
        float[] img = c.image();
        for (int i = 0; i < n; i++) {
            float v = img[ch * n + i];
            out[i] = v != 0 && v > threshold;
        }
        return out;
    }

    /** The reference whole tumour (class &gt; 0). */
    public static boolean[] wholeTumour(PreparedCase c) {
        boolean[] out = new boolean[c.voxels()];
        byte[] l = c.labels();
        for (int i = 0; i < out.length; i++) out[i] = l[i] > 0;
        return out;
    }

    /** Fits the threshold on {@code train}, scores {@code test}. */
    public static Result run(List<PreparedCase> train, List<PreparedCase> test) {
        if (train.isEmpty() || test.isEmpty()) throw new IllegalArgumentException("the FLAIR baseline needs training and test cases");
        double best = 0, bestDice = -1;
        for (int k = 0; k <= 40; k++) {
            double t = k / 10.0, sum = 0;
            for (PreparedCase c : train) sum += RegionDice.dice(predict(c, t), wholeTumour(c));
            if (sum / train.size() > bestDice) {
                bestDice = sum / train.size();
                best = t;
            }
        }
        List<CaseResult> out = new ArrayList<>();
        for (PreparedCase c : test) {
            boolean[] p = predict(c, best), r = wholeTumour(c);
            double[] pd = c.geometry().pixdim();
            double[] spacing = {Math.abs(pd[1]), Math.abs(pd[2]), Math.abs(pd[3])};
            out.add(new CaseResult(c.id(), RegionDice.dice(p, r),
                    SurfaceDistance.hd95(p, r, c.width(), c.height(), c.depth(), spacing)));
        }
        return new Result(best, bestDice, out);
    }

    private static int flairChannel(PreparedCase c) {
        for (int i = 0; i < c.channels(); i++) {
            if (c.modalities().get(i).equals(Modality.FLAIR) && c.available()[i]) return i;
        }
        throw new IllegalArgumentException("case " + c.id() + " has no FLAIR sequence");
    }
}
