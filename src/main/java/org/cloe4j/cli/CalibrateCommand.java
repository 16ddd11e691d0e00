package org.cloe4j.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.cloe4j.model.ModelCheckpoint;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.eval.ReliabilityThresholds;
import org.cloe4j.infer.Segmenter;
import org.cloe4j.model.CloeModel;
import org.cloe4j.train.Checkpoint;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cloe calibrate}: measures each sequence's agreement on validation cases and stores the flag thresholds with
 * the checkpoint ({@code cloe train} does this at its end when the split has validation cases).
 */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {"Measures each sequence's expert agreement u and gate weight w on the cohort's validation cases",
            "and stores the levels below which `cloe predict` flags a sequence (reliability.json in the checkpoint)."})
public final class CalibrateCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "checkpoint folder, run folder or model.safetensors")
    Path model;

    @Mixin CohortOptions cohortOptions;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        Path ckpt = ModelCheckpoint.resolve(model);
        CloeModel m = ModelCheckpoint.loadModel(ckpt, backend.get());
        Cohort cohort = cohortOptions.open();
        List<PreparedCase> val = cohortOptions.load(cohort, CaseLoader.split(cohort, null).val());
        calibrate(m, ckpt, val, spec.commandLine().getOut());
        return 0;
    }

    /** Calibrates {@code model} on {@code val}, writes the thresholds into {@code ckpt} and prints them. */
    static ReliabilityThresholds calibrate(CloeModel model, Path ckpt, List<PreparedCase> val, PrintWriter out) throws IOException {
        ReliabilityThresholds t = ReliabilityThresholds.calibrate(new Segmenter(model, false), model.config().modalities(), val);
        t.write(ckpt);
        out.printf("reliability thresholds from %d validation cases in %s:%n", t.cases(), ckpt.resolve(ReliabilityThresholds.FILE));
        for (int i = 0; i < t.modalities().size(); i++) {
            out.printf(Locale.ROOT, "  %-6s u %.3f ± %.3f (flag below %.3f), w %.3f ± %.3f (flag below %.3f)%n",
                    t.modalities().get(i), t.meanU()[i], t.sdU()[i], t.thresholdU(i), t.meanW()[i], t.sdW()[i], t.thresholdW(i));
        }
        return t;
    }
}
