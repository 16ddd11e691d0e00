package org.cloe4j.cli;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.cloe4j.backend.Backend;
import org.cloe4j.data.CasePicture;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.LabelMaps;
import org.cloe4j.data.Modality;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Split;
import org.cloe4j.eval.Evaluator;
import org.cloe4j.infer.Segmenter;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.io.Progress;
import org.cloe4j.model.Ablation;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.train.Trainer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cloe demo}: the whole job on a synthetic cohort — synthesise, train the tiny preset, evaluate held-out cases
 * under all 15 sequence sets, print the table and leave the run folder (checkpoint, curves, table, pictures).
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Synthesises a BraTS-like cohort, trains CLoE's tiny preset on it, evaluates the held-out cases",
            "with every set of available sequences and prints the table. Leaves OUT/ with the data, the run",
            "(checkpoints, train_log.csv, loss_curves.png), eval/ (table.md, table.csv, dice_by_mask.png) and case.png."})
public final class DemoCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", defaultValue = "runs/demo", description = "demo folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--cases", defaultValue = "20", description = "synthetic cases (default: ${DEFAULT-VALUE}; 60/20/20 split)")
    int cases;

    @Option(names = "--size", arity = "3", paramLabel = "N", description = "volume size X Y Z (default: 64 64 48)")
    int[] size = {64, 64, 48};

    @Option(names = "--epochs", description = "override the tiny preset's epochs")
    Integer epochs;

    @Option(names = "--iters", description = "override the tiny preset's iterations per epoch")
    Integer iters;

    @Option(names = "--ablations", description = "also train and evaluate each ablation (about 4× longer)")
    boolean ablations;

    @Option(names = "--seed", defaultValue = "7", description = "seed of the cohort and the training (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--seg-loss", defaultValue = "ce-dice", description = "segmentation loss: ce-dice (default) or rfnet (the loss of the demo figures measured before 2026-11-30)")
    String segLoss;

    @Option(names = "--augmentation", defaultValue = "appearance", description = "training augmentation: appearance (default) or rfnet (that of the demo figures measured before 2026-11-30 evening)")
    String augmentation;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        Instant t0 = Instant.now();
        Path dataDir = out.resolve("data");
        Cohort cohort;
        if (Files.isRegularFile(dataDir.resolve("split.json"))) {
            cohort = Cohort.open(dataDir);
            o.printf("[1/4] using the cohort already in %s (%d cases)%n", dataDir, cohort.size());
        } else {
            o.printf("[1/4] synthesising %d cases of %d×%d×%d in %s%n", cases, size[0], size[1], size[2], dataDir);
            cohort = new PhantomGenerator(size[0], size[1], size[2], seed).writeCohort(dataDir, cases, !quiet);
        }
        o.flush();
        Split split = CaseLoader.split(cohort, null);
        List<Modality> mods = cohort.modalities();
        CloeConfig cfg = CloeConfig.tiny(mods, cohort.labelScheme().classes()).withSeed(seed);
        List<PreparedCase> train = CaseLoader.load(cohort, split.train(), null, !quiet, cfg.inputNormalisation());
        List<PreparedCase> test = CaseLoader.load(cohort, split.test(), null, !quiet, cfg.inputNormalisation());
        Backend be = backend.get();

        cfg = cfg.withTraining(epochs != null ? epochs : cfg.epochs(), iters != null ? iters : cfg.itersPerEpoch(), cfg.lr());
        cfg = TrainCommand.withSegLoss(cfg, segLoss, spec);
        cfg = TrainCommand.withAugmentation(cfg, augmentation, spec);

        List<CloeConfig> variants = new ArrayList<>(List.of(cfg));
        if (ablations) for (Ablation a : Ablation.values()) variants.add(cfg.withAblations(EnumSet.of(a)));
        // ET post-processing's 500 voxels are meant for BraTS volumes (240×240×155 at 1 mm); scale it to the phantoms
        var g = test.get(0).geometry();
        int etMin = Math.max(1, (int) Math.round(LabelMaps.DEFAULT_MIN_ENHANCING_VOXELS * (double) g.nx() * g.ny() * g.nz()
                / (240.0 * 240 * 155)));
        List<String> summary = new ArrayList<>();
        Evaluator.Report full = null;
        for (CloeConfig v : variants) {
            String name = v.ablations().isEmpty() ? "full" : v.ablations().iterator().next().cliName();
            Path runDir = out.resolve(v.ablations().isEmpty() ? "run" : "run-" + name);
            o.printf("[2/4] training %s (%s): %d epochs × %d steps, patch %d³, base %d, on %d cases with %s%n", v.preset(),
                    name, v.epochs(), v.itersPerEpoch(), v.patch(), v.base(), train.size(), be);
            o.flush();
            Trainer.Result r = new Trainer(v, be, train, new Trainer.Options(runDir, true, !quiet,
                    spec.commandLine().getErr())).run();
            o.printf("[3/4] evaluating %d held-out cases × %d sequence sets%n", test.size(), ModalityMask.all(mods).size());
            o.flush();
            Path evalDir = runDir.resolve("eval");
            Evaluator.Report rep = new Evaluator(r.model(), false, etMin).evaluate(test, !quiet);
            String md = Evaluator.write(rep, evalDir, "CLoE tiny (" + name + ") on the synthetic demo cohort"
                    + " (ET post-processing below " + etMin + " voxels, 500 scaled to the phantoms' volume)");
            if (v == cfg) {
                full = rep;
                o.println(md);
                Path caseDir = cohort.root().resolve(test.get(0).id());
                Path pred = runDir.resolve(test.get(0).id() + "_pred.nii.gz");
                Segmenter.Segmentation s = new Segmenter(r.model(), false).segment(test.get(0), ModalityMask.full(mods));
                byte[] classes = s.classes();
                LabelMaps.suppressSmallEnhancing(classes, etMin);
                LabelMaps.write(classes, test.get(0), pred);
                CasePicture.write(caseDir, pred, out.resolve("case.png"));
            }
            summary.add(String.format(Locale.ROOT, "| %s | %.2f | %.2f | %.2f |", name, 100 * rep.mean().dice()[0],
                    100 * rep.mean().dice()[1], 100 * rep.mean().dice()[2]));
        }
        o.println("[4/4] goals (synthetic data; see README):");
        goals(o, full);
        if (ablations) {
            String table = "| model | WT | TC | ET |\n|---|---:|---:|---:|\n" + String.join("\n", summary) + "\n";
            AtomicFiles.writeString(out.resolve("ablations.md"), "# Mean Dice (%) over the 15 sets, demo cohort\n\n" + table);
            o.println(table);
        }
        o.printf("done in %s; results in %s (run/eval/table.md, run/eval/dice_by_mask.png, run/loss_curves.png, case.png)%n",
                Progress.duration(Duration.between(t0, Instant.now())), out);
        return 0;
    }

    private static void goals(PrintWriter o, Evaluator.Report r) {
        if (!r.brats()) return;
        double wtAll = r.dice(ModalityMask.full(r.rows().get(0).mask().modalities()), "WT");
        double etWith = 0, etWithout = 0;
        int nWith = 0, nWithout = 0;
        for (Evaluator.Row row : r.rows()) {
            if (row.mask().has(Modality.T1CE)) {
                etWith += row.dice()[2];
                nWith++;
            } else {
                etWithout += row.dice()[2];
                nWithout++;
            }
        }
        o.printf(Locale.ROOT, "  WT Dice with all four sequences: %.3f (goal >= 0.85: %s)%n", wtAll, wtAll >= 0.85 ? "met" : "MISSED");
        o.printf(Locale.ROOT, "  ET Dice, mean over sets with T1ce: %.3f, without: %.3f (goal: clearly better with T1ce: %s)%n",
                etWith / nWith, etWithout / nWithout, etWith / nWith > etWithout / nWithout + 0.1 ? "met" : "MISSED");
    }
}
