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
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiDatatype;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.NiftiWriter;
import org.cloe4j.data.Volume;
import org.cloe4j.data.AtomicFiles;
import org.cloe4j.eval.ReliabilityThresholds;
import org.cloe4j.train.Checkpoint;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cloe predict}: segments one study from any subset of its sequences. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Segments one study from whichever sequences it has: a label map (0/1/2/4) in the input's",
            "geometry, and a reliability report per sequence (agreement u, v and gate weight w)."})
public final class PredictCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "checkpoint folder, run folder or model.safetensors")
    Path model;

    @Option(names = "--flair", description = "FLAIR image (.nii/.nii.gz)")
    Path flair;

    @Option(names = "--t1ce", description = "T1ce image")
    Path t1ce;

    @Option(names = "--t1", description = "T1 image")
    Path t1;

    @Option(names = "--t2", description = "T2 image")
    Path t2;

    @Option(names = "--seq", paramLabel = "NAME=FILE", description = "another sequence by name (e.g. adc=ADC.nii.gz)")
    Map<String, Path> other = new LinkedHashMap<>();

    @Option(names = "--out", required = true, description = "label map to write (.nii.gz)")
    Path out;

    @Option(names = "--report", description = "reliability report to write (JSON)")
    Path report;

    @Option(names = "--gaussian", description = "Gaussian window weighting (nnU-Net) instead of plain averaging")
    boolean gaussian;

    @Option(names = "--et-min-voxels", defaultValue = "500",
            description = "ET post-processing: fewer predicted ET voxels than this become NCR (default: ${DEFAULT-VALUE})")
    int etMinVoxels;

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
        try (Cloe cloe = Cloe.load(model, backend.get(), gaussian, etMinVoxels)) {
            Map<Modality, Volume> volumes = new LinkedHashMap<>();
            files.forEach((m, f) -> volumes.put(m, NiftiReader.read(f)));
            Cloe.Result r = cloe.segment(volumes);
            NiftiWriter.write(r.labels(), out, NiftiDatatype.UINT8);
            List<ReliabilityThresholds.Flag> flags = flags(r, ReliabilityThresholds.read(Checkpoint.resolve(model)));
            for (ReliabilityThresholds.Flag f : flags) spec.commandLine().getErr().println("cloe predict: WARNING: " + f.message());
            String json = reportJson(r, files, flags);
            if (report != null) AtomicFiles.writeString(report, json);
            spec.commandLine().getOut().println("wrote " + out + (report != null ? " and " + report : ""));
            spec.commandLine().getOut().println(summary(r));
        }
        return 0;
    }

    static String summary(Cloe.Result r) {
        StringBuilder sb = new StringBuilder("sequences " + r.mask().label() + "; reliability:");
        Cloe.Reliability rel = r.reliability();
        for (int i = 0; i < rel.modalities().size(); i++) {
            sb.append(String.format(java.util.Locale.ROOT, "%n  %-6s u=%.3f v=%.3f w=%.3f", rel.modalities().get(i).displayName(),
                    rel.u()[i], rel.v()[i], rel.w()[i]));
        }
        return sb.toString();
    }

    /** The sequences whose agreement fell below the checkpoint's validation levels (none without thresholds). */
    static List<ReliabilityThresholds.Flag> flags(Cloe.Result r, ReliabilityThresholds t) {
        if (t == null) return List.of();
        Cloe.Reliability rel = r.reliability();
        return t.flags(rel.modalities().stream().map(Modality::name).toList(), rel.u(), rel.w());
    }

    static String reportJson(Cloe.Result r, Map<Modality, Path> files) throws Exception {
        return reportJson(r, files, List.of());
    }

    static String reportJson(Cloe.Result r, Map<Modality, Path> files, List<ReliabilityThresholds.Flag> flags) throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("sequences", r.mask().label());
        root.put("et_suppressed", r.etSuppressed());
        root.put("note", "u: mean cosine agreement of this sequence's expert with the others; v: the same inside the "
                + "learned tumour region; w: gate weight in the fusion. Low agreement is worth a second look. "
                + "u and v are null when only one sequence is given.");
        ArrayNode arr = root.putArray("modalities");
        Cloe.Reliability rel = r.reliability();
        for (int i = 0; i < rel.modalities().size(); i++) {
            ObjectNode m = arr.addObject();
            Modality mod = rel.modalities().get(i);
            m.put("name", mod.name());
            m.put("file", String.valueOf(files.get(mod)));
            if (Double.isNaN(rel.u()[i])) m.putNull("u"); else m.put("u", rel.u()[i]);
            if (Double.isNaN(rel.v()[i])) m.putNull("v"); else m.put("v", rel.v()[i]);
            m.put("w", rel.w()[i]);
            ReliabilityThresholds.Flag flag = flags.stream().filter(f -> f.modality().equals(mod.name())).findFirst().orElse(null);
            m.put("flagged", flag != null);
            if (flag != null) m.put("flag", flag.message());
        }
        return json.writeValueAsString(root);
    }
}
