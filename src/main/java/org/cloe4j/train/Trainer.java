package org.cloe4j.train;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.data.Augmenter;
import org.cloe4j.data.Modality;
import org.cloe4j.data.Patch;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.ReliabilityAugmentation;
import org.cloe4j.graph.Graph;
import org.cloe4j.io.Progress;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.cloe4j.model.ModelCheckpoint;

/**
 * CLoE's training loop (docs/MODEL.md): per step, {@code batch} samples, each a random case, one of the 2^M − 1
 * modality masks drawn uniformly and an augmented patch; Adam (amsgrad, weight decay 1e-4) on the poly schedule; a
 * patch centred on a tumour voxel one time in three (nnU-Net's foreground oversampling), else anywhere in the volume; a
 * checkpoint, a CSV log and a PNG of the loss curves after every epoch. Each epoch draws from its own generator,
 * seeded by (seed, epoch), so a run resumed from a checkpoint computes the same numbers as one that never stopped.
 */
public final class Trainer {
    /** Where and how to run. */
    public record Options(Path runDir, boolean resume, boolean progress, PrintWriter log) {
    }

    /** What a run produced. */
    public record Result(CloeModel model, int epochs, int steps, double lastEpochLoss, Path checkpoint, Path logCsv,
                         Path curvesPng) {
    }

    private final CloeConfig cfg;
    private final Backend be;
    private final List<PreparedCase> cases;
    private final Options opts;

    public Trainer(CloeConfig cfg, Backend be, List<PreparedCase> cases, Options opts) {
        if (cases.isEmpty()) throw new IllegalArgumentException("no training cases");
        for (PreparedCase c : cases) {
            for (Modality m : cfg.modalities()) {
                int i = c.modalities().indexOf(m);
                if (i < 0 || !c.available()[i]) {
                    throw new IllegalArgumentException("training case " + c.id() + " lacks sequence " + m
                            + " (training needs every sequence; masks simulate the missing ones)");
                }
            }
            if (!c.hasLabels()) throw new IllegalArgumentException("training case " + c.id() + " has no label map");
        }
        this.cfg = cfg;
        this.be = be;
        this.cases = List.copyOf(cases);
        this.opts = opts;
    }

    /** The {@code --seg-loss} name of a config's segmentation loss (docs/MODEL.md, Loss). */
    static String segLossName(CloeConfig c) {
        if (c.ceWeightFloor() == 0f && c.diceSmooth() == 0f) return "rfnet";
        if (c.ceWeightFloor() == CloeConfig.CE_WEIGHT_FLOOR && c.diceSmooth() == CloeConfig.DICE_SMOOTH) return "ce-dice";
        return "custom (class-weight floor " + c.ceWeightFloor() + ", Dice smoothing " + c.diceSmooth() + ")";
    }

