package org.cloe4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.ImageStats;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.Volume;
import org.cloe4j.infer.Reliability;
import org.cloe4j.infer.Segmenter;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.io.Progress;
import org.cloe4j.model.ModalityMask;

/**
 * What agreement each sequence's expert showed on the validation cases at the end of training, and the levels below
 * which a new case's sequence is flagged as unreliable. Two rules:
 * <ul>
 * <li>{@link RelativeFlagRule} ({@code relative}, written by {@code cloe calibrate} and {@code cloe train} since it
 *     exists): a sequence's agreement and gate weight relative to the study's other sequences, its levels calibrated on
 *     the validation cases clean and with known corruptions applied; used when the study has every sequence of the
 *     model;
 * <li>the absolute rule, per sequence the mean and standard deviation of the global agreement u (all sequences given)
 *     and the level {@code mean − k·max(sd, minSd)}, the gate weight w likewise: used with fewer sequences, and for a
 *     {@value #FILE} written before the relative rule existed ({@code relative} null; {@link #needsRecalibration}).
 * </ul>
 * Stored beside the weights as {@value #FILE}, so a checkpoint carries its own calibration.
 *
 * @param modalities the sequences, in the model's order
 * @param meanU      mean u per sequence over the validation cases
 * @param sdU        its standard deviation
 * @param meanW      mean gate weight w
 * @param sdW        its standard deviation
 * @param cases      number of validation cases
 * @param k          how many standard deviations below the mean flag a sequence
 * @param minSd      floor on the standard deviations (a handful of validation cases underestimates them)
 * @param relative   the relative rule, or null (an older file, or calibrated without corruptions)
 * @param images     the image checks' levels ({@link ImageCheckLevels}), or null (a file written before they existed)
 */
