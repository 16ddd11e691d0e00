package org.cloe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.Modality;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.StudyGeometry;
import org.cloe4j.data.TrainingGeometry;
import org.cloe4j.data.Volume;
import org.cloe4j.data.NiftiReader;
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

    @Mixin SegmentationOptions segmentation;

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
        List<PreparedCase> cases = cohortOptions.load(cohort, CaseLoader.set(s, isSet ? split : "test"),
                m.config().inputNormalisation());
        Files.createDirectories(out);
        TrainingGeometry grid = TrainingGeometry.read(ckpt);
        List<Evaluator.TestCase> tests = onModelGrid(cohort, cases, grid, m.config().patch(), m.config().inputNormalisation());
        long moved = tests.stream().filter(t -> t.geometry() != null && !t.geometry().isIdentity()).count();
        spec.commandLine().getOut().printf("test cases segmented as cloe predict does (model grid %s; %d of %d resampled "
                + "or reoriented to it), scored on their own grid%n", grid, moved, tests.size());
        Evaluator.Report r = new Evaluator(m, segmentation.gaussian, segmentation.etMinVoxels, !keepAllComponents, segmentation.window).evaluateTests(tests, cohortOptions.progress());
        String md = Evaluator.write(r, out, "CLoE " + m.config().preset() + " — " + cohort.root().getFileName());
        spec.commandLine().getOut().println(md);
        spec.commandLine().getOut().println("tables and chart in " + out);
        return 0;
    }

    /**
     * Each case as {@code cloe predict} sees it: brought to the model's recorded training grid (orientation, voxel size)
     * and cropped to the head as predict crops it (at least a patch per axis), while the labels are scored on the
     * case's own grid. A checkpoint without a recorded grid (written before grids were recorded) evaluates every case
     * as the training cache prepared it.
     */
    static List<Evaluator.TestCase> onModelGrid(Cohort cohort, List<PreparedCase> cases, TrainingGeometry grid, int patch,
                                                Preprocessor.Normalisation normalisation) {
        List<Evaluator.TestCase> out = new ArrayList<>();
        NiftiReader reader = new NiftiReader();
        Preprocessor pre = new Preprocessor(patch, Preprocessor.DEFAULT_AFFINE_TOLERANCE, normalisation); // as the Cloe API's
        for (PreparedCase c : cases) {
            if (!grid.recorded()) {
                out.add(Evaluator.TestCase.asIs(c));
                continue;
            }
            StudyGeometry g = StudyGeometry.of(c.geometry(), null, grid);
            CaseRecord rec = cohort.get(c.id());
            Map<Modality, Volume> images = new LinkedHashMap<>();
            for (var e : rec.images().entrySet()) {
                Volume file = reader.load(e.getValue().file());
                images.put(e.getKey(), file.volumes() == 1 ? file : file.volume(e.getValue().volume()));
            }
            PreparedCase moved = pre.prepare(c.id(), c.modalities(), g.toModel(images), null, c.scheme());
            out.add(new Evaluator.TestCase(c, moved, g));
        }
        return out;
    }
}