    public Result run() throws IOException {
        Path runDir = opts.runDir();
        Files.createDirectories(runDir);
        CloeModel model = new CloeModel(cfg, be);
        TrainingLog log = new TrainingLog(runDir);
        int startEpoch = 0;
        try (Adam adam = new Adam(model.parameters().all().values(), AdamConfig.cloe())) {
            Path last = ModelCheckpoint.latest(runDir);
            if (last != null && !opts.resume()) {
                throw new IllegalStateException("run folder " + runDir + " already holds checkpoint " + last.getFileName()
                        + "; pass --resume to continue it or choose another --out");
            }
            if (last != null) {
                CloeConfig saved = ModelCheckpoint.readConfig(last);
                if (!saved.sameArchitecture(cfg) || !saved.preset().equals(cfg.preset())) {
                    throw new IllegalStateException("checkpoint " + last + " is of preset " + saved.preset() + " "
                            + saved.modalities() + " base " + saved.base() + ", not " + cfg.preset() + " "
                            + cfg.modalities() + " base " + cfg.base());
                }
                if (saved.ceWeightFloor() != cfg.ceWeightFloor() || saved.diceSmooth() != cfg.diceSmooth()) {
                    throw new IllegalStateException("checkpoint " + last + " was trained with segmentation loss "
                            + segLossName(saved) + ", not " + segLossName(cfg) + "; resume it with --seg-loss "
                            + segLossName(saved));
                }
                if (!saved.augmentation().equals(cfg.augmentation())) {
                    throw new IllegalStateException("checkpoint " + last + " was trained with augmentation "
                            + saved.augmentation() + ", not " + cfg.augmentation() + "; resume it with --augmentation "
                            + saved.augmentation());
                }
                if (saved.reliabilityAugmentation() != cfg.reliabilityAugmentation() || !saved.gateInput().equals(cfg.gateInput())) {
                    throw new IllegalStateException("checkpoint " + last + " was trained with reliability augmentation "
                            + saved.reliabilityAugmentation() + " and gate input " + saved.gateInput() + ", not "
                            + cfg.reliabilityAugmentation() + " and " + cfg.gateInput() + "; resume it with "
                            + "--reliability-augmentation " + saved.reliabilityAugmentation() + " --gate-input " + saved.gateInput());
                }
                if (!saved.normalisation().equals(cfg.normalisation())) {
                    throw new IllegalStateException("checkpoint " + last + " was trained on inputs normalised by "
                            + saved.normalisation() + ", not " + cfg.normalisation() + "; resume it with --normalisation "
                            + saved.normalisation());
                }
                ModelCheckpoint.loadWeights(last, model);
                Checkpoint.loadOptimizer(last, model, adam);
                startEpoch = Checkpoint.readState(last).epochsDone();
                log.keepEpochsBefore(startEpoch);
                opts.log().println("resuming from " + last + " (epoch " + startEpoch + " of " + cfg.epochs() + ")");
            }
            PolySchedule schedule = PolySchedule.of(cfg.lr(), cfg.epochs());
            Augmenter augmenter = new Augmenter(new int[]{cfg.patch(), cfg.patch(), cfg.patch()}, Augmenter.Options.named(cfg.augmentation()));
            List<ModalityMask> masks = ModalityMask.all(cfg.modalities());
            ReliabilityAugmentation reliability = new ReliabilityAugmentation(cfg.reliabilityAugmentation());
            long total = (long) (cfg.epochs() - startEpoch) * cfg.itersPerEpoch();
            Path lastCkpt = last;
            double epochLoss = Double.NaN;
            try (Progress bar = Progress.start("train", total, "it", opts.progress())) {
                for (int epoch = startEpoch; epoch < cfg.epochs(); epoch++) {
                    SplittableRandom rng = new SplittableRandom(cfg.seed() * 1_000_003L + epoch);
                    float lr = schedule.lr(epoch);
                    double sum = 0;
                    for (int it = 0; it < cfg.itersPerEpoch(); it++) {
                        int step = epoch * cfg.itersPerEpoch() + it;
                        model.parameters().zeroGrad();
                        Map<String, Double> terms = new LinkedHashMap<>();
                        double loss = 0;
                        for (int b = 0; b < cfg.batch(); b++) {
                            PreparedCase c = cases.get(rng.nextInt(cases.size()));
                            ModalityMask mask = masks.get(rng.nextInt(masks.size()));
                            Patch patch = augmenter.sample(c, rng, Augmenter.DEFAULT_FOREGROUND_FRACTION);
                            int[] given = mask.present().clone(); // model indices, then the patch's channels
                            for (int i = 0; i < given.length; i++) given[i] = c.modalities().indexOf(cfg.modalities().get(given[i]));
                            ReliabilityAugmentation.Result ra = reliability.apply(patch, given, rng);
                            int corrupted = ra.corrupted() ? cfg.modalities().indexOf(c.modalities().get(ra.channel())) : -1;
                            loss += sampleStep(model, c, mask, corrupted, ra.patch(), terms, epoch, step);
                        }
                        adam.step(lr);
                        sum += loss;
                        log.add(epoch, step, lr, loss, terms);
                        bar.step(String.format("epoch %d/%d loss %.4f", epoch + 1, cfg.epochs(), loss));
                    }
                    epochLoss = sum / cfg.itersPerEpoch();
                    lastCkpt = Checkpoint.save(runDir, model, adam, new Checkpoint.State(epoch + 1,
                            (epoch + 1) * cfg.itersPerEpoch(), cfg.seed()));
                    log.flush();
                }
            }
            if (org.cloe4j.graph.OpProfile.enabled()) opts.log().println(org.cloe4j.graph.OpProfile.table());
            return new Result(model, cfg.epochs(), adam.stepCount(), epochLoss, lastCkpt, log.csv(), log.png());
        }
    }

    /** Forward and backward of one sample; returns its (batch-scaled) loss and adds its terms to {@code terms}. */
    private double sampleStep(CloeModel model, PreparedCase c, ModalityMask mask, int corrupted, Patch patch,
                              Map<String, Double> terms, int epoch, int step) {
        CloeModel.Built built = model.training(mask, corrupted);
        Map<String, Tensor> inputs;
        try {
            inputs = model.bind(built, c.modalities(), patch);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("case " + c.id() + ": " + e.getMessage(), e);
        }
        try (Graph.Run run = built.graph().run(be, inputs)) {
            float loss = run.scalar(built.loss());
            Map<String, Float> values = new HashMap<>();
            built.terms().forEach((k, v) -> values.put(k, run.scalar(v)));
            // the one non-finite-loss rule: the loss ops hand a NaN on, and the loss is read here anyway
            if (!Float.isFinite(loss)) {
                throw new TrainingDivergedException("loss is " + loss + " at epoch " + (epoch + 1) + ", step " + step
                        + " (case " + c.id() + ", mask " + mask + ", terms " + values + "); the last complete checkpoint is kept");
            }
            values.forEach((k, v) -> terms.merge(k, (double) v / cfg.batch(), Double::sum));
            run.backward();
            return loss;
        } finally {
            inputs.values().forEach(be::release);
        }
    }
}
