package org.cloe4j.eval;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.cloe4j.data.Modality;

/**
 * The reliability flag on a sequence's standing among the study's other sequences, calibrated on validation cases
 * clean and with known corruptions applied. A corruption lowers every expert's agreement u a little (they are
 * compared with each other) and the corrupted one's more; what sets the corrupted sequence apart is the gap, not the
 * level. For a study with every sequence of the model given (k of them), per sequence i:
 * <ul>
 * <li>{@code relU_i = u_i − median_{j≠i} u_j − offsetU_i}: its agreement minus the median of the others', less the
 *     mean of that gap over the clean validation cases (some sequences agree a little less than others on clean data);
 * <li>{@code relW_i = k·w_i − offsetW_i}: its gate weight relative to an equal share 1/k, less that over clean
 *     validation.
 * </ul>
 * A sequence is flagged when {@code relU_i < thresholdU} or {@code relW_i < thresholdW}. Each threshold comes from
 * {@link #threshold}: below the lowest clean validation score by one standard deviation of the clean scores, and
 * lower still, half-way to the highest corrupted score under that level, when corrupted scores sit there (so every
 * corrupted score the level reached stays flagged and a clean study gets the widest room).
 * The rule needs three or more sequences for u (with two, both agree equally by construction): with fewer,
 * thresholdU is −∞.
 *
 * @param modalities  the model's sequences, in its order
 * @param offsetU     mean of {@code u_i − median_{j≠i} u_j} over the clean validation cases
 * @param offsetW     mean of {@code k·w_i} over the clean validation cases
 * @param thresholdU  flag level of relU
 * @param thresholdW  flag level of relW
 * @param conditions  the corruptions it was calibrated with (labels such as "bias 1.5"), each applied to every sequence
 * @param cases       number of validation cases
 * @param inSample    false flags and detections on the validation measurements it was fitted on
 * @param leaveOneOut the same, each case scored by the rule fitted on the other cases (null with one case)
 */
