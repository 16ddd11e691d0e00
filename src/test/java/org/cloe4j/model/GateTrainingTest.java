package org.cloe4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.data.Modality;
import org.cloe4j.graph.Graph;
import org.cloe4j.graph.Parameter;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the gate sees and learns from in training (docs/GENERALISATION.md, CLoE's reliability claim). */
class GateTrainingTest {
    private static final List<Modality> MODS = CloeConfig.BRATS;
    private static final int W = 16;
    private final CpuBackend be = new CpuBackend();

    private Map<String, Tensor> inputs(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> in = new HashMap<>();
        Shape img = Shape.ncdhw(1, 1, W, W, W);
        int vox = W * W * W;
        for (Modality m : MODS) {
            float[] v = new float[vox];
            for (int i = 0; i < vox; i++) v[i] = (float) r.nextGaussian();
            in.put(CloeModel.imageInput(m), Tensor.wrap(img, v));
        }
        float[] onehot = new float[4 * vox], wt = new float[vox];
        for (int i = 0; i < vox; i++) {
            int c = (i / W) % W < 6 ? 1 + r.nextInt(3) : 0;
            onehot[c * vox + i] = 1;
            wt[i] = c > 0 ? 1 : 0;
        }
        in.put("target", Tensor.wrap(Shape.ncdhw(1, 4, W, W, W), onehot));
        in.put("wt", Tensor.wrap(img, wt));
        return in;
    }

    /** Root-mean-square gradient of the gate's parameters after one training pass. */
    private double gateGradient(CloeModel model, ModalityMask mask, int corrupted) {
        CloeModel.Built b = model.training(mask, corrupted);
        model.parameters().zeroGrad();
        try (Graph.Run run = b.graph().run(be, inputs(17))) {
            run.backward();
        }
        double s = 0;
        int n = 0;
        for (Parameter p : model.parameters().all().values()) {
            if (!p.name().startsWith("gate.")) continue;
            float[] v = p.toHost();
            n += v.length;
            if (p.grad() == null) continue;
            for (float g : be.toHost(p.grad())) s += (double) g * g;
        }
        return Math.sqrt(s / n);
    }

    @Test
    void theCentredInputIsTheScoreMinusItsMeanOverThePresentTimesTheScale() {
        float[] present = {1, 0, 1, 1};
        float[] c = CloeModel.centring(present, 10f);
        double[] x = {0.90, 0.5, 0.80, 0.97};
        double mean = (0.90 + 0.80 + 0.97) / 3;
        for (int a = 0; a < 4; a++) {
            double y = 0, yShifted = 0;
            for (int b = 0; b < 4; b++) {
                y += c[a * 4 + b] * x[b];
                yShifted += c[a * 4 + b] * (x[b] + 0.3);
            }
            double expected = present[a] > 0 ? 10 * (x[a] - mean) : 0;
            assertEquals(expected, y, 1e-5, "row " + a); // float32 matrix entries: ~1e-7 relative
            assertEquals(y, yShifted, 1e-5, "a shift common to every sequence does not reach the gate (row " + a + ")");
        }
    }

    @Test
    void theGateLearnsFromThreeSequencesAndCannotFromTwo() {
        CloeModel model = new CloeModel(CloeConfig.tiny(MODS, 4).withArchitecture(4, W), be);
        ModalityMask three = ModalityMask.of(MODS, List.of(Modality.FLAIR, Modality.T1CE, Modality.T2));
        ModalityMask two = ModalityMask.of(MODS, List.of(Modality.FLAIR, Modality.T2));
        double g3 = gateGradient(model, three, -1), g3c = gateGradient(model, three, 0);
        assertTrue(g3 > 1e-7, "with three sequences the gate gets a gradient: " + g3);
        assertTrue(g3c > 1e-7, "and with one of them corrupted: " + g3c);
        // with two sequences u_a = u_b = S(a, b) and v_a = v_b: identical gate inputs, w = 1/2 each, and the two
        // sequences' contributions to the gate's gradient cancel exactly
        assertEquals(0.0, gateGradient(model, two, -1), 1e-12, "two sequences: symmetric scores");
        assertEquals(0.0, gateGradient(model, two, 0), 1e-12, "two sequences, one corrupted: still symmetric");
    }

    @Test
    void aCorruptedSequencesExpertLeavesTheExpertAndConsistencyLosses() {
        CloeModel model = new CloeModel(CloeConfig.tiny(MODS, 4).withArchitecture(4, W), be);
        ModalityMask all = ModalityMask.full(MODS);
        ModalityMask two = ModalityMask.of(MODS, List.of(Modality.FLAIR, Modality.T2));
        Map<String, Float> clean = terms(model.training(all, -1)), corrupt = terms(model.training(all, 1));
        assertTrue(clean.get("experts") > corrupt.get("experts"), "one expert fewer: " + clean + " vs " + corrupt);
        assertNotEquals(clean.get("mec"), corrupt.get("mec"), "MEC over the other three pairs");
        assertTrue(!terms(model.training(two, 0)).containsKey("mec"), "one agreeing expert left: no consistency term");
        assertEquals(clean.get("seg"), corrupt.get("seg"), 1e-6, "the fused prediction is the same graph");
        assertThrows(IllegalArgumentException.class, () -> model.training(two, 1), "T1ce is not given in FLAIR+T2");
    }

    private Map<String, Float> terms(CloeModel.Built b) {
        Map<String, Float> out = new HashMap<>();
        try (Graph.Run run = b.graph().run(be, inputs(23))) {
            b.terms().forEach((k, v) -> out.put(k, run.scalar(v)));
        }
        return out;
    }

    @Test
    void thePresetsTrainTheGateAndAnOlderConfigReadsAsBefore(@TempDir Path dir) throws Exception {
        for (String preset : new String[]{"paper", "rfnet", "tiny"}) {
            CloeConfig c = CloeConfig.preset(preset, MODS, 4);
            assertEquals(CloeConfig.RELIABILITY_AUGMENTATION, c.reliabilityAugmentation(), preset);
            assertEquals("centred", c.gateInput(), preset);
        }
        ObjectMapper json = new ObjectMapper();
        ObjectNode node = json.valueToTree(CloeConfig.tiny(MODS, 4));
        assertTrue(node.has("reliabilityAugmentation") && node.has("gateInput"), "the fields are written: " + node);
        node.remove("reliabilityAugmentation");
        node.remove("gateInput");
        Files.writeString(dir.resolve("config.json"), json.writeValueAsString(node));
        CloeConfig old = ModelCheckpoint.readConfig(dir);
        assertEquals(0f, old.reliabilityAugmentation(), "an older checkpoint trained without the augmentation");
        assertEquals("raw", old.gateInput(), "an older checkpoint's gate reads u, v as they are");
        assertEquals(CloeConfig.tiny(MODS, 4).withReliability(0f, "raw"), old);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> old.withReliability(0f, "scaled")).getMessage()
                .contains("gateInput"));
        assertThrows(IllegalArgumentException.class, () -> old.withReliability(2f, "raw"));
    }
}
