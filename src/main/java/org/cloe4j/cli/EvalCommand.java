package org.cloe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import org.cloe4j.data.Cohort;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Split;
import org.cloe4j.eval.Evaluator;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModelCheckpoint;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cloe eval}: the 15-combination evaluation of a checkpoint on a cohort's test cases. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = {"Evaluates a checkpoint on every set of available sequences (15 for BraTS): Dice WT/TC/ET",
            "(ET raw and post-processed) and HD95 per case and mask, the table in the papers' order (Markdown, CSV),",
            "a PNG chart, and the published BraTS 2020 averages beside it."})
public final class EvalCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "checkpoint folder, run folder or model.safetensors")
    Path model;

    @Option(names = "--split", defaultValue = "test",
            description = "split set to evaluate (train, val, test, all) or a split file, whose test set is used (default: test)")
    String split;

    @Option(names = "--out", required = true, description = "folder for the tables and the chart")
    Path out;

    @Option(names = "--gaussian", description = "Gaussian window weighting (nnU-Net) instead of plain averaging")
    boolean gaussian;

    @Option(names = "--et-min-voxels", defaultValue = "500",
            description = "ET post-processing: fewer predicted ET voxels than this become NCR (default: ${DEFAULT-VALUE})")
    int etMinVoxels;

    @Option(names = "--keep-all-components", description = "score the map without the component post-processing (tumour components under a tenth of the largest removed)")
    boolean keepAllComponents;

    @Mixin CohortOptions cohortOptions;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        Path ckpt = ModelCheckpoint.resolve(model);
        CloeModel m = ModelCheckpoint.loadModel(ckpt, backend.get());
        Cohort cohort = cohortOptions.open();
        boolean isSet = List.of("train", "val", "test", "all").contains(split);
        Split s = CaseLoader.split(cohort, isSet ? null : Path.of(split));
        List<PreparedCase> cases = cohortOptions.load(cohort, CaseLoader.set(s, isSet ? split : "test"));
        Files.createDirectories(out);
        Evaluator.Report r = new Evaluator(m, gaussian, etMinVoxels, !keepAllComponents).evaluate(cases, cohortOptions.progress());
        String md = Evaluator.write(r, out, "CLoE " + m.config().preset() + " — " + cohort.root().getFileName());
        spec.commandLine().getOut().println(md);
        spec.commandLine().getOut().println("tables and chart in " + out);
        return 0;
    }
}
