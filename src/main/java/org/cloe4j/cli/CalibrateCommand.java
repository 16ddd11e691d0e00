package org.cloe4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.cloe4j.model.ModelCheckpoint;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.Split;
import org.cloe4j.eval.CorruptionStudy;
import org.cloe4j.eval.ImageCheckLevels;
import org.cloe4j.eval.RelativeFlagRule;
import org.cloe4j.eval.ReliabilityThresholds;
import org.cloe4j.infer.Segmenter;
import org.cloe4j.model.CloeModel;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cloe calibrate}: measures each sequence's agreement on validation cases, clean and with known corruptions,
 * and stores the flag levels with the checkpoint ({@code cloe train} does this at its end when the split has
 * validation cases).
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Measures each sequence's expert agreement u and gate weight w on the cohort's validation cases,",
            "clean and with each --flag-conditions corruption applied to each sequence in turn, and stores the levels",
            "below which `cloe predict` flags a sequence, with the measured false-flag and detection rates",
            "(reliability.json in the checkpoint)."})
public final class CalibrateCommand implements Callable<Integer> {
    /** The corruptions the relative flag rule is calibrated with by default: the strong ones of the corruption study. */
    static final String DEFAULT_FLAG_CONDITIONS = "noise:1.0,ghosting:0.7,bias:1.5,wrong-sequence";

    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "checkpoint folder, run folder or model.safetensors")
    Path model;

    @Option(names = "--flag-conditions", split = ",", defaultValue = DEFAULT_FLAG_CONDITIONS,
            description = {"KIND:STRENGTH corruptions applied to each validation case's sequences in turn to calibrate",
                "the relative flag (default: ${DEFAULT-VALUE}; 'none': absolute levels only). Each costs one",
                "segmentation per sequence and validation case"})
    List<String> flagConditions;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the corruptions (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--image-checks-only", description = {"only (re)calibrate the label-free image checks (duplicated",
        "or wrong sequences, noise) on the validation and training cases' images (at most 64) and add them to the",
        "checkpoint's existing reliability.json, keeping its agreement levels; needs no segmentation"})
    boolean imageChecksOnly;

    @Mixin CohortOptions cohortOptions;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        List<CorruptionStudy.Condition> conds = conditions(flagConditions);
        Path ckpt = ModelCheckpoint.resolve(model);
        if (imageChecksOnly) return calibrateImages(ckpt);
        CloeModel m = ModelCheckpoint.loadModel(ckpt, backend.get());
        Cohort cohort = cohortOptions.open();
        Split split = CaseLoader.split(cohort, null);
        List<String> val = split.val();
        if (val.isEmpty()) throw new IllegalArgumentException("cohort " + cohort.root() + " has no validation cases to calibrate on");
        calibrate(m, ckpt, cohort.cases(val), imageCases(cohort, split), conds, seed, cohortOptions.progress(),
                spec.commandLine().getOut());
        return 0;
    }

    /** Most clean cases the image checks are calibrated on (reading each costs its files' decoding). */
    static final int MAX_IMAGE_CASES = 64;

    /**
     * The clean cases the image checks are calibrated on: the validation cases, then the training cases, at most
     * {@value #MAX_IMAGE_CASES}; the checks need no model, so the training images are as good a sample of the cohort.
     */
    static List<CaseRecord> imageCases(Cohort cohort, Split split) {
        List<String> ids = new java.util.ArrayList<>(split.val());
        ids.addAll(split.train());
        return cohort.cases(ids.subList(0, Math.min(ids.size(), MAX_IMAGE_CASES)));
    }

    private int calibrateImages(Path ckpt) throws IOException {
        ReliabilityThresholds t = ReliabilityThresholds.read(ckpt);
        if (t == null) {
            throw new IllegalArgumentException(ckpt + " has no " + ReliabilityThresholds.FILE + " to add the image checks to;"
                    + " run `cloe calibrate` without --image-checks-only");
        }
        Cohort cohort = cohortOptions.open();
        List<CaseRecord> cases = imageCases(cohort, CaseLoader.split(cohort, null));
        if (cases.isEmpty()) throw new IllegalArgumentException("cohort " + cohort.root() + " has no validation or training cases to calibrate on");
        ReliabilityThresholds with = t.withImages(ReliabilityThresholds.calibrateImages(t.modalities(), cases));
        with.write(ckpt);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("image-check levels from %d clean cases (validation and training) added to %s (agreement levels kept):%n",
                cases.size(), ckpt.resolve(ReliabilityThresholds.FILE));
        printImages(out, with.images());
        if (with.images().looFlagged() >= 0) out.println("  " + with.images().looRate().substring(2));
        return 0;
    }

    private static void printImages(PrintWriter out, ImageCheckLevels l) {
        for (int i = 0; i < l.modalities().size(); i++) {
            out.printf(Locale.ROOT, "  %-6s noise %.3f ± %.3f (flag above %.3f)%n", l.modalities().get(i), l.noiseMean()[i],
                    l.noiseSd()[i], l.noiseLevel(i));
        }
        for (int i = 0; i < l.modalities().size(); i++) {
            for (int j = i + 1; j < l.modalities().size(); j++) {
                double m = l.rMean()[i][j], e = l.rMargin(i, j);
                out.printf(Locale.ROOT, "  r %s-%s %.3f ± %.3f (flag outside [%.3f, %.3f])%n", l.modalities().get(i),
                        l.modalities().get(j), m, l.rSd()[i][j], m - e, m + e);
            }
        }
        out.printf(Locale.ROOT, "  duplicate: any pair with |r| > %.2f%n", ImageCheckLevels.DUPLICATE_R);
    }

    /** The parsed --flag-conditions ("none": empty). */
    static List<CorruptionStudy.Condition> conditions(List<String> specs) {
        if (specs.size() == 1 && specs.get(0).trim().equals("none")) return List.of();
        return specs.stream().map(CorruptionStudy.Condition::parse).toList();
    }

    /** Calibrates {@code model} on {@code val} (a progress bar on stderr when {@code progress}), writes the levels into {@code ckpt} and prints them. */
    static ReliabilityThresholds calibrate(CloeModel model, Path ckpt, List<CaseRecord> val, List<CaseRecord> imageCases,
                                           List<CorruptionStudy.Condition> conditions, long seed, boolean progress,
                                           PrintWriter out) throws IOException {
        ReliabilityThresholds t = ReliabilityThresholds.calibrate(new Segmenter(model, false), model.config().modalities(),
                val, conditions, seed, progress);
        if (imageCases.size() > val.size()) { // more clean cases than the validation set: the image checks use them all
            t = t.withImages(ReliabilityThresholds.calibrateImages(model.config().modalities(), imageCases));
        }
        t.write(ckpt);
        out.printf("reliability levels from %d validation cases in %s:%n", t.cases(), ckpt.resolve(ReliabilityThresholds.FILE));
        for (int i = 0; i < t.modalities().size(); i++) {
            out.printf(Locale.ROOT, "  %-6s u %.3f ± %.3f (flag below %.3f), w %.3f ± %.3f (flag below %.3f)%n",
                    t.modalities().get(i), t.meanU()[i], t.sdU()[i], t.thresholdU(i), t.meanW()[i], t.sdW()[i], t.thresholdW(i));
        }
        RelativeFlagRule r = t.relative();
        if (r == null && !conditions.isEmpty() && val.size() < ReliabilityThresholds.MIN_RELATIVE_CASES) {
            out.printf("  no relative levels: they need at least %d validation cases%n", ReliabilityThresholds.MIN_RELATIVE_CASES);
        }
        if (r != null) {
            out.printf(Locale.ROOT, "  relative rule (every sequence given): flag when u − median(others' u) − offset < %.4f"
                    + " or k·w − offset < %.4f%n", r.thresholdU(), r.thresholdW());
            print(out, "in-sample", r.inSample());
            if (r.leaveOneOut() != null) print(out, "leaving each case out", r.leaveOneOut());
        }
        if (t.images() != null) {
            out.printf("  image checks (label-free, on %d clean cases' images%s):%n", t.images().cases(), t.images().looRate());
            printImages(out, t.images());
        }
        return t;
    }

    private static void print(PrintWriter out, String how, RelativeFlagRule.Stats s) {
        out.printf(Locale.ROOT, "  %s: %d of %d clean studies flagged, %d of %d corrupted sequences found (another sequence"
                + " flagged in %d)%n", how, s.cleanFlagged(), s.cleanStudies(), s.detected(), s.corruptedStudies(), s.otherFlagged());
        s.perCondition().forEach((k, v) -> out.printf(Locale.ROOT, "    %-16s %d of %d%n", k, v[0], v[1]));
    }
}
