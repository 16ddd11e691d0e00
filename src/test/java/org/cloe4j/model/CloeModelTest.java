package org.cloe4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;

import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.data.Modality;
import org.cloe4j.graph.Graph;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class CloeModelTest {
    private static final List<Modality> MODS = CloeConfig.BRATS;
    private static final int WINDOW = 16;
    private final CpuBackend be = new CpuBackend();

    private Map<String, Tensor> images(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> in = new HashMap<>();
        for (Modality m : MODS) {
            float[] v = new float[WINDOW * WINDOW * WINDOW];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            in.put(CloeModel.imageInput(m), Tensor.wrap(Shape.ncdhw(1, 1, WINDOW, WINDOW, WINDOW), v));
        }
        return in;
    }

    private static CloeConfig config() {
        return CloeConfig.tiny(MODS, 4).withArchitecture(4, WINDOW);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // consistency on hand-made expert maps

    /** Three experts over 2 classes × 2 voxels, flattened [c0v0, c0v1, c1v0, c1v1]. */
    private float[][] handExperts() {
        return new float[][]{{1, 0, 0, 1}, {1, 0, 1, 0}, {0, 1, 0, 1}};
    }

    private float[] runScores(float[] present, boolean regional, String what) {
        GraphBuilder g = new GraphBuilder();
        Shape s = Shape.ncdhw(1, 2, 1, 1, 2);
        List<Value> experts = List.of(g.input("a", s), g.input("b", s), g.input("c", s));
        Value region = g.input("r", Shape.ncdhw(1, 1, 1, 1, 2));
        Consistency.Scores sc = Consistency.scores(g, experts, region, present, true, "");
        Value out = switch (what) {
            case "u" -> regional ? sc.v() : sc.u();
            default -> Consistency.loss(g, regional ? sc.sr() : sc.s(), present, "l");
        };
        float[][] e = handExperts();
        Map<String, Tensor> in = Map.of("a", Tensor.wrap(s, e[0]), "b", Tensor.wrap(s, e[1]), "c", Tensor.wrap(s, e[2]),
                "r", Tensor.wrap(Shape.ncdhw(1, 1, 1, 1, 2), new float[]{1, 0}));
        try (Graph.Run run = g.build(out).run(be, in)) {
            return be.toHost(run.get(out));
        }
    }

    @Test
    void globalScoresAreMeanCosinesWithTheOtherExperts() {
        // cos(a,b) = 1/2, cos(a,c) = 1/2, cos(b,c) = 0  ⇒  u = (1/2, 1/4, 1/4)
        float[] u = runScores(new float[]{1, 1, 1}, false, "u");
        assertEquals(0.5f, u[0], 1e-6f);
        assertEquals(0.25f, u[1], 1e-6f);
        assertEquals(0.25f, u[2], 1e-6f);
    }

    @Test
    void regionalScoresOnlySeeTheRegion() {
        // r keeps voxel 0: a_r = [1,0,0,0], b_r = [1,0,1,0] (b lies in voxel 0 already), c_r = 0
        //   ⇒ cos(a_r,b_r) = 1/√2, cosines with the zero map are 0  ⇒  v = (√2/4, √2/4, 0)
        float[] v = runScores(new float[]{1, 1, 1}, true, "u");
        assertEquals(Math.sqrt(2) / 4, v[0], 1e-6f);
        assertEquals(Math.sqrt(2) / 4, v[1], 1e-6f);
        assertEquals(0f, v[2], 1e-6f);
    }

    @Test
    void mecAndRecLossesAreOneMinusTheMeanPairSimilarity() {
        assertEquals(1f - (0.5f + 0.5f + 0f) / 3, runScores(new float[]{1, 1, 1}, false, "loss")[0], 1e-6f);
        assertEquals(1 - Math.sqrt(0.5) / 3, runScores(new float[]{1, 1, 1}, true, "loss")[0], 1e-6f);
        // only a and b present: one pair with cos 1/2; c must not count
        assertEquals(0.5f, runScores(new float[]{1, 1, 0}, false, "loss")[0], 1e-6f);
        float[] u = runScores(new float[]{1, 1, 0}, false, "u");
        assertEquals(0.5f, u[0], 1e-6f);
        assertEquals(0f, u[2], 0f, "an absent expert scores 0");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // gate and masking

    @Test
    void gateWeightsArePositiveOnPresentModalitiesAndExactlyZeroOnAbsentOnes() {
        CloeModel model = new CloeModel(config(), be);
        ModalityMask mask = ModalityMask.of(MODS, List.of(Modality.FLAIR, Modality.T2));
        CloeModel.Built b = model.inference(mask, WINDOW, false);
        try (Graph.Run run = b.graph().run(be, images(1))) {
            float[] w = be.toHost(run.get(b.w()));
            assertEquals(0f, w[1], 0f, "t1ce absent");
            assertEquals(0f, w[2], 0f, "t1 absent");
            assertTrue(w[0] > 0 && w[3] > 0);
            assertEquals(1f, w[0] + w[3], 1e-6f);
        }
    }

    @Test
    void withoutTheGateWeightsAreTheSoftmaxOfTheScores() {
        CloeModel model = new CloeModel(config().withAblations(Set.of(Ablation.NO_GATE)), be);
        CloeModel.Built b = model.inference(ModalityMask.full(MODS), WINDOW, true);
        try (Graph.Run run = b.graph().run(be, images(2))) {
            float[] u = be.toHost(run.get(b.u()));
            float[] v = be.toHost(run.get(b.v()));
            float[] w = be.toHost(run.get(b.w()));
            double z = 0;
            for (int i = 0; i < 4; i++) z += Math.exp(u[i] + v[i]);
            for (int i = 0; i < 4; i++) assertEquals(Math.exp(u[i] + v[i]) / z, w[i], 1e-6);
        }
    }

    @Test
    void skippingAbsentEncodersGivesTheSameOutputAsMaskingThem() {
        CloeModel model = new CloeModel(config(), be);
        Map<String, Tensor> in = images(3);
        for (ModalityMask mask : List.of(ModalityMask.of(MODS, List.of(Modality.T1CE)),
                ModalityMask.of(MODS, List.of(Modality.FLAIR, Modality.T1)), ModalityMask.of(MODS, List.of(Modality.FLAIR, Modality.T1CE, Modality.T2)))) {
            CloeModel.Built compact = model.inference(mask, WINDOW, true);
            CloeModel.Built full = model.inference(mask, WINDOW, false);
            assertTrue(compact.graph().forwardOps() < full.graph().forwardOps(), "compact graph must run fewer ops");
            Map<String, Tensor> only = new HashMap<>();
            for (Modality m : mask.presentModalities()) only.put(CloeModel.imageInput(m), in.get(CloeModel.imageInput(m)));
            try (Graph.Run a = compact.graph().run(be, only); Graph.Run b = full.graph().run(be, in)) {
                float[] pa = be.toHost(a.get(compact.prediction()));
                float[] pb = be.toHost(b.get(full.prediction()));
                // the full graph adds 0·features of the absent encoders: the same sums up to float rounding
                assertEquals(0.0, maxAbsDiff(pa, pb), 1e-5, "mask " + mask);
            }
        }
    }

    @Test
    void oneGraphForAllMasksMatchesOneGraphPerMask() {
        CloeModel model = new CloeModel(config(), be);
        Map<String, Tensor> in = images(4);
        List<ModalityMask> masks = ModalityMask.all(MODS);
        List<CloeModel.Built> multi = model.inferenceAllMasks(masks, WINDOW);
        try (Graph.Run all = multi.get(0).graph().run(be, in)) {
            for (int i : new int[]{0, 6, 14}) {
                CloeModel.Built single = model.inference(masks.get(i), WINDOW, false);
                try (Graph.Run one = single.graph().run(be, in)) {
                    assertEquals(0.0, maxAbsDiff(be.toHost(all.get(multi.get(i).prediction())),
                            be.toHost(one.get(single.prediction()))), 1e-6, "mask " + masks.get(i));
                }
            }
        }
    }

    @Test
    void aMaskOfAnotherModalitySetIsRejected() {
        CloeModel model = new CloeModel(config(), be);
        ModalityMask prostate = ModalityMask.full(List.of(Modality.T2, Modality.ADC));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.inference(prostate, WINDOW, true));
        assertTrue(e.getMessage().contains("adc"), e.getMessage());
    }

    @Test
    void papersFifteenCombinationsComeInTableOrder() {
        List<ModalityMask> all = ModalityMask.all(MODS);
        assertEquals(15, all.size());
        assertEquals("T2", all.get(0).label());
        assertEquals("FLAIR+T1ce", all.get(9).label());
        assertEquals("FLAIR+T1ce+T1+T2", all.get(14).label());
        assertEquals(3, ModalityMask.all(List.of(Modality.T2, Modality.ADC)).size());
    }

    /** A checkpoint's config.json names its sequences as before the typed form ("modalities": ["flair", ...]). */
    @Test
    void aConfigWritesItsModalitiesAsNamesAndReadsThemBack() throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        CloeConfig cfg = CloeConfig.tiny(List.of(Modality.T2, Modality.ADC), 3);
        String text = json.writeValueAsString(cfg);
        assertTrue(text.contains("\"modalities\":[\"t2\",\"adc\"]"), text);
        assertEquals(cfg, json.readValue(text, CloeConfig.class));
        String older = text.replace("[\"t2\",\"adc\"]", "[\"T2\",\"ADC\"]");
        assertEquals(List.of(Modality.T2, Modality.ADC), json.readValue(older, CloeConfig.class).modalities(),
                "names read case-insensitively, as Modality.of does");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the loss

    @Test
    void trainingLossIsTheSpecsWeightedSumOfItsTerms() {
        CloeConfig cfg = config();
        CloeModel model = new CloeModel(cfg, be);
        ModalityMask mask = ModalityMask.of(MODS, List.of(Modality.FLAIR, Modality.T1CE, Modality.T2));
        CloeModel.Built b = model.training(mask);
        Map<String, Tensor> in = new HashMap<>(images(5));
        int vox = WINDOW * WINDOW * WINDOW;
        float[] onehot = new float[4 * vox];
        float[] wt = new float[vox];
        for (int i = 0; i < vox; i++) {
            int c = i % 7 == 0 ? 3 : i % 5 == 0 ? 2 : i % 11 == 0 ? 1 : 0;
            onehot[c * vox + i] = 1;
            wt[i] = c > 0 ? 1 : 0;
        }
        in.put("target", Tensor.wrap(Shape.ncdhw(1, 4, WINDOW, WINDOW, WINDOW), onehot));
        in.put("wt", Tensor.wrap(Shape.ncdhw(1, 1, WINDOW, WINDOW, WINDOW), wt));
        try (Graph.Run run = b.graph().run(be, in)) {
            Map<String, Float> t = new HashMap<>();
            b.terms().forEach((k, v) -> t.put(k, run.scalar(v)));
            float expected = t.get("seg") + cfg.alpha() * (t.get("experts") + cfg.eta() * (t.get("mec")
                    + cfg.lambdaRec() * t.get("rec"))) + cfg.gamma() * t.get("region");
            assertEquals(expected, run.scalar(b.loss()), 1e-5f * Math.abs(expected));
            assertTrue(t.get("mec") >= 0 && t.get("mec") <= 2, "1 − cosine lies in [0, 2]");
            run.backward();
        }
        assertTrue(model.parameters().all().values().stream().allMatch(p -> p.grad() != null),
                "every parameter takes part in the training loss");
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