public record ReliabilityThresholds(List<Modality> modalities, double[] meanU, double[] sdU, double[] meanW, double[] sdW,
                                    int cases, double k, double minSd, RelativeFlagRule relative,
                                    ImageCheckLevels images) {
    /** The file in a checkpoint folder. */
    public static final String FILE = "reliability.json";
    /** Fewest validation cases the relative rule is fitted on. */
    public static final int MIN_RELATIVE_CASES = 2;
    /** Default k: three standard deviations. */
    public static final double DEFAULT_K = 3;
    /** Default floor on the standard deviation of u and w. */
    public static final double DEFAULT_MIN_SD = 0.02;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Absolute levels only (as before the relative rule). */
    public ReliabilityThresholds(List<Modality> modalities, double[] meanU, double[] sdU, double[] meanW, double[] sdW,
                                 int cases, double k, double minSd) {
        this(modalities, meanU, sdU, meanW, sdW, cases, k, minSd, null, null);
    }

    /** Agreement levels without image checks (as before they existed). */
    public ReliabilityThresholds(List<Modality> modalities, double[] meanU, double[] sdU, double[] meanW, double[] sdW,
                                 int cases, double k, double minSd, RelativeFlagRule relative) {
        this(modalities, meanU, sdU, meanW, sdW, cases, k, minSd, relative, null);
    }

    /** These levels with the image checks' levels {@code levels} (null: none). */
    public ReliabilityThresholds withImages(ImageCheckLevels levels) {
        return new ReliabilityThresholds(modalities, meanU, sdU, meanW, sdW, cases, k, minSd, relative, levels);
    }

    /** The image checks of a study measured as {@code s}: with this file's levels, or duplicates only without them. */
    public ImageCheckLevels.Result imageChecks(ImageStats s) {
        return ImageCheckLevels.check(images, s);
    }

    public ReliabilityThresholds {
        modalities = List.copyOf(modalities);
        if (relative != null && !relative.modalities().equals(modalities)) {
            throw new IllegalArgumentException("relative rule for " + relative.modalities() + ", levels for " + modalities);
        }
        if (images != null && !images.modalities().equals(modalities)) {
            throw new IllegalArgumentException("image checks for " + images.modalities() + ", levels for " + modalities);
        }
        int n = modalities.size();
        if (meanU.length != n || sdU.length != n || meanW.length != n || sdW.length != n) {
            throw new IllegalArgumentException("one value per sequence expected");
        }
    }

    /** Flag level of u for sequence {@code i}. */
    public double thresholdU(int i) {
        return meanU[i] - k * Math.max(sdU[i], minSd);
    }

    /** Flag level of w for sequence {@code i}. */
    public double thresholdW(int i) {
        return meanW[i] - k * Math.max(sdW[i], minSd);
    }

    /**
     * Whether this file has no relative rule (written before it existed, or calibrated without corruptions or on fewer
     * than {@value #MIN_RELATIVE_CASES} validation cases): only the absolute levels apply.
     */
    public boolean needsRecalibration() {
        return relative == null;
    }

    /**
     * A sequence flagged as unreliable: the measure that fell below its level ("agreement u", "gate weight w", or the
     * relative rule's "agreement relative to the other sequences", "gate weight relative to an equal share"), its
     * value and level, and what the level means.
     */
    public record Flag(Modality modality, String measure, double value, double threshold, String detail) {
        public String message() {
            return String.format(Locale.ROOT, "sequence %s looks unreliable: %s = %.3f, below %.3f (%s); "
                    + "check it for noise, motion, bias or a wrong sequence under this name", modality, measure, value,
                    threshold, detail);
        }
    }

    /** Whether the relative rule applies to a study with {@code names} given: every sequence of the model, no other. */
    public boolean relativeApplies(List<Modality> names) {
        return relative != null && names.size() == modalities.size() && names.containsAll(modalities);
    }

    /**
     * The flags for one segmentation's reliability (u is NaN when one sequence was given: only w is checked): the
     * relative rule when it {@link #relativeApplies applies}, else the absolute one.
     */
    public List<Flag> flags(List<Modality> names, double[] u, double[] w) {
        if (relativeApplies(names)) return relativeFlags(names, u, w);
        List<Flag> out = new ArrayList<>();
        for (int j = 0; j < names.size(); j++) {
            int i = modalities.indexOf(names.get(j));
            if (i < 0) continue;
            if (!Double.isNaN(u[j]) && u[j] < thresholdU(i)) {
                out.add(new Flag(names.get(j), "agreement u", u[j], thresholdU(i), level("validation mean", meanU[i])));
            } else if (names.size() == modalities.size() && w[j] < thresholdW(i)) {
                // w is compared only with every sequence given: with fewer, the weights are shared among fewer
                out.add(new Flag(names.get(j), "gate weight w", w[j], thresholdW(i), level("validation mean", meanW[i])));
            }
        }
        return out;
    }

    private static String level(String what, double v) {
        return String.format(Locale.ROOT, "%s %.3f", what, v);
    }

    /** The relative rule's scores of a study with every sequence given, in {@code names}' order: {relU[], relW[]}. */
    public double[][] relativeScores(List<Modality> names, double[] u, double[] w) {
        double[] uu = new double[modalities.size()], ww = new double[modalities.size()];
        for (int j = 0; j < names.size(); j++) {
            uu[modalities.indexOf(names.get(j))] = u[j];
            ww[modalities.indexOf(names.get(j))] = w[j];
        }
        double[] ru = relative.relativeU(uu), rw = relative.relativeW(ww);
        double[][] out = new double[2][names.size()];
        for (int j = 0; j < names.size(); j++) {
            out[0][j] = ru[modalities.indexOf(names.get(j))];
            out[1][j] = rw[modalities.indexOf(names.get(j))];
        }
        return out;
    }

    private List<Flag> relativeFlags(List<Modality> names, double[] u, double[] w) {
        double[][] s = relativeScores(names, u, w);
        String rates = relativeRates();
        List<Flag> out = new ArrayList<>();
        for (int j = 0; j < names.size(); j++) {
            if (s[0][j] < relative.thresholdU()) {
                out.add(new Flag(names.get(j), "agreement relative to the other sequences", s[0][j], relative.thresholdU(),
                        String.format(Locale.ROOT, "u %.3f; 0 is this sequence's usual standing on clean validation cases; %s", u[j], rates)));
            } else if (s[1][j] < relative.thresholdW()) {
                out.add(new Flag(names.get(j), "gate weight relative to an equal share", s[1][j], relative.thresholdW(),
                        String.format(Locale.ROOT, "w %.3f; 0 is this sequence's usual share on clean validation cases; %s", w[j], rates)));
            }
        }
        return out;
    }

    /** The relative rule's measured rates, in words (leaving one validation case out when there were several). */
    public String relativeRates() {
        RelativeFlagRule.Stats st = relative.leaveOneOut() != null ? relative.leaveOneOut() : relative.inSample();
        return String.format(Locale.ROOT, "level calibrated on %d validation cases: %d of %d clean studies flagged, %d of %d "
                        + "corrupted sequences found%s", relative.cases(), st.cleanFlagged(), st.cleanStudies(), st.detected(),
                st.corruptedStudies(), relative.leaveOneOut() != null ? ", each case left out of its own calibration" : ", in-sample");
    }

    /**
     * Measures u and w on {@code validation} (every sequence given) with {@code segmenter}'s model, clean, and, for the
     * relative rule, with each of {@code conditions} applied to each sequence in turn (none, or fewer than
     * {@value #MIN_RELATIVE_CASES} cases: absolute levels only); a progress bar (rate and ETA) on stderr when
     * {@code progress}, one step per segmentation: 1 + conditions × sequences per validation case.
     */
    public static ReliabilityThresholds calibrate(Segmenter segmenter, List<Modality> modalities, List<CaseRecord> validation,
                                                  List<CorruptionStudy.Condition> conditions, long seed, boolean progress) {
        if (validation.isEmpty()) throw new IllegalArgumentException("calibration needs validation cases");
        // with one validation case every clean relative score is 0 by construction and the level would sit at 0
        if (validation.size() < MIN_RELATIVE_CASES) conditions = List.of();
        List<RelativeFlagRule.Measurement> ms;
        List<ImageStats> images = new ArrayList<>();
        long total = (long) validation.size() * (1 + (long) conditions.size() * modalities.size());
        try (Progress bar = Progress.start("calibrate", total, "segmentation", progress)) {
            ms = measure(segmenter, modalities, validation, conditions, seed, bar, images);
        }
        List<RelativeFlagRule.Measurement> clean = ms.stream().filter(RelativeFlagRule.Measurement::clean).toList();
        int n = modalities.size(), m = clean.size();
        double[][] u = new double[n][m], w = new double[n][m];
        for (int c = 0; c < m; c++) {
            for (int i = 0; i < n; i++) {
                u[i][c] = clean.get(c).u()[i];
                w[i][c] = clean.get(c).w()[i];
            }
        }
        double[] mu = new double[n], su = new double[n], mw = new double[n], sw = new double[n];
        for (int i = 0; i < n; i++) {
            mu[i] = mean(u[i]);
            su[i] = sd(u[i], mu[i]);
            mw[i] = mean(w[i]);
            sw[i] = sd(w[i], mw[i]);
        }
        RelativeFlagRule rel = conditions.isEmpty() || n < 2 ? null
                : RelativeFlagRule.fit(modalities, conditions.stream().map(CorruptionStudy.Condition::label).toList(), ms);
        return new ReliabilityThresholds(modalities, mu, su, mw, sw, m, DEFAULT_K, DEFAULT_MIN_SD, rel,
                ImageCheckLevels.calibrate(modalities, images));
    }

    /** The image checks' levels from {@code validation}'s clean images (every sequence given; no model needed). */
    public static ImageCheckLevels calibrateImages(List<Modality> modalities, List<CaseRecord> validation) {
        if (validation.isEmpty()) throw new IllegalArgumentException("calibration needs validation cases");
        List<ImageStats> images = new ArrayList<>();
        for (CaseRecord r : validation) {
            Map<Modality, Volume> raw = readImages(r, modalities);
            if (!raw.isEmpty()) images.add(ImageStats.measure(raw));
        }
        if (images.isEmpty()) throw new IllegalArgumentException("no case has any of the sequences " + modalities);
        return ImageCheckLevels.calibrate(modalities, images);
    }

    /** A case's images of {@code modalities}, in that order (a sequence the case lacks is left out: its values are not counted). */
    private static Map<Modality, Volume> readImages(CaseRecord r, List<Modality> modalities) {
        Map<Modality, Volume> raw = new LinkedHashMap<>();
        for (Modality m : modalities) {
            CaseRecord.ImageSource src = r.images().get(m);
            if (src == null) continue;
            Volume v = NiftiReader.read(src.file());
            raw.put(m, v.volumes() == 1 ? v : v.volume(src.volume()));
        }
        return raw;
    }

    /**
     * Segments each validation case with every sequence given: clean, then with each condition applied to each sequence
     * in turn ({@link org.cloe4j.data.Corruption#apply} on the raw images, seeded from {@code seed}, the case and the
     * run), each prepared as the clean case is. u and w come back in {@code modalities}' order.
     */
    static List<RelativeFlagRule.Measurement> measure(Segmenter segmenter, List<Modality> modalities,
                                                     List<CaseRecord> validation,
                                                     List<CorruptionStudy.Condition> conditions, long seed,
                                                     Progress bar, List<ImageStats> images) {
        ModalityMask full = ModalityMask.full(modalities);
        Preprocessor pre = new Preprocessor(Preprocessor.DEFAULT_MIN_CROP, Preprocessor.DEFAULT_AFFINE_TOLERANCE,
                segmenter.model().config().inputNormalisation());
        List<RelativeFlagRule.Measurement> out = new ArrayList<>();
        for (int c = 0; c < validation.size(); c++) {
            CaseRecord r = validation.get(c);
            Map<Modality, Volume> raw = new LinkedHashMap<>();
            for (var e : r.images().entrySet()) {
                Volume v = NiftiReader.read(e.getValue().file());
                raw.put(e.getKey(), v.volumes() == 1 ? v : v.volume(e.getValue().volume()));
            }
            Volume label = r.label() == null ? null : NiftiReader.read(r.label());
            images.add(ImageStats.measure(orderedAs(raw, modalities)));
            out.add(measureOne(segmenter, modalities, full, pre, r, raw, label, c, null, -1));
            bar.step(r.id() + " clean");
            int run = 0;
            for (CorruptionStudy.Condition cond : conditions) {
                for (int i = 0; i < modalities.size(); i++) {
                    Map<Modality, Volume> in = new LinkedHashMap<>(raw);
                    in.put(modalities.get(i), cond.kind().apply(raw, modalities.get(i), cond.strength(),
                            seed * 1_000_003L + 1_009L * c + (++run)));
                    out.add(measureOne(segmenter, modalities, full, pre, r, in, label, c, cond.label(), i));
                    bar.step(r.id() + " " + cond.label() + " on " + modalities.get(i));
                }
            }
        }
        return out;
    }

    private static Map<Modality, Volume> orderedAs(Map<Modality, Volume> raw, List<Modality> modalities) {
        Map<Modality, Volume> out = new LinkedHashMap<>();
        for (Modality m : modalities) if (raw.containsKey(m)) out.put(m, raw.get(m));
        return out;
    }

    private static RelativeFlagRule.Measurement measureOne(Segmenter segmenter, List<Modality> modalities, ModalityMask full,
                                                           Preprocessor pre, CaseRecord r, Map<Modality, Volume> images,
                                                           Volume label, int c, String condition, int corrupted) {
        PreparedCase p = pre.prepare(r.id(), List.copyOf(images.keySet()), images, label, r.scheme());
        Reliability rel = segmenter.segment(p, full).reliability();
        int n = modalities.size();
        double[] u = new double[n], w = new double[n];
        for (int j = 0; j < rel.modalities().size(); j++) {
            int i = modalities.indexOf(rel.modalities().get(j));
            u[i] = rel.u()[j];
            w[i] = rel.w()[j];
        }
        return new RelativeFlagRule.Measurement(c, condition, corrupted, u, w);
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    private static double sd(double[] x, double mean) {
        if (x.length < 2) return 0;
        double s = 0;
        for (double v : x) s += (v - mean) * (v - mean);
        return Math.sqrt(s / (x.length - 1));
    }

    /** Writes {@value #FILE} into the checkpoint folder {@code ckpt}. */
    public void write(Path ckpt) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("cases", cases).put("k", k).put("minSd", minSd);
        var arr = root.putArray("sequences");
        for (int i = 0; i < modalities.size(); i++) {
            ObjectNode o = arr.addObject();
            o.put("name", modalities.get(i).name());
            o.put("meanU", meanU[i]).put("sdU", sdU[i]).put("thresholdU", thresholdU(i));
            o.put("meanW", meanW[i]).put("sdW", sdW[i]).put("thresholdW", thresholdW(i));
            if (relative != null) o.put("offsetRelativeU", relative.offsetU()[i]).put("offsetRelativeW", relative.offsetW()[i]);
        }
        if (relative != null) writeRelative(root.putObject("relative"));
        if (images != null) images.writeTo(root.putObject("imageChecks"));
        AtomicFiles.writeString(ckpt.resolve(FILE), JSON.writeValueAsString(root));
    }

    /** The thresholds stored in checkpoint folder {@code ckpt}, or null when it has none (trained without validation). */
    public static ReliabilityThresholds read(Path ckpt) throws IOException {
        Path f = ckpt.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        JsonNode root = JSON.readTree(f.toFile());
        JsonNode seqs = root.path("sequences");
        int n = seqs.size();
        List<Modality> names = new ArrayList<>();
        double[] mu = new double[n], su = new double[n], mw = new double[n], sw = new double[n];
        for (int i = 0; i < n; i++) {
            JsonNode o = seqs.get(i);
            names.add(Modality.of(o.path("name").asText()));
            mu[i] = o.path("meanU").asDouble();
            su[i] = o.path("sdU").asDouble();
            mw[i] = o.path("meanW").asDouble();
            sw[i] = o.path("sdW").asDouble();
        }
        RelativeFlagRule rel = null;
        JsonNode r = root.path("relative");
        if (r.isObject()) {
            double[] ou = new double[n], ow = new double[n];
            for (int i = 0; i < n; i++) {
                ou[i] = number(seqs.get(i), "offsetRelativeU", f);
                ow[i] = number(seqs.get(i), "offsetRelativeW", f);
            }
            List<String> conds = new ArrayList<>();
            r.path("conditions").forEach(c -> conds.add(c.asText()));
            rel = new RelativeFlagRule(names, ou, ow, number(r, "thresholdRelativeU", f), number(r, "thresholdRelativeW", f),
                    conds, r.path("cases").asInt(), readStats(r.path("inSample")), readStats(r.path("leaveOneCaseOut")));
        }
        return new ReliabilityThresholds(names, mu, su, mw, sw, root.path("cases").asInt(), root.path("k").asDouble(DEFAULT_K),
                root.path("minSd").asDouble(DEFAULT_MIN_SD), rel, readImageChecks(root.path("imageChecks"), names, f));
    }

    private static ImageCheckLevels readImageChecks(JsonNode o, List<Modality> names, Path f) throws IOException {
        try {
            return ImageCheckLevels.readFrom(o, names);
        } catch (IllegalArgumentException e) {
            throw new IOException(f + ": " + e.getMessage() + "; run `cloe calibrate` again", e);
        }
    }

    private static double number(JsonNode o, String field, Path f) throws IOException {
        JsonNode v = o.path(field);
        if (v.isNumber()) return v.asDouble();
        if ("-Infinity".equals(v.asText())) return Double.NEGATIVE_INFINITY;
        throw new IOException(f + ": field " + field + " missing or not a number (" + v + "); run `cloe calibrate` again");
    }

    private void writeRelative(ObjectNode r) {
        r.put("rule", "a sequence is flagged when u minus the median of the other sequences' u, less offsetRelativeU, is "
                + "below thresholdRelativeU, or k·w less offsetRelativeW is below thresholdRelativeW (every sequence given)");
        putNumber(r, "thresholdRelativeU", relative.thresholdU());
        putNumber(r, "thresholdRelativeW", relative.thresholdW());
        r.put("cases", relative.cases());
        var c = r.putArray("conditions");
        relative.conditions().forEach(c::add);
        writeStats(r.putObject("inSample"), relative.inSample());
        if (relative.leaveOneOut() != null) writeStats(r.putObject("leaveOneCaseOut"), relative.leaveOneOut());
    }

    private static void putNumber(ObjectNode o, String field, double v) {
        if (Double.isFinite(v)) o.put(field, v); else o.put(field, String.valueOf(v)); // JSON has no infinity
    }

    private static void writeStats(ObjectNode o, RelativeFlagRule.Stats s) {
        o.put("cleanStudies", s.cleanStudies()).put("cleanFlagged", s.cleanFlagged());
        putNumber(o, "cleanFalseFlagRate", s.falseFlagRate());
        o.put("corruptedStudies", s.corruptedStudies()).put("detected", s.detected());
        putNumber(o, "detectionRate", s.detectionRate());
        o.put("otherSequenceFlagged", s.otherFlagged());
        ObjectNode per = o.putObject("detectedPerCondition");
        s.perCondition().forEach((k, v) -> per.putObject(k).put("detected", v[0]).put("studies", v[1]));
    }

    private static RelativeFlagRule.Stats readStats(JsonNode o) {
        if (!o.isObject()) return null;
        Map<String, int[]> per = new LinkedHashMap<>();
        o.path("detectedPerCondition").properties().forEach(e ->
                per.put(e.getKey(), new int[] {e.getValue().path("detected").asInt(), e.getValue().path("studies").asInt()}));
        return new RelativeFlagRule.Stats(o.path("cleanStudies").asInt(), o.path("cleanFlagged").asInt(),
                o.path("corruptedStudies").asInt(), o.path("detected").asInt(), o.path("otherSequenceFlagged").asInt(), per);
    }
}
