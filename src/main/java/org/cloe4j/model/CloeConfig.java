package org.cloe4j.model;

import org.cloe4j.data.Modality;
import org.cloe4j.data.Preprocessor;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Everything that defines a CLoE model and its training: architecture, loss weights, protocol, ablations.
 * Choices the paper leaves open (docs/MODEL.md, "Our choices") are fields, so they can be changed and ablated.
 *
 * @param preset           name of the preset this came from (paper, rfnet, tiny) or "custom"
 * @param modalities       the input sequences in channel order (BraTS: flair, t1ce, t1, t2)
 * @param classes          output classes including background (BraTS: 4 = bg, NCR, ED, ET)
 * @param base             base width b (channels b, 2b, 4b, 8b)
 * @param patch            training patch and inference window edge, voxels (a multiple of 8)
 * @param batch            samples per optimiser step (each with its own modality mask)
 * @param epochs           training epochs
 * @param itersPerEpoch    optimiser steps per epoch
 * @param lr               base learning rate of the poly schedule
 * @param alpha            weight of the expert terms
 * @param eta              weight of the consistency terms inside the expert terms
 * @param lambdaRec        weight of L_REC relative to L_MEC
 * @param gamma            weight of the region map's BCE against the whole tumour
 * @param regionSupervised whether the region map is supervised with the whole-tumour mask ([choice])
 * @param detachScores     whether u and v are detached before the gate ([choice])
 * @param slope            LeakyReLU slope
 * @param ablations        parts switched off
 * @param seed             seed of initialisation, sampling and augmentation
 * @param ceWeightFloor    floor of the cross-entropy's class weights max(1 − share, floor): 1 is plain cross-entropy
 *                         (the presets), 0 RFNet's weighting ([choice]; a config.json without it, written before the
 *                         field existed, reads as 0, so older checkpoints resume with the loss they were trained with)
 * @param diceSmooth       smoothing s of the soft Dice (2I + s)/(P + T + s): 1 in the presets, 0 RFNet's ([choice];
 *                         missing reads as 0, as above)
 * @param augmentation     the training augmentation ({@code Augmenter.Options.named}): "multisite" in the presets
 *                         (RFNet's plus nnU-Net-style bias field, noise, blur, brightness, contrast, gamma and a
 *                         random scaling), "rfnet" RFNet's alone ([choice]; a config.json without it, written
 *                         before the field existed, reads as "rfnet", so older checkpoints resume as trained)
 * @param reliabilityAugmentation probability that a training sample with two or more sequences has one of them
 *                         corrupted ({@code data.ReliabilityAugmentation}), its expert left out of the expert and
 *                         consistency losses, so that the fused loss teaches the gate to weigh it down ([choice];
 *                         0.5 in the presets, a config.json without it reads as 0: off)
 * @param gateInput        what the gate sees: "centred" (the presets) feeds it GATE_INPUT_SCALE · (u_m − mean over the
 *                         given sequences of u), the same for v; "raw" feeds u_m, v_m as they are (the paper's
 *                         description; a config.json without the field reads as "raw", so older checkpoints
 *                         compute what they were trained to)
 * @param normalisation    how preprocessing normalises each sequence over the brain ({@code Preprocessor
 *                         .Normalisation}): "zscore" RFNet's and the presets', "median" MEDIAN_SCALE · (x / median − 1)
 *                         ([choice]; docs/GENERALISATION.md, cause 9: three seeds did not show it better; a config.json
 *                         without the field reads as "zscore", the normalisation it was trained with)
 */
