package org.cloe4j.cuda;

import org.cloe4j.data.Modality;
import org.cloe4j.infer.CapturedInference;

import org.cloe4j.graph.Graph;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CLoE inference on CUDA: the tiny preset against the CPU from the same seed, every preset's graphs built and one
 * window run (the paper preset's 112³ included), and the captured CUDA graph replaying the same prediction as an
 * uncaptured run. Skips without a GPU.
 *
 * <p>Tolerance (tiny preset, FP32 convs): probabilities within 1e-3 absolute — float sums in another order through
 * ~20 layers, far below a real bug's O(0.1) differences. A replay runs the very same kernels on the very same inputs
 * as the uncaptured run; the inference kernels use no atomics, so the results should be bitwise equal — 1e-6 leaves
 * room for nothing but a reordered float sum, while a stale or shared buffer gives O(0.1) errors.
 */
class CudaInferenceTest {
    static final List<Modality> MODS = CloeConfig.BRATS;

    static Map<String, float[]> images(CloeModel.Built b, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, float[]> m = new HashMap<>();
        for (Map.Entry<String, Shape> e : b.graph().inputShapes().entrySet()) {
            float[] v = new float[e.getValue().intSize()];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            m.put(e.getKey(), v);
        }
        return m;
    }

    static Map<String, Tensor> upload(org.cloe4j.backend.Backend be, CloeModel.Built b, Map<String, float[]> images) {
        Map<String, Tensor> m = new HashMap<>();
        images.forEach((k, v) -> m.put(k, be.fromHost(b.graph().inputShapes().get(k), v)));
        return m;
    }

    @Test
    void tinyPresetInferenceMatchesTheCpuForEveryModalityMask() {
        CudaBackend g = GpuTest.cudaOrSkip();
        CloeConfig cfg = CloeConfig.tiny(MODS, 4).withArchitecture(4, 16);
        CloeModel mc = new CloeModel(cfg, GpuTest.CPU), mg = new CloeModel(cfg, g);
        for (ModalityMask mask : GpuTest.simulated() ? List.of(ModalityMask.full(MODS), ModalityMask.of(MODS, List.of(Modality.T1)))
                : ModalityMask.all(MODS)) {  // two masks on the CUDA simulator (CI time)
            CloeModel.Built bc = mc.inference(mask, 16, true), bg = mg.inference(mask, 16, true);
            Map<String, float[]> img = images(bc, 3);
            Map<String, Tensor> ic = upload(GpuTest.CPU, bc, img), ig = upload(g, bg, img);
            try (Graph.Run rc = bc.graph().run(GpuTest.CPU, ic); Graph.Run rg = bg.graph().run(g, ig)) {
                GpuTest.check("tiny inference " + mask.presentModalities(), rc.get(bc.prediction()).data(),
                        g.toHost(rg.get(bg.prediction())), 1e-3, 0);
            }
            ig.values().forEach(g::release);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tiny", "rfnet", "paper"})
    void everyPresetBuildsItsGraphsAndRunsOneWindow(String preset) {
        CudaBackend g = GpuTest.cudaOrSkip();
        org.junit.jupiter.api.Assumptions.assumeTrue(!GpuTest.simulated() || preset.equals("tiny"),
                "the " + preset + " preset's full-size window takes too long on the CUDA simulator (run on a GPU)");
        CloeConfig cfg = CloeConfig.preset(preset, MODS, 4);
        CloeModel m = new CloeModel(cfg, g);
        assertTrue(m.training(ModalityMask.full(MODS)).graph().forwardOps() > 0, "training graph builds");
        for (ModalityMask mask : List.of(ModalityMask.full(MODS), ModalityMask.of(MODS, List.of(Modality.FLAIR)))) {
            CloeModel.Built b = m.inference(mask, cfg.patch(), true);
            Map<String, Tensor> in = upload(g, b, images(b, 1));
            try (Graph.Run r = b.graph().run(g, in)) {
                Tensor p = r.get(b.prediction());
                int s = cfg.patch();
                assertEquals(Shape.ncdhw(1, 4, s, s, s), p.shape(), preset + " prediction shape");
                float[] h = g.toHost(p);
                double sum = 0;
                for (float v : h) {
                    assertTrue(Float.isFinite(v) && v >= 0 && v <= 1, preset + ": probability " + v);
                    sum += v;
                }
                assertEquals((double) s * s * s, sum, 1e-3 * s * s * s, preset + ": probabilities sum to 1 per voxel");
            }
            in.values().forEach(g::release);
        }
    }

    @Test
    void aCapturedGraphReplaysTheUncapturedPrediction() {
        CudaBackend g = GpuTest.cudaOrSkip();
        org.junit.jupiter.api.Assumptions.assumeTrue(g.launcherName().equals("panama"), "capture needs the Panama path");
        CloeConfig cfg = CloeConfig.tiny(MODS, 4).withArchitecture(4, 16);
        CloeModel m = new CloeModel(cfg, g);
        for (ModalityMask mask : List.of(ModalityMask.full(MODS), ModalityMask.of(MODS, List.of(Modality.T2)))) {
            CloeModel.Built b = m.inference(mask, 16, true);
            try (CapturedInference ci = new CapturedInference(b, g)) {
                for (long seed = 1; seed <= 2; seed++) {
                    Map<String, float[]> img = images(b, seed);
                    float[] replayed = ci.predict(img).clone();
                    float[] direct = ci.predictUncaptured();
                    GpuTest.check("replay vs uncaptured " + mask.presentModalities() + " seed " + seed, direct, replayed, 1e-6, 0);
                }
            }
        }
    }
}
