package org.cloe4j.eval;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.cloe4j.data.ImageStats;
import org.cloe4j.data.Modality;

/**
 * The image checks beside the agreement flag: label-free and independent of the model's weights, they look at the
 * images themselves ({@link ImageStats}) for what the experts' agreement cannot see — heavy noise, which the experts
 * resist, and a sequence given twice or under another's name, which agrees <em>better</em> with its twin. Levels are
 * calibrated on the cohort's clean cases and stored in {@code reliability.json} ({@code imageChecks}):
 * <ul>
 * <li><b>duplicate</b> (needs no calibration): two given sequences whose intensities in the head correlate with
 *     |r| &gt; {@value #DUPLICATE_R}; no two different contrasts of one head correlate like that, the same image twice
 *     gives 1. Both are named;
 * <li><b>correlation</b>: a pair is out of range when |r − mean| &gt; max({@value #K}·sd, {@value #R_FLOOR}) of that
 *     pair's r on the clean cases (a duplicate counts as out of range). A sequence is flagged when it has the most
 *     out-of-range pairs of the study, at least two (with only two sequences given, their one pair flags both), and
 *     one of them is not a duplicate (which its own finding already names): a sequence given under another's name (or
 *     ruined) is off with every partner whose correlation differs between the two contrasts, a sound one only with
 *     it, so the sound third of a study is left alone; one odd pair among three or more sequences is shown in the
 *     report but not attributed to either;
 * <li><b>noise</b>: the sequence's noise estimate ({@link ImageStats#noise}, σ in z-score units) above its clean
 *     mean + max({@value #K}·sd, {@value #NOISE_FLOOR}).
 * </ul>
 * Why these levels: four standard deviations leave a clean case of a normal spread outside with a chance of 6e-5 per
 * value, room for the spread's tails and for an sd estimated from a few cases; the floors set the least room where
 * the cases happen to agree closely: 0.2 in r (a substituted contrast moves its pairs by 0.3–1.5, a duplicate to 1),
 * 0.1 in noise (clean sequences of the project's cohorts 0.04–0.46; noise of σ = the mean head intensity gives about
 * 0.95). The clean cases are the validation and training cases ({@code cloe calibrate}): the checks need no model, and
 * four validation cases alone showed too little of a cohort's spread (docs/GENERALISATION.md).
 *
 * @param modalities the model's sequences
 * @param cases      clean cases the levels come from
 * @param noiseMean  mean noise estimate per sequence
 * @param noiseSd    its standard deviation (0 with one case)
 * @param rMean      mean correlation per pair, symmetric (diagonal unused)
 * @param rSd        its standard deviation
 * @param looFlagged clean cases that any check flagged with levels fitted on the other cases (each case left out of
 *                   its own calibration: the honest false-flag estimate); {@code -1} when not measured (fewer than 3)
 */