public record CloeConfig(String preset, List<Modality> modalities, int classes, int base, int patch, int batch,
                         int epochs, int itersPerEpoch, float lr, float alpha, float eta, float lambdaRec, float gamma,
                         boolean regionSupervised, boolean detachScores, float slope, Set<Ablation> ablations,
                         long seed, float ceWeightFloor, float diceSmooth, String augmentation,
                         float reliabilityAugmentation, String gateInput, String normalisation) {

    /** The segmentation loss of the presets: plain cross-entropy (class-weight floor 1) and Dice smoothed by 1. */
    public static final float CE_WEIGHT_FLOOR = 1f, DICE_SMOOTH = 1f;

    public static final List<Modality> BRATS = Modality.BRATS;

    /** The presets' training augmentation; {@link #RFNET_AUGMENTATION} is what an older config.json reads as. */
    public static final String AUGMENTATION = "multisite", RFNET_AUGMENTATION = "rfnet";
    /** The presets' augmentation from 2026-11-30 evening until "multisite"; still accepted. */
    public static final String APPEARANCE_AUGMENTATION = "appearance";

    /** The presets' reliability augmentation probability (docs/MODEL.md, Our choices). */
    public static final float RELIABILITY_AUGMENTATION = 0.5f;

    /** Gate inputs: centred over the given sequences and scaled (the presets), or raw (older configs). */
    public static final String GATE_INPUT = "centred", RAW_GATE_INPUT = "raw";

    /** The factor on the centred scores: their spread over sequences is 0.01–0.05 on clean cases. */
    public static final float GATE_INPUT_SCALE = 10f;

    /** The presets' normalisation, also what an older config.json reads as; and the median ratio, selectable. */
    public static final String NORMALISATION = "zscore", MEDIAN_NORMALISATION = "median";

    public CloeConfig {
        if (normalisation == null) normalisation = NORMALISATION;
        normalisation = Preprocessor.Normalisation.named(normalisation).cliName(); // refuses an unknown name
        if (gateInput == null) gateInput = RAW_GATE_INPUT;
        if (!gateInput.equals(GATE_INPUT) && !gateInput.equals(RAW_GATE_INPUT)) {
            throw new IllegalArgumentException("gateInput must be " + GATE_INPUT + " or " + RAW_GATE_INPUT
                    + ", got '" + gateInput + "'");
        }
        if (!(reliabilityAugmentation >= 0f && reliabilityAugmentation <= 1f)) {
            throw new IllegalArgumentException("reliabilityAugmentation must be in [0, 1], got " + reliabilityAugmentation);
        }
        if (augmentation == null) augmentation = RFNET_AUGMENTATION;
        if (!augmentation.equals(AUGMENTATION) && !augmentation.equals(RFNET_AUGMENTATION)
                && !augmentation.equals(APPEARANCE_AUGMENTATION)) {
            throw new IllegalArgumentException("augmentation must be " + AUGMENTATION + ", " + APPEARANCE_AUGMENTATION
                    + " or " + RFNET_AUGMENTATION + ", got '" + augmentation + "'");
        }
        modalities = List.copyOf(modalities);
        ablations = ablations.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(ablations));
        if (modalities.isEmpty() || modalities.size() > 8) {
            throw new IllegalArgumentException("a model needs 1..8 modalities, got " + modalities);
        }
        if (Set.copyOf(modalities).size() != modalities.size()) {
            throw new IllegalArgumentException("modalities repeat: " + modalities);
        }
        if (base < 2 || base % 2 != 0) throw new IllegalArgumentException("base width must be even and >= 2, got " + base);
        if (patch < 8 || patch % 8 != 0) throw new IllegalArgumentException("patch must be a multiple of 8, got " + patch);
        if (classes < 2) throw new IllegalArgumentException("need at least 2 classes, got " + classes);
        if (batch < 1 || epochs < 1 || itersPerEpoch < 1) {
            throw new IllegalArgumentException("batch, epochs and iterations per epoch must be positive");
        }
        if (!(ceWeightFloor >= 0f && ceWeightFloor <= 1f)) {
            throw new IllegalArgumentException("ceWeightFloor must be in [0, 1], got " + ceWeightFloor);
        }
        if (!(diceSmooth >= 0f) || Float.isInfinite(diceSmooth)) {
            throw new IllegalArgumentException("diceSmooth must be finite and >= 0, got " + diceSmooth);
        }
    }

    /** The paper's preset: base 16, patch 112³, batch 1, 500 epochs of 150 iterations. */
    public static CloeConfig paper(List<Modality> modalities, int classes) {
        return new CloeConfig("paper", modalities, classes, 16, 112, 1, 500, 150, 2e-4f, 1f, 0.1f, 1f, 1f,
                true, true, 0.2f, Set.of(), 1234, CE_WEIGHT_FLOOR, DICE_SMOOTH, AUGMENTATION,
                RELIABILITY_AUGMENTATION, GATE_INPUT, NORMALISATION);
    }

    /** RFNet's protocol: base 16, patch 80³, batch 2, 300 epochs. */
    public static CloeConfig rfnet(List<Modality> modalities, int classes) {
        return new CloeConfig("rfnet", modalities, classes, 16, 80, 2, 300, 150, 2e-4f, 1f, 0.1f, 1f, 1f,
                true, true, 0.2f, Set.of(), 1234, CE_WEIGHT_FLOOR, DICE_SMOOTH, AUGMENTATION,
                RELIABILITY_AUGMENTATION, GATE_INPUT, NORMALISATION);
    }

    /** Small enough to train on two CPU cores in minutes (the demo's preset). */
    public static CloeConfig tiny(List<Modality> modalities, int classes) {
        return new CloeConfig("tiny", modalities, classes, 4, 32, 1, 64, 30, 3e-3f, 1f, 0.1f, 1f, 1f,
                true, true, 0.2f, Set.of(), 1234, CE_WEIGHT_FLOOR, DICE_SMOOTH, AUGMENTATION,
                RELIABILITY_AUGMENTATION, GATE_INPUT, NORMALISATION);
    }

    public static CloeConfig preset(String name, List<Modality> modalities, int classes) {
        return switch (name) {
            case "paper" -> paper(modalities, classes);
            case "rfnet" -> rfnet(modalities, classes);
            case "tiny" -> tiny(modalities, classes);
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (known: paper, rfnet, tiny)");
        };
    }

    public boolean has(Ablation a) {
        return ablations.contains(a);
    }

    public CloeConfig withAblations(Set<Ablation> a) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, a, seed, ceWeightFloor, diceSmooth, augmentation,
                reliabilityAugmentation, gateInput, normalisation);
    }

    public CloeConfig withTraining(int epochs, int itersPerEpoch, float lr) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, ablations, seed, ceWeightFloor, diceSmooth, augmentation,
                reliabilityAugmentation, gateInput, normalisation);
    }

    public CloeConfig withArchitecture(int base, int patch) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, ablations, seed, ceWeightFloor, diceSmooth, augmentation,
                reliabilityAugmentation, gateInput, normalisation);
    }

    public CloeConfig withSeed(long s) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, ablations, s, ceWeightFloor, diceSmooth, augmentation,
                reliabilityAugmentation, gateInput, normalisation);
    }

    public CloeConfig withRegionSupervised(boolean supervised) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, supervised, detachScores, slope, ablations, seed, ceWeightFloor, diceSmooth, augmentation,
                reliabilityAugmentation, gateInput, normalisation);
    }

    /** The segmentation loss: class-weight floor of the cross-entropy and Dice smoothing (0, 0: RFNet's). */
    public CloeConfig withSegLoss(float floor, float smooth) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, ablations, seed, floor, smooth, augmentation,
                reliabilityAugmentation, gateInput, normalisation);
    }

    /** The training augmentation: {@link #AUGMENTATION} or {@link #RFNET_AUGMENTATION}. */
    public CloeConfig withAugmentation(String name) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, ablations, seed, ceWeightFloor, diceSmooth, name,
                reliabilityAugmentation, gateInput, normalisation);
    }

    /** The reliability augmentation's probability (0: off) and the gate's input ({@link #GATE_INPUT} or raw). */
    public CloeConfig withReliability(float probability, String gate) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, ablations, seed, ceWeightFloor, diceSmooth,
                augmentation, probability, gate, normalisation);
    }

    /** The normalisation of the inputs: {@link #NORMALISATION} or {@link #MEDIAN_NORMALISATION}. */
    public CloeConfig withNormalisation(String name) {
        return new CloeConfig(preset, modalities, classes, base, patch, batch, epochs, itersPerEpoch, lr, alpha, eta,
                lambdaRec, gamma, regionSupervised, detachScores, slope, ablations, seed, ceWeightFloor, diceSmooth,
                augmentation, reliabilityAugmentation, gateInput, name);
    }

    /** The preprocessing normalisation this model's inputs need. */
    public Preprocessor.Normalisation inputNormalisation() {
        return Preprocessor.Normalisation.named(normalisation);
    }

    /** Whether the gate sees centred, scaled scores. */
    public boolean centredGateInput() {
        return gateInput.equals(GATE_INPUT);
    }

    /** Whether two configs describe the same network (same parameter names and shapes). */
    public boolean sameArchitecture(CloeConfig o) {
        return modalities.equals(o.modalities) && classes == o.classes && base == o.base;
    }
}
