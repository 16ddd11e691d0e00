package org.cloe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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

    @Option(names = "--model", required = true, description = "checkpoint folder, run folder or model.safetensors")
    Path model;

    @Option(names = "--sequence", required = true, description = "the sequence to corrupt")
    String sequence;

    @Option(names = "--conditions", split = ",", defaultValue = "noise:0.3,noise:1.0,ghosting:0.3,ghosting:0.7,bias:0.7,bias:1.5,wrong-sequence",
            description = "KIND:STRENGTH list (default: ${DEFAULT-VALUE})")
    List<String> conditions;

    @Option(names = "--set", defaultValue = "test", description = "split set (default: ${DEFAULT-VALUE})")
    String set;

    @Option(names = "--out", required = true, description = "folder for corruption.md, .csv and .png")
    Path out;

    @Mixin CohortOptions cohortOptions;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        CloeModel m = ModelCheckpoint.loadModel(ModelCheckpoint.resolve(model), backend.get());
        Cohort cohort = cohortOptions.open();
        List<String> ids = CaseLoader.set(CaseLoader.split(cohort, null), set);
        Modality target = Modality.of(sequence);
        if (!m.config().modalities().contains(target)) {
            throw new IllegalArgumentException("the model has no sequence " + sequence + " (it has " + m.config().modalities() + ")");
        }
        List<CorruptionStudy.Condition> conds = conditions.stream().map(CorruptionStudy.Condition::parse).toList();
        var rows = CorruptionStudy.run(m, cohort.cases(ids), target, conds, false);
        Files.createDirectories(out);
        String title = "Corrupted " + sequence + " — " + m.config().preset()
                + (m.config().ablations().isEmpty() ? "" : " " + m.config().ablations()) + " — " + cohort.root().getFileName();
        spec.commandLine().getOut().println(CorruptionStudy.write(rows, out, title, target));
        return 0;
    }
}