public record ImageCheckLevels(List<Modality> modalities, int cases, double[] noiseMean, double[] noiseSd,
                               double[][] rMean, double[][] rSd, int looFlagged) {
    /** Standard deviations of the clean values a level lies away from their mean. */
    public static final double K = 4;
    /** Least margin of a pair's correlation around its clean mean. */
    public static final double R_FLOOR = 0.2;
    /** Least margin of a sequence's noise estimate above its clean mean. */
    public static final double NOISE_FLOOR = 0.1;
    /** |r| above which two given sequences are taken for the same image, calibrated or not. */
    public static final double DUPLICATE_R = 0.99;

    public ImageCheckLevels {
        modalities = List.copyOf(modalities);
        int n = modalities.size();
        if (noiseMean.length != n || noiseSd.length != n || rMean.length != n || rSd.length != n) {
            throw new IllegalArgumentException("one value per sequence expected");
        }
    }

    /** The noise level of sequence {@code i}. */
    public double noiseLevel(int i) {
        return noiseMean[i] + Math.max(K * noiseSd[i], NOISE_FLOOR);
    }

    /** The margin of pair (i, j)'s correlation around its clean mean. */
    public double rMargin(int i, int j) {
        return Math.max(K * rSd[i][j], R_FLOOR);
    }

    /**
     * Levels from the image measurements of clean cases (every sequence given; NaN values are skipped), with the
     * false-flag count measured by leaving each case out of its own calibration (from 3 cases on).
     */
    public static ImageCheckLevels calibrate(List<Modality> modalities, List<ImageStats> clean) {
        if (clean.isEmpty()) throw new IllegalArgumentException("image checks need clean cases to calibrate on");
        int loo = -1;
        if (clean.size() >= 3) {
            loo = 0;
            for (int c = 0; c < clean.size(); c++) {
                List<ImageStats> others = new ArrayList<>(clean);
                others.remove(c);
                if (!check(fit(modalities, others, -1), clean.get(c)).findings().isEmpty()) loo++;
            }
        }
        return fit(modalities, clean, loo);
    }

    private static ImageCheckLevels fit(List<Modality> modalities, List<ImageStats> clean, int loo) {
        int n = modalities.size();
        double[] nm = new double[n], ns = new double[n];
        double[][] rm = new double[n][n], rs = new double[n][n];
        for (int i = 0; i < n; i++) {
            Modality a = modalities.get(i);
            double[] s = stats(clean.stream().mapToDouble(c -> c.noise(a)).toArray());
            nm[i] = s[0];
            ns[i] = s[1];
            for (int j = i + 1; j < n; j++) {
                Modality b = modalities.get(j);
                double[] t = stats(clean.stream().mapToDouble(c -> c.r(a, b)).toArray());
                rm[i][j] = rm[j][i] = t[0];
                rs[i][j] = rs[j][i] = t[1];
            }
        }
        return new ImageCheckLevels(modalities, clean.size(), nm, ns, rm, rs, loo);
    }

    /** The leave-one-out false-flag count in words ("" when not measured). */
    public String looRate() {
        return looFlagged < 0 ? "" : String.format(Locale.ROOT, "; with each case left out of its own calibration %d of %d "
                + "clean cases flagged", looFlagged, cases);
    }

    /** {mean, sd} of the finite values (sd 0 with one, NaN with none). */
    private static double[] stats(double[] x) {
        double s = 0;
        int m = 0;
        for (double v : x) if (Double.isFinite(v)) { s += v; m++; }
        if (m == 0) return new double[] {Double.NaN, Double.NaN};
        double mean = s / m, q = 0;
        for (double v : x) if (Double.isFinite(v)) q += (v - mean) * (v - mean);
        return new double[] {mean, m < 2 ? 0 : Math.sqrt(q / (m - 1))};
    }

    // ---- the checks

    /**
     * One check that fired: {@code check} is "duplicate" (two sequences, value r), "correlation" (one sequence, value
     * the number of its out-of-range pairs) or "noise" (one sequence, value its estimate, above {@code level}).
     */
    public record Finding(String check, List<Modality> sequences, double value, double level, String message) {
        public Finding {
            sequences = List.copyOf(sequences);
        }
    }

    /**
     * The image checks of one study: its measurements, whether levels were calibrated ({@code levels} null: only
     * duplicates are checked), and what fired.
     */
    public record Result(ImageStats stats, ImageCheckLevels levels, List<Finding> findings) {
        public Result {
            findings = List.copyOf(findings);
        }

        public boolean calibrated() {
            return levels != null;
        }

        /** The checks that fired on sequence {@code m} ("duplicate", "correlation", "noise"), in that order. */
        public List<String> checks(Modality m) {
            List<String> out = new ArrayList<>();
            for (Finding f : findings) if (f.sequences().contains(m) && !out.contains(f.check())) out.add(f.check());
            return out;
        }

        /** Writes this study's image checks for sequence {@code m} into {@code o} (values, levels, checks that fired). */
        public void writeTo(ObjectNode o, Modality m) {
            int i = stats.modalities().indexOf(m);
            int li = levels == null ? -1 : levels.modalities().indexOf(m);
            putNumber(o, "noise", stats.noise()[i]);
            if (li >= 0) o.put("noise_level", levels.noiseLevel(li));
            ArrayNode pairs = o.putArray("correlation");
            for (int j = 0; j < stats.modalities().size(); j++) {
                if (j == i) continue;
                Modality b = stats.modalities().get(j);
                ObjectNode p = pairs.addObject();
                p.put("with", b.name());
                double r = stats.correlation()[i][j];
                putNumber(p, "r", r);
                int lj = levels == null ? -1 : levels.modalities().indexOf(b);
                if (li >= 0 && lj >= 0) {
                    p.put("clean_mean", levels.rMean()[li][lj]).put("clean_sd", levels.rSd()[li][lj]);
                    p.put("low", levels.rMean()[li][lj] - levels.rMargin(li, lj))
                            .put("high", levels.rMean()[li][lj] + levels.rMargin(li, lj));
                    p.put("out_of_range", levels.outOfRange(li, lj, r));
                }
                p.put("duplicate", Math.abs(r) > DUPLICATE_R);
            }
            ArrayNode fired = o.putArray("fired");
            checks(m).forEach(fired::add);
            o.put("flagged", !checks(m).isEmpty());
        }
    }

    /** Whether r of pair (i, j) lies outside its clean range (a duplicate always does; NaN never). */
    boolean outOfRange(int i, int j, double r) {
        if (Math.abs(r) > DUPLICATE_R) return true;
        return Double.isFinite(r) && Double.isFinite(rMean[i][j]) && Math.abs(r - rMean[i][j]) > rMargin(i, j);
    }

    /** The image checks of a study measured as {@code s}; {@code levels} null (none calibrated): duplicates only. */
    public static Result check(ImageCheckLevels levels, ImageStats s) {
        List<Modality> mods = s.modalities();
        int k = mods.size();
        List<Finding> out = new ArrayList<>();
        for (int a = 0; a < k; a++) {
            for (int b = a + 1; b < k; b++) {
                double r = s.correlation()[a][b];
                if (!(Math.abs(r) > DUPLICATE_R)) continue;
                String range = "";
                if (levels != null) {
                    int la = levels.modalities().indexOf(mods.get(a)), lb = levels.modalities().indexOf(mods.get(b));
                    if (la >= 0 && lb >= 0) {
                        range = String.format(Locale.ROOT, "; on %d clean cases of the cohort this pair's r was %.3f ± %.3f",
                                levels.cases(), levels.rMean()[la][lb], levels.rSd()[la][lb]);
                    }
                }
                out.add(new Finding("duplicate", List.of(mods.get(a), mods.get(b)), r, DUPLICATE_R, String.format(Locale.ROOT,
                        "sequences %s and %s look like the same image: their intensities in the head correlate at r = %.3f "
                                + "(no two different contrasts go beyond %.2f%s); one of them is likely the other given under "
                                + "the wrong name, or the same file twice", mods.get(a), mods.get(b), r, DUPLICATE_R, range)));
            }
        }
        if (levels == null) return new Result(s, null, out);
        int[] idx = new int[k];
        for (int a = 0; a < k; a++) idx[a] = levels.modalities().indexOf(mods.get(a));
        int[] off = new int[k];
        int most = 0;
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) {
                if (a != b && idx[a] >= 0 && idx[b] >= 0 && levels.outOfRange(idx[a], idx[b], s.correlation()[a][b])) off[a]++;
            }
            most = Math.max(most, off[a]);
        }
        // among three or more sequences one odd pair does not say which of its two is at fault: not attributed
        int least = k == 2 ? 1 : 2;
        for (int a = 0; a < k && most >= least; a++) {
            if (off[a] != most) continue;
            boolean beyondDuplicates = false; // else the duplicate finding already says all there is
            for (int b = 0; b < k; b++) {
                double r = s.correlation()[a][b];
                if (a != b && idx[b] >= 0 && !(Math.abs(r) > DUPLICATE_R) && levels.outOfRange(idx[a], idx[b], r)) {
                    beyondDuplicates = true;
                }
            }
            if (!beyondDuplicates) continue;
            StringBuilder pairs = new StringBuilder();
            for (int b = 0; b < k; b++) {
                if (a == b || idx[b] < 0 || !levels.outOfRange(idx[a], idx[b], s.correlation()[a][b])) continue;
                double m = levels.rMean()[idx[a]][idx[b]], e = levels.rMargin(idx[a], idx[b]);
                if (!pairs.isEmpty()) pairs.append(", ");
                pairs.append(String.format(Locale.ROOT, "with %s %.3f (clean %.3f ± %.3f, flagged outside [%.3f, %.3f])",
                        mods.get(b), s.correlation()[a][b], m, levels.rSd()[idx[a]][idx[b]], m - e, m + e));
            }
            out.add(new Finding("correlation", List.of(mods.get(a)), most, 0, String.format(Locale.ROOT,
                    "sequence %s does not correlate with the others as %s did on %d clean cases of the cohort: r %s; it "
                            + "may be another sequence under this name, or corrupted%s", mods.get(a), mods.get(a), levels.cases(),
                    pairs, levels.looRate())));
        }
        for (int a = 0; a < k; a++) {
            if (idx[a] < 0) continue;
            double v = s.noise()[a], level = levels.noiseLevel(idx[a]);
            if (!(v > level)) continue;
            out.add(new Finding("noise", List.of(mods.get(a)), v, level, String.format(Locale.ROOT,
                    "sequence %s looks noisy: noise estimate %.3f (σ in z-score units, from neighbouring-voxel "
                            + "differences in the head), above %.3f (%.3f ± %.3f on %d clean cases of the cohort%s); check it "
                            + "for noise, or for another sequence under this name (each contrast has its own level)",
                    mods.get(a), v, level, levels.noiseMean()[idx[a]], levels.noiseSd()[idx[a]], levels.cases(), levels.looRate())));
        }
        return new Result(s, levels, out);
    }

    // ---- storage in reliability.json

    /** Writes the levels into {@code o} (the {@code imageChecks} part of {@code reliability.json}). */
    void writeTo(ObjectNode o) {
        o.put("rule", "label-free image checks: a pair of sequences is out of range when |r - mean| > max(k*sd, "
                + "correlationFloor) of its r on the clean cases, or |r| > duplicateR (a duplicate, flagged calibrated or not); a "
                + "sequence is flagged by correlation when it has the most out-of-range pairs of the study, at least two "
                + "(both of a study of two sequences at one), one of them not a duplicate; by noise when its noise estimate exceeds mean + max(k*sd, noiseFloor)");
        o.put("cases", cases).put("leaveOneOutCleanFlagged", looFlagged).put("k", K).put("correlationFloor", R_FLOOR).put("noiseFloor", NOISE_FLOOR)
                .put("duplicateR", DUPLICATE_R);
        ArrayNode noise = o.putArray("noise");
        for (int i = 0; i < modalities.size(); i++) {
            ObjectNode n = noise.addObject().put("name", modalities.get(i).name());
            putNumber(n, "mean", noiseMean[i]);
            putNumber(n, "sd", noiseSd[i]);
            putNumber(n, "level", noiseLevel(i));
        }
        ArrayNode pairs = o.putArray("pairs");
        for (int i = 0; i < modalities.size(); i++) {
            for (int j = i + 1; j < modalities.size(); j++) {
                ObjectNode p = pairs.addObject().put("a", modalities.get(i).name()).put("b", modalities.get(j).name());
                putNumber(p, "mean", rMean[i][j]);
                putNumber(p, "sd", rSd[i][j]);
                putNumber(p, "low", rMean[i][j] - rMargin(i, j));
                putNumber(p, "high", rMean[i][j] + rMargin(i, j));
            }
        }
    }

    /** The levels stored in {@code o}, for {@code modalities}; null when {@code o} is missing (an older file). */
    static ImageCheckLevels readFrom(JsonNode o, List<Modality> modalities) {
        if (!o.isObject()) return null;
        int n = modalities.size();
        double[] nm = new double[n], ns = new double[n];
        double[][] rm = new double[n][n], rs = new double[n][n];
        for (double[] row : rm) java.util.Arrays.fill(row, Double.NaN); // a pair not stored has no range
        Map<String, JsonNode> noise = new LinkedHashMap<>();
        o.path("noise").forEach(x -> noise.put(x.path("name").asText(), x));
        for (int i = 0; i < n; i++) {
            JsonNode x = noise.get(modalities.get(i).name());
            if (x == null) throw new IllegalArgumentException("imageChecks has no noise level for " + modalities.get(i));
            nm[i] = number(x.path("mean"));
            ns[i] = number(x.path("sd"));
        }
        for (JsonNode p : o.path("pairs")) {
            int i = modalities.indexOf(Modality.of(p.path("a").asText())), j = modalities.indexOf(Modality.of(p.path("b").asText()));
            if (i < 0 || j < 0) continue;
            rm[i][j] = rm[j][i] = number(p.path("mean"));
            rs[i][j] = rs[j][i] = number(p.path("sd"));
        }
        return new ImageCheckLevels(modalities, o.path("cases").asInt(), nm, ns, rm, rs,
                o.path("leaveOneOutCleanFlagged").asInt(-1));
    }

    private static double number(JsonNode v) {
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) o.put(field, v); else o.putNull(field);
    }
}
