package org.cloe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.cloe4j.model.ModelCheckpoint;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.Modality;
import org.cloe4j.eval.CorruptionStudy;
import org.cloe4j.model.CloeModel;
import org.cloe4j.train.Checkpoint;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cloe corruption-study}: the corrupted sequence's gate weight and the Dice, per corruption kind and strength. */
@Command(name = "corruption-study", mixinStandardHelpOptions = true,
        description = {"Corrupts one sequence of each test case in memory (noise, ghosting, bias, wrong-sequence at",
            "the given strengths), segments with every sequence given and reports the corrupted sequence's gate weight",
            "w, agreement u and Dice WT/TC/ET, beside the clean cases and the sequence left out (Markdown, CSV, PNG)."})
public final class CorruptionStudyCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, arity = "1..*", description = {"checkpoint folder, run folder or",
            "model.safetensors; several (e.g. CLoE and its no-gate and no-weighted-fusion ablations) are studied on",
            "the same corrupted inputs, each into OUT/<label>, and compared in OUT/comparison.md, .csv and .png"})
    List<Path> models;

    @Option(names = "--sequence", required = true, description = "the sequence to corrupt")
    String sequence;

    @Option(names = "--conditions", split = ",", defaultValue = "noise:0.3,noise:1.0,ghosting:0.3,ghosting:0.7,bias:0.7,bias:1.5,wrong-sequence",
            description = "KIND:STRENGTH list (default: ${DEFAULT-VALUE})")
    List<String> conditions;

    @Option(names = "--set", defaultValue = "test", description = "split set (default: ${DEFAULT-VALUE})")
    String set;

    @Option(names = "--out", required = true, description = "folder for corruption.md, .csv and .png")
    Path out;

    @Option(names = "--reuse", description = {"with several --model: take a model's rows from OUT/<label>/corruption.csv",
            "when it lists the same conditions (e.g. written by an earlier run of one model into OUT/<label>) instead",
            "of segmenting again"})
    boolean reuse;

    @Mixin CohortOptions cohortOptions;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        Cohort cohort = cohortOptions.open();
        List<String> ids = CaseLoader.set(CaseLoader.split(cohort, null), set);
        Modality target = Modality.of(sequence);
        List<CorruptionStudy.Condition> conds = conditions.stream().map(CorruptionStudy.Condition::parse).toList();
        // load every model first, so that a bad path or a model without the sequence fails before hours of work
        Map<String, CloeModel> loaded = new LinkedHashMap<>();
        for (Path p : models) {
            CloeModel m = ModelCheckpoint.loadModel(ModelCheckpoint.resolve(p), backend.get());
            if (!m.config().modalities().contains(target)) {
                throw new IllegalArgumentException("model " + p + " has no sequence " + sequence + " (it has "
                        + m.config().modalities() + ")");
            }
            String label = label(m);
            for (int i = 2; loaded.containsKey(label); i++) label = label(m) + "#" + i;
            loaded.put(label, m);
        }
        Files.createDirectories(out);
        Map<String, List<CorruptionStudy.Row>> byModel = new LinkedHashMap<>();
        for (var e : loaded.entrySet()) {
            CloeModel m = e.getValue();
            Path dir = loaded.size() == 1 ? out : out.resolve(e.getKey());
            List<CorruptionStudy.Row> rows = reuse && loaded.size() > 1
                    ? CorruptionStudy.read(dir.resolve("corruption.csv"), conds, target) : null;
            if (rows != null) {
                spec.commandLine().getErr().println("corruption-study: " + e.getKey() + " from " + dir.resolve("corruption.csv"));
                byModel.put(e.getKey(), rows);
                continue;
            }
            rows = CorruptionStudy.run(m, cohort.cases(ids), target, conds, false);
            byModel.put(e.getKey(), rows);
            String title = "Corrupted " + sequence + " — " + m.config().preset()
                    + (m.config().ablations().isEmpty() ? "" : " " + m.config().ablations()) + " — " + cohort.root().getFileName();
            Files.createDirectories(dir);
            spec.commandLine().getOut().println(CorruptionStudy.write(rows, dir, title, target));
        }
        if (loaded.size() > 1) {
            String title = "Corrupted " + sequence + " — " + String.join(" vs ", loaded.keySet()) + " — "
                    + cohort.root().getFileName();
            spec.commandLine().getOut().println(CorruptionStudy.writeComparison(byModel, out, title, target));
        }
        return 0;
    }

    /** "CLoE" for the full model, else its ablations' command-line names joined by '+'. */
    static String label(CloeModel m) {
        if (m.config().ablations().isEmpty()) return "CLoE";
        return String.join("+", m.config().ablations().stream().sorted().map(org.cloe4j.model.Ablation::cliName).toList());
    }
}
