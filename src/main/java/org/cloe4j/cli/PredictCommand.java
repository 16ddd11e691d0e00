package org.cloe4j.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.cloe4j.api.Cloe;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.LabelScheme;
import org.cloe4j.data.Modality;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.StudyGeometry;
import org.cloe4j.data.NiftiDatatype;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.NiftiWriter;
import org.cloe4j.data.Volume;
import org.cloe4j.eval.ImageCheckLevels;
import org.cloe4j.eval.ReliabilityThresholds;
import org.cloe4j.infer.Reliability;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.model.ModelCheckpoint;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cloe predict}: segments one study from any subset of its sequences. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Segments one study from whichever sequences it has: a label map (0/1/2/4, or 0/1/2/3 for",
            "BraTS 2023 naming) in the input's geometry, and a reliability report per sequence (agreement u, v and",
            "gate weight w). Any orientation and voxel size: the study is reoriented and resampled to the model's",
            "training grid and the labels mapped back. Images: .nii, .nii.gz, .hdr/.img pairs (NIfTI-1 or Analyze 7.5)."})
public final class PredictCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "checkpoint folder, run folder or model.safetensors")
    Path model;

    @Option(names = {"--flair", "--t2f"}, description = "FLAIR image (.nii, .nii.gz, .hdr/.img)")
    Path flair;

    @Option(names = {"--t1ce", "--t1c"}, description = "T1ce image")
    Path t1ce;

    @Option(names = {"--t1", "--t1n"}, description = "T1 image")
    Path t1;

    @Option(names = {"--t2", "--t2w"}, description = "T2 image")
    Path t2;

    @Option(names = "--seq", paramLabel = "NAME=FILE", description = "another sequence by name (e.g. adc=ADC.nii.gz)")
    Map<String, Path> other = new LinkedHashMap<>();

    @Option(names = "--out", required = true, description = "label map to write (.nii.gz)")
    Path out;

    @Option(names = "--report", description = "reliability report to write (JSON)")
    Path report;

    @Option(names = "--labels", defaultValue = "auto", paramLabel = "auto|brats2021|brats2023",
            description = {"label convention of the written map: brats2021 (ET = 4), brats2023 (ET = 3); auto: brats2023",
                "when an input file is named the BraTS 2023 way (*-t2f, -t1c, -t1n, -t2w), else brats2021"})
    String labels;

    @Mixin SegmentationOptions segmentation;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        Map<Modality, Path> files = new LinkedHashMap<>();
        if (flair != null) files.put(Modality.FLAIR, flair);
        if (t1ce != null) files.put(Modality.T1CE, t1ce);
        if (t1 != null) files.put(Modality.T1, t1);
        if (t2 != null) files.put(Modality.T2, t2);
        other.forEach((k, v) -> files.put(Modality.of(k), v));
        if (files.isEmpty()) throw new IllegalArgumentException("no sequence given: pass at least one of --flair, --t1ce, --t1, --t2, --seq");
        boolean brats2023 = switch (labels) {
            case "auto" -> files.values().stream().anyMatch(f -> Cohort.brats2023Modality(f) != null);
            case "brats2021" -> false;
            case "brats2023" -> true;
            default -> throw new IllegalArgumentException("--labels must be auto, brats2021 or brats2023, not '" + labels + "'");
        };
        try (Cloe cloe = Cloe.load(model, backend.get(), segmentation.gaussian, segmentation.etMinVoxels, segmentation.window)) {
            Map<Modality, Volume> volumes = new LinkedHashMap<>();
            files.forEach((m, f) -> volumes.put(m, NiftiReader.read(f)));
            StudyGeometry g = StudyGeometry.of(volumes, cloe.geometry(), Preprocessor.DEFAULT_AFFINE_TOLERANCE);
            if (!g.isIdentity()) spec.commandLine().getOut().println(g + " (model trained on " + cloe.geometry() + ")");
            Cloe.Result r = cloe.segment(volumes);
            boolean relabel = brats2023 && cloe.labelScheme() == LabelScheme.BRATS;
            NiftiWriter.write(relabel ? LabelScheme.BRATS.relabel(r.labels(), LabelScheme.BRATS_2023) : r.labels(), out,
                    NiftiDatatype.UINT8);
            ReliabilityThresholds levels = ReliabilityThresholds.read(ModelCheckpoint.resolve(model));
            List<ReliabilityThresholds.Flag> flags = flags(r, levels);
            for (ReliabilityThresholds.Flag f : flags) spec.commandLine().getErr().println("cloe predict: WARNING: " + f.message());
            ImageCheckLevels.Result images = imageChecks(r, levels);
            for (ImageCheckLevels.Finding f : images.findings()) {
                spec.commandLine().getErr().println("cloe predict: WARNING: " + f.message());
            }
            if (levels != null && !images.calibrated() && r.images().modalities().size() > 1) {
                spec.commandLine().getErr().println("cloe predict: note: the model's " + ReliabilityThresholds.FILE
                        + " has no image-check levels (written before they existed); of the image checks only near-exact"
                        + " duplicates (|r| > " + ImageCheckLevels.DUPLICATE_R + ") were looked for, not noise or a sequence"
                        + " that correlates unlike its own (run `cloe calibrate --model ... --data COHORT --image-checks-only`"
                        + " to add them)");
            }
            if (levels != null && levels.needsRecalibration()) {
                spec.commandLine().getErr().println("cloe predict: note: the model's " + ReliabilityThresholds.FILE + " has no"
                        + " relative reliability levels (written before they existed, or calibrated without corruptions or on"
                        + " one validation case); only the absolute levels, which rarely fire, were checked (run"
                        + " `cloe calibrate --model ... --data COHORT` to add them)");
            }
            String json = reportJson(r, files, g, cloe.labelScheme() != LabelScheme.BRATS ? cloe.labelScheme().name().toLowerCase(java.util.Locale.ROOT)
                    : relabel ? "brats2023 (ET = 3)" : "brats2021 (ET = 4)", flags, levels, images);
            if (report != null) AtomicFiles.writeString(report, json);
            spec.commandLine().getOut().println("wrote " + out + (report != null ? " and " + report : ""));
            spec.commandLine().getOut().println(summary(r));
        }
        return 0;
    }

    static String summary(Cloe.Result r) {
        StringBuilder sb = new StringBuilder("sequences " + r.mask().label() + "; reliability:");
        Reliability rel = r.reliability();
        for (int i = 0; i < rel.modalities().size(); i++) {
            sb.append(String.format(java.util.Locale.ROOT, "%n  %-6s u=%.3f v=%.3f w=%.3f", rel.modalities().get(i).displayName(),
                    rel.u()[i], rel.v()[i], rel.w()[i]));
        }
        return sb.toString();
    }

    /** The sequences whose agreement fell below the checkpoint's validation levels (none without thresholds). */
    static List<ReliabilityThresholds.Flag> flags(Cloe.Result r, ReliabilityThresholds t) {
        if (t == null) return List.of();
        Reliability rel = r.reliability();
        return t.flags(rel.modalities(), rel.u(), rel.w());
    }

    /** The image checks of a segmented study: with the checkpoint's levels, or duplicates only without them. */
    static ImageCheckLevels.Result imageChecks(Cloe.Result r, ReliabilityThresholds t) {
        return ImageCheckLevels.check(t == null ? null : t.images(), r.images());
    }

    static String reportJson(Cloe.Result r, Map<Modality, Path> files, StudyGeometry g, String convention,
                             List<ReliabilityThresholds.Flag> flags, ReliabilityThresholds levels,
                             ImageCheckLevels.Result images) throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("sequences", r.mask().label());
        root.put("et_suppressed", r.etSuppressed());
        root.put("labels", convention);
        ObjectNode geo = root.putObject("geometry");
        geo.put("orientation", g.inputOrientation().codes());
        ArrayNode spacing = geo.putArray("spacing_mm");
        for (double x : g.inputSpacing()) spacing.add(x);
        geo.put("on_model_grid_as_given", g.isIdentity());
        geo.put("resampled", g.resamples());
        Reliability rel = r.reliability();
        Map<Modality, String> names = new LinkedHashMap<>();
        files.forEach((m, f) -> names.put(m, String.valueOf(f)));
        ArrayNode arr = rel.writeTo(root, names);
        boolean relative = levels != null && levels.relativeApplies(rel.modalities());
        double[][] scores = relative ? levels.relativeScores(rel.modalities(), rel.u(), rel.w()) : null;
        for (int i = 0; i < rel.modalities().size(); i++) {
            Modality mod = rel.modalities().get(i);
            ReliabilityThresholds.Flag flag = flags.stream().filter(f -> f.modality().equals(mod)).findFirst().orElse(null);
            ObjectNode m = (ObjectNode) arr.get(i);
            if (relative) m.put("relative_u", scores[0][i]).put("relative_w", scores[1][i]);
            m.put("flagged", flag != null);
            if (flag != null) m.put("flag", flag.message());
            ObjectNode ic = m.putObject("image_checks");
            images.writeTo(ic, mod);
            ArrayNode msgs = ic.putArray("messages");
            images.findings().stream().filter(f -> f.sequences().contains(mod)).forEach(f -> msgs.add(f.message()));
        }
        ObjectNode irule = root.putObject("image_check_rule");
        irule.put("calibrated", images.calibrated());
        irule.put("duplicate_r", ImageCheckLevels.DUPLICATE_R);
        if (images.calibrated()) {
            irule.put("rule", "duplicate: |r| > duplicate_r between two sequences' intensities in the head; correlation: a"
                    + " pair is out of range when |r - clean mean| > max(" + (int) ImageCheckLevels.K + "·sd, "
                    + ImageCheckLevels.R_FLOOR + "), and the sequence with the most out-of-range pairs, at least two (one, with"
                    + " two sequences given) and one not a duplicate, is flagged; noise:"
                    + " the noise estimate above noise_level");
            irule.put("clean_cases", images.levels().cases());
            if (images.levels().looFlagged() >= 0) irule.put("leave_one_out_clean_flagged", images.levels().looFlagged());
        } else {
            irule.put("rule", "uncalibrated (" + (levels == null ? "no " + ReliabilityThresholds.FILE
                    : ReliabilityThresholds.FILE + " without image-check levels; run `cloe calibrate --image-checks-only`")
                    + "): only near-exact duplicates, |r| > duplicate_r, are flagged");
        }
        ObjectNode rule = root.putObject("flag_rule");
        if (levels == null) {
            rule.put("rule", "none: the model has no " + ReliabilityThresholds.FILE + " (trained without validation cases)");
        } else if (relative) {
            rule.put("rule", "relative: relative_u (u minus the median of the other sequences' u, less its clean validation"
                    + " mean) below threshold_relative_u, or relative_w (k·w less its clean validation mean) below"
                    + " threshold_relative_w");
            rule.put("threshold_relative_u", levels.relative().thresholdU()).put("threshold_relative_w", levels.relative().thresholdW());
            rule.put("calibration", levels.relativeRates());
        } else {
            rule.put("rule", levels.needsRecalibration()
                    ? "absolute (mean − 3·max(sd, 0.02) of u and w): the model's " + ReliabilityThresholds.FILE
                            + " has no relative levels; run `cloe calibrate`"
                    : "absolute (mean − 3·max(sd, 0.02) of u and w): the relative rule needs every sequence of the model");
        }
        return json.writeValueAsString(root);
    }
}