public record RelativeFlagRule(List<Modality> modalities, double[] offsetU, double[] offsetW, double thresholdU,
                               double thresholdW, List<String> conditions, int cases, Stats inSample, Stats leaveOneOut) {

    public RelativeFlagRule {
        modalities = List.copyOf(modalities);
        conditions = List.copyOf(conditions);
        if (offsetU.length != modalities.size() || offsetW.length != modalities.size()) {
            throw new IllegalArgumentException("one offset per sequence expected");
        }
    }

    /**
     * One segmentation of a validation case with every sequence given: the case's index, the corruption's label (null:
     * clean), the corrupted sequence's index in the model's order (−1: clean), u and w in the model's order.
     */
    public record Measurement(int caseIndex, String condition, int corrupted, double[] u, double[] w) {
        public boolean clean() {
            return corrupted < 0;
        }
    }

    /**
     * How the rule did on a set of measurements: clean studies with any sequence flagged (false flags), corrupted
     * studies whose corrupted sequence was flagged (detections) and those where another sequence was flagged instead
     * or as well ({@code otherFlagged}), and per condition {detected, studies}.
     */
    public record Stats(int cleanStudies, int cleanFlagged, int corruptedStudies, int detected, int otherFlagged,
                        Map<String, int[]> perCondition) {
        public double falseFlagRate() {
            return cleanStudies == 0 ? Double.NaN : (double) cleanFlagged / cleanStudies;
        }

        public double detectionRate() {
            return corruptedStudies == 0 ? Double.NaN : (double) detected / corruptedStudies;
        }
    }

    /** {@code u_i − median_{j≠i} u_j} for every i. */
    public static double[] gapToOthers(double[] u) {
        int k = u.length;
        double[] out = new double[k];
        for (int i = 0; i < k; i++) {
            double[] others = new double[k - 1];
            for (int j = 0, o = 0; j < k; j++) if (j != i) others[o++] = u[j];
            out[i] = u[i] - median(others);
        }
        return out;
    }

    static double median(double[] x) {
        if (x.length == 0) return Double.NaN;
        double[] s = x.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    /** relU per sequence for u in the model's order. */
    public double[] relativeU(double[] u) {
        double[] g = gapToOthers(u);
        for (int i = 0; i < g.length; i++) g[i] -= offsetU[i];
        return g;
    }

    /** relW per sequence for w in the model's order. */
    public double[] relativeW(double[] w) {
        double[] r = new double[w.length];
        for (int i = 0; i < w.length; i++) r[i] = w.length * w[i] - offsetW[i];
        return r;
    }

    /** Which sequences (model order) this rule flags. */
    public boolean[] flagged(double[] u, double[] w) {
        double[] ru = relativeU(u), rw = relativeW(w);
        boolean[] f = new boolean[u.length];
        for (int i = 0; i < f.length; i++) f[i] = ru[i] < thresholdU || rw[i] < thresholdW;
        return f;
    }

    /**
     * The flag level from clean and corrupted validation scores (lower is worse): {@code m = min(clean) − sd(clean)};
     * when some corrupted scores lie below m, half-way between m and the highest of them, else m. NaN scores are
     * skipped; −∞ when there is no finite clean score.
     */
    public static double threshold(double[] clean, double[] corrupted) {
        double[] c = Arrays.stream(clean).filter(Double::isFinite).toArray();
        if (c.length == 0) return Double.NEGATIVE_INFINITY;
        double min = Arrays.stream(c).min().getAsDouble(), mean = Arrays.stream(c).average().getAsDouble();
        double ss = 0;
        for (double v : c) ss += (v - mean) * (v - mean);
        double sd = c.length < 2 ? 0 : Math.sqrt(ss / (c.length - 1));
        double m = min - sd;
        double best = Double.NEGATIVE_INFINITY;
        for (double v : corrupted) if (Double.isFinite(v) && v < m && v > best) best = v;
        return best == Double.NEGATIVE_INFINITY ? m : 0.5 * (m + best);
    }

    /** Fits the rule on every measurement and scores it in-sample and leaving one case out at a time. */
    public static RelativeFlagRule fit(List<Modality> modalities, List<String> conditions, List<Measurement> all) {
        RelativeFlagRule r = fitOn(modalities, conditions, all);
        List<Integer> caseIds = all.stream().map(Measurement::caseIndex).distinct().sorted().toList();
        Stats loo = null;
        if (caseIds.size() >= 2) {
            List<Stats> parts = new ArrayList<>();
            for (int held : caseIds) {
                List<Measurement> rest = all.stream().filter(m -> m.caseIndex() != held).toList();
                List<Measurement> test = all.stream().filter(m -> m.caseIndex() == held).toList();
                parts.add(fitOn(modalities, conditions, rest).score(test));
            }
            loo = sum(parts);
        }
        return new RelativeFlagRule(modalities, r.offsetU, r.offsetW, r.thresholdU, r.thresholdW, conditions,
                caseIds.size(), r.score(all), loo);
    }

    private static RelativeFlagRule fitOn(List<Modality> modalities, List<String> conditions, List<Measurement> ms) {
        int k = modalities.size();
        List<Measurement> clean = ms.stream().filter(Measurement::clean).toList();
        if (clean.isEmpty()) throw new IllegalArgumentException("the relative flag rule needs clean validation cases");
        double[] offU = new double[k], offW = new double[k];
        for (Measurement m : clean) {
            double[] g = gapToOthers(m.u());
            for (int i = 0; i < k; i++) {
                offU[i] += g[i] / clean.size();
                offW[i] += k * m.w()[i] / clean.size();
            }
        }
        RelativeFlagRule centred = new RelativeFlagRule(modalities, offU, offW, 0, 0, conditions, 0, null, null);
        List<Double> cu = new ArrayList<>(), cw = new ArrayList<>(), xu = new ArrayList<>(), xw = new ArrayList<>();
        for (Measurement m : ms) {
            double[] ru = centred.relativeU(m.u()), rw = centred.relativeW(m.w());
            if (m.clean()) {
                for (int i = 0; i < k; i++) {
                    cu.add(ru[i]);
                    cw.add(rw[i]);
                }
            } else {
                xu.add(ru[m.corrupted()]);
                xw.add(rw[m.corrupted()]);
            }
        }
        double tu = k < 3 ? Double.NEGATIVE_INFINITY : threshold(unbox(cu), unbox(xu));
        double tw = threshold(unbox(cw), unbox(xw));
        return new RelativeFlagRule(modalities, offU, offW, tu, tw, conditions, 0, null, null);
    }

    /** This rule's false flags and detections on {@code ms}. */
    public Stats score(List<Measurement> ms) {
        int cleanN = 0, cleanF = 0, corrN = 0, det = 0, other = 0;
        Map<String, int[]> per = new LinkedHashMap<>();
        for (String c : conditions) per.put(c, new int[2]);
        for (Measurement m : ms) {
            boolean[] f = flagged(m.u(), m.w());
            boolean any = false;
            for (boolean b : f) any |= b;
            if (m.clean()) {
                cleanN++;
                if (any) cleanF++;
                continue;
            }
            corrN++;
            boolean hit = f[m.corrupted()];
            if (hit) det++;
            for (int i = 0; i < f.length; i++) {
                if (i != m.corrupted() && f[i]) {
                    other++;
                    break;
                }
            }
            int[] pc = per.computeIfAbsent(m.condition(), x -> new int[2]);
            if (hit) pc[0]++;
            pc[1]++;
        }
        return new Stats(cleanN, cleanF, corrN, det, other, per);
    }

    private static Stats sum(List<Stats> parts) {
        int a = 0, b = 0, c = 0, d = 0, e = 0;
        Map<String, int[]> per = new LinkedHashMap<>();
        for (Stats s : parts) {
            a += s.cleanStudies();
            b += s.cleanFlagged();
            c += s.corruptedStudies();
            d += s.detected();
            e += s.otherFlagged();
            s.perCondition().forEach((k, v) -> {
                int[] t = per.computeIfAbsent(k, x -> new int[2]);
                t[0] += v[0];
                t[1] += v[1];
            });
        }
        return new Stats(a, b, c, d, e, per);
    }

    private static double[] unbox(List<Double> x) {
        return x.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
