package org.cloe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

import org.cloe4j.backend.Backend;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.Modality;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.Split;
import org.cloe4j.data.TrainingGeometry;
import org.cloe4j.model.Ablation;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.ModelCheckpoint;
import org.cloe4j.train.Checkpoint;
import org.cloe4j.train.Trainer;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code cloe train}: trains CLoE on a cohort's training cases. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Trains CLoE on a BraTS- or MSD-layout cohort: each sample gets a random set of sequences,",
            "a checkpoint is written every epoch (RUN_DIR/checkpoints), with train_log.csv and loss_curves.png; at the",
            "end each sequence's agreement on the validation cases is stored with the checkpoint (reliability.json)."})
public final class TrainCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--split", description = "split file (default: DATA/split.json, else a seeded 60/20/20 split)")
    Path split;

    @Option(names = "--preset", defaultValue = "tiny", description = "paper, rfnet or tiny (default: ${DEFAULT-VALUE})")
    String preset;

    @Option(names = "--ablation", split = ",", description = "switch parts off: no-mec, no-rec, no-gate, no-weighted-fusion")
    List<String> ablations = List.of();

    @Option(names = "--out", required = true, description = "run folder")
    Path out;

    @Option(names = "--resume", description = "continue from the run folder's last complete checkpoint")
    boolean resume;

    @Option(names = "--epochs", description = "override the preset's epochs")
    Integer epochs;

    @Option(names = "--iters", description = "override the preset's iterations per epoch")
    Integer iters;

    @Option(names = "--lr", description = "override the preset's learning rate")
    Float lr;

    @Option(names = "--seed", description = "override the preset's seed")
    Long seed;

    @Option(names = "--unsupervised-region", description = "do not supervise the region map with the whole tumour")
    boolean unsupervisedRegion;

    @Option(names = "--seg-loss", defaultValue = "ce-dice", description = {"segmentation loss: ce-dice (plain",
            "cross-entropy + soft Dice smoothed by 1; default) or rfnet (RFNet's class-weighted cross-entropy + soft",
            "Dice, the loss of checkpoints trained before ce-dice existed)"})
    String segLoss;

    @Option(names = "--augmentation", defaultValue = "multisite", description = {"training augmentation: multisite",
            "(appearance with the noise, brightness, shift and scaling ranges widened to what differs between sites;",
            "default), appearance (RFNet's plus nnU-Net-style bias field, noise, blur, brightness, contrast, gamma and",
            "scaling) or rfnet (flips, rotation, intensity scale and shift: that of checkpoints trained before appearance existed)"})
    String augmentation;

    @Option(names = "--reliability-augmentation", description = {"probability that a sample has one of its given",
            "sequences corrupted (noise, ghosting, bias or another sequence), its expert left out of the expert and",
            "consistency losses, to teach the gate to weigh an unreliable sequence down (default: the preset's, 0.5; 0: off)"})
    Float reliabilityAugmentation;

    @Option(names = "--flag-conditions", split = ",", defaultValue = CalibrateCommand.DEFAULT_FLAG_CONDITIONS,
            description = {"corruptions the reliability flag is calibrated with at the end, as `cloe calibrate`'s",
                "(default: ${DEFAULT-VALUE}; 'none': absolute levels only)"})
    List<String> flagConditions;

    @Option(names = "--gate-input", description = {"what the gate sees: centred (u and v minus their mean over the",
            "given sequences, times 10; the presets') or raw (u and v as they are, as checkpoints trained before it existed)"})
    String gateInput;

    @Option(names = "--normalisation", description = {"how each sequence is normalised over the brain: zscore",
            "((x − mean) / sd: RFNet's and the presets') or median (3 · (x / median − 1): a scale that a tumour's size",
            "and the noise do not move)"})
    String normalisation;

    @Mixin CohortOptions cohortOptions;

    @Mixin BackendOption backend;

    @Override
    public Integer call() throws Exception {
        var flagConds = CalibrateCommand.conditions(flagConditions); // a bad list fails before the training
        Cohort cohort = cohortOptions.open();
        Split s = CaseLoader.split(cohort, split);
        CloeConfig cfg = config(cohort);
        Backend be = backend.get();
        List<PreparedCase> cases = cohortOptions.load(cohort, s.train(), cfg.inputNormalisation());
        spec.commandLine().getOut().printf("training %s on %d cases (%s) with %s: %d epochs × %d steps, patch %d³, base %d%n",
                cfg.preset(), cases.size(), cfg.modalities().stream().map(Modality::name).collect(java.util.stream.Collectors.joining(", ")), be, cfg.epochs(), cfg.itersPerEpoch(),
                cfg.patch(), cfg.base());
        if (ModelCheckpoint.latest(out) == null) { // a fresh run: record the grid the model learns on (a resumed run keeps its own)
            Files.createDirectories(out);
            TrainingGeometry.of(cases.stream().map(PreparedCase::geometry).toList()).write(out);
        }
        Trainer.Result r = new Trainer(cfg, be, cases, new Trainer.Options(out, resume, cohortOptions.progress(), spec.commandLine().getErr())).run();
        spec.commandLine().getOut().printf("done: %d steps, last epoch's mean loss %.4f%ncheckpoint %s%nlog %s, curves %s%n",
                r.steps(), r.lastEpochLoss(), r.checkpoint(), r.logCsv(), r.curvesPng());
        if (!s.val().isEmpty()) {
            // the levels below which `cloe predict` flags a sequence, stored with the checkpoint
            CalibrateCommand.calibrate(r.model(), r.checkpoint(), cohort.cases(s.val()), CalibrateCommand.imageCases(cohort, s),
                    flagConds, 1, cohortOptions.progress(), spec.commandLine().getOut());
        }
        return 0;
    }

    CloeConfig config(Cohort cohort) {
        CloeConfig cfg = CloeConfig.preset(preset, cohort.modalities(), cohort.labelScheme().classes());
        Set<Ablation> a = EnumSet.noneOf(Ablation.class);
        for (String x : ablations) a.add(Ablation.parse(x.trim()));
        cfg = cfg.withAblations(a).withTraining(epochs != null ? epochs : cfg.epochs(),
                iters != null ? iters : cfg.itersPerEpoch(), lr != null ? lr : cfg.lr());
        if (seed != null) cfg = cfg.withSeed(seed);
        if (unsupervisedRegion) cfg = cfg.withRegionSupervised(false);
        cfg = withAugmentation(withSegLoss(cfg, segLoss, spec), augmentation, spec);
        cfg = withReliability(cfg, reliabilityAugmentation, gateInput, spec);
        if (normalisation != null) {
            try {
                cfg = cfg.withNormalisation(Preprocessor.Normalisation.named(normalisation).cliName());
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--normalisation: expected median or zscore, got '"
                        + normalisation + "'");
            }
        }
        return cfg;
    }

    /** {@code --reliability-augmentation} and {@code --gate-input}, each keeping the preset's value when absent. */
    static CloeConfig withReliability(CloeConfig cfg, Float probability, String gate, CommandSpec spec) {
        float p = probability != null ? probability : cfg.reliabilityAugmentation();
        if (!(p >= 0f && p <= 1f)) {
            throw new ParameterException(spec.commandLine(), "--reliability-augmentation: expected a probability in [0, 1], got " + p);
        }
        String g = gate != null ? gate : cfg.gateInput();
        if (!g.equals(CloeConfig.GATE_INPUT) && !g.equals(CloeConfig.RAW_GATE_INPUT)) {
            throw new ParameterException(spec.commandLine(), "--gate-input: expected centred or raw, got '" + g + "'");
        }
        return cfg.withReliability(p, g);
    }

    /** {@code --augmentation}: multisite (the presets'), appearance or rfnet (RFNet's alone). */
    static CloeConfig withAugmentation(CloeConfig cfg, String augmentation, CommandSpec spec) {
        if (!augmentation.equals(CloeConfig.AUGMENTATION) && !augmentation.equals(CloeConfig.RFNET_AUGMENTATION)
                && !augmentation.equals(CloeConfig.APPEARANCE_AUGMENTATION)) {
            throw new ParameterException(spec.commandLine(), "--augmentation: expected multisite, appearance or rfnet, got '"
                    + augmentation + "'");
        }
        return cfg.withAugmentation(augmentation);
    }

    /** {@code --seg-loss}: ce-dice (the presets' loss) or rfnet (RFNet's, floor 0 and smoothing 0). */
    static CloeConfig withSegLoss(CloeConfig cfg, String segLoss, CommandSpec spec) {
        return switch (segLoss) {
            case "ce-dice" -> cfg.withSegLoss(CloeConfig.CE_WEIGHT_FLOOR, CloeConfig.DICE_SMOOTH);
            case "rfnet" -> cfg.withSegLoss(0f, 0f);
            default -> throw new ParameterException(spec.commandLine(), "--seg-loss: expected ce-dice or rfnet, got '" + segLoss + "'");
        };
    }
}
