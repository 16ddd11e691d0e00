package org.cloe4j.cuda;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.data.Modality;
import org.cloe4j.graph.Graph;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Parameter;
import org.cloe4j.graph.Value;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.nn.Conv3dLayer;
import org.cloe4j.nn.ConvBlock;
import org.cloe4j.nn.ParameterStore;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.cloe4j.train.Adam;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Whole graphs on CUDA against the same graphs on the CPU, from the same seed: a two-level U-Net's training steps and
 * CLoE's training loss with every parameter gradient (tiny preset, base 4, 16³ window) in every conv3d variant, and
 * CLoE's inference. Needs a GPU (cuDNN only for the cuDNN variants); skips otherwise.
 *
 * <p>Tolerance in FP32 (our kernels v1 and v2, cuDNN FMA math): losses within 1e-3 relative, gradients within 1e-3
 * of each tensor's largest magnitude. The two backends sum in different orders (convolutions, block reductions vs
 * double accumulators) and the errors pass through ~10 layers; 1e-3 is well above that float noise and far below any
 * real bug (a wrong sign, index or scale moves values by O(1)).
 *
 * <p>With TF32 / BF16 convolutions every conv rounds its operands (2^-11 / 2^-9 relative each, see
 * {@link CudaConv3dParityTest}) and the errors of ~20 convs compound through instance norms and the softmax:
 * losses within 1e-2 (TF32) / 3e-2 (BF16) relative, each gradient within 3e-2 (TF32) / 1e-1 (BF16) of its norm
 * (||cuda - cpu|| / ||cpu||). These are first estimates from the per-layer bounds (x ~ sqrt(layers)), to be
 * confirmed on the GPU; a wrong kernel gives errors of order 1.
 */
class CudaModelParityTest {

    private static CudaBackend cuda(ConvVariant v) {
        CudaBackend g = GpuTest.cudaOrSkip();
        if (v.path().equals("cudnn")) assumeTrue(g.cudnnStatus().startsWith("loaded"), () -> "no cuDNN here: " + g.cudnnStatus());
        return g;
    }

    static Stream<ConvVariant> variants() {
        List<ConvVariant> all = new ArrayList<>(ConvVariant.kernels());
        all.addAll(ConvVariant.cudnn());
        return all.stream();
    }

    private static double lossTolerance(ConvVariant v) {
        return switch (v.precision()) {
            case "tf32" -> 1e-2;
            case "bf16" -> 3e-2;
            default -> 1e-3;
        };
    }

    private static void assertGradsClose(String what, ParameterStore cpu, ParameterStore gpu, Backend g, ConvVariant v) {
        if (!v.reduced()) {
            assertGradsClose(what, cpu, gpu, g);
            return;
        }
        double tol = v.precision().equals("tf32") ? 3e-2 : 1e-1;
        for (Map.Entry<String, Parameter> e : cpu.all().entrySet()) {
            Parameter pc = e.getValue(), pg = gpu.all().get(e.getKey());
            if (pc.grad() == null) continue;
            GpuTest.checkNorm(what + ": gradient of " + e.getKey(), pc.grad().data(), g.toHost(pg.grad()), tol, 1.0);
        }
    }

    private static void assertGradsClose(String what, ParameterStore cpu, ParameterStore gpu, Backend g) {
        assertGradsClose(what, cpu, gpu, g, 1e-3);
    }

    private static void assertGradsClose(String what, ParameterStore cpu, ParameterStore gpu, Backend g, double rel) {
        assertGradsClose(what, cpu, gpu, g, rel, name -> true);
    }

    /** As above for the parameters whose names {@code which} accepts. */
    private static void assertGradsClose(String what, ParameterStore cpu, ParameterStore gpu, Backend g, double rel,
                                         java.util.function.Predicate<String> which) {
        for (Map.Entry<String, Parameter> e : cpu.all().entrySet()) {
            if (!which.test(e.getKey())) continue;
            Parameter pc = e.getValue(), pg = gpu.all().get(e.getKey());
            if (pc.grad() == null) continue;
            float[] c = pc.grad().data(), d = g.toHost(pg.grad());
            double max = 0;
            for (float v : c) max = Math.max(max, Math.abs(v));
            double tol = rel * max + 1e-6;
            for (int i = 0; i < c.length; i++) {
                if (!(Math.abs(c[i] - d[i]) <= tol)) {
                    throw new AssertionError(what + ": gradient of " + e.getKey() + " [" + i + "] cuda " + d[i] + " cpu " + c[i]
                            + " (tolerance " + tol + ")");
                }
            }
        }
    }

    /** The names of the parameters that got a gradient, in a stable order. */
    static java.util.SortedSet<String> withGradient(ParameterStore ps) {
        java.util.SortedSet<String> names = new java.util.TreeSet<>();
        ps.all().forEach((name, p) -> {
            if (p.grad() != null) names.add(name);
        });
        return names;
    }

    private record UNet(Graph graph, Value loss, ParameterStore params) {
    }

    private static UNet unet(Backend be, int s) {
        ParameterStore ps = new ParameterStore(be, 42);
        ConvSpec same = ConvSpec.same3(ConvSpec.Padding.REFLECT);
        ConvBlock enc1 = new ConvBlock(ps, "enc1", 1, 8, same, 0.2f);
        ConvBlock down = new ConvBlock(ps, "down", 8, 16, ConvSpec.down3(ConvSpec.Padding.REFLECT), 0.2f);
        ConvBlock enc2 = new ConvBlock(ps, "enc2", 16, 16, same, 0.2f);
        ConvBlock up = new ConvBlock(ps, "up", 16, 8, same, 0.2f);
        ConvBlock dec = new ConvBlock(ps, "dec", 16, 8, same, 0.2f);
        Conv3dLayer head = new Conv3dLayer(ps, "head", 8, 2, ConvSpec.pointwise(), 1f);
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("image", Shape.ncdhw(1, 1, s, s, s));
        Value target = g.input("target", Shape.ncdhw(1, 2, s, s, s));
        Value e1 = enc1.apply(g, x);
        Value e2 = enc2.apply(g, down.apply(g, e1));
        Value d = dec.apply(g, g.concat(up.apply(g, g.upsample2x(e2)), e1));
        Value p = g.softmaxChannels(head.apply(g, d));
        Value loss = g.add(g.weightedCrossEntropy(p, target), g.softDice(p, target));
        return new UNet(g.buildTraining(loss), loss, ps);
    }

    @Test
    void unetTrainingStepsMatchTheCpu() {
        CudaBackend g = GpuTest.cudaOrSkip();
        org.cloe4j.backend.cpu.CpuBackend c = GpuTest.CPU;
        int s = 12;
        float[] image = new float[s * s * s], onehot = new float[2 * s * s * s];
        SplittableRandom r = new SplittableRandom(7);
        for (int i = 0; i < image.length; i++) {
            int z = i / (s * s), y = i / s % s, xx = i % s;
            boolean in = (z - 6) * (z - 6) + (y - 5) * (y - 5) + (xx - 6) * (xx - 6) < 12;
            image[i] = (in ? 1f : 0f) + (float) r.nextGaussian() * 0.3f;
            onehot[(in ? 1 : 0) * image.length + i] = 1f;
        }
        UNet uc = unet(c, s), ug = unet(g, s);
        Shape img = Shape.ncdhw(1, 1, s, s, s), tgt = Shape.ncdhw(1, 2, s, s, s);
        Map<String, Tensor> bc = Map.of("image", c.fromHost(img, image), "target", c.fromHost(tgt, onehot));
        Map<String, Tensor> bg = Map.of("image", g.fromHost(img, image), "target", g.fromHost(tgt, onehot));
        AdamConfig cfg = new AdamConfig(0.9f, 0.999f, 1e-8f, 0f, true);
        try (Adam ac = new Adam(uc.params().all().values(), cfg); Adam ag = new Adam(ug.params().all().values(), cfg)) {
            for (int step = 0; step < 4; step++) {
                uc.params().zeroGrad();
                ug.params().zeroGrad();
                float lc, lg;
                try (Graph.Run rc = uc.graph().run(c, bc); Graph.Run rg = ug.graph().run(g, bg)) {
                    lc = rc.scalar(uc.loss());
                    lg = rg.scalar(ug.loss());
                    rc.backward();
                    rg.backward();
                }
                assertEquals(lc, lg, 1e-3 * Math.abs(lc), "U-Net loss at step " + step);
                if (step == 0) assertGradsClose("U-Net step 0", uc.params(), ug.params(), g);
                ac.step(1e-2f);
                ag.step(1e-2f);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("variants")
    void cloeTrainingLossAndGradientsMatchTheCpu(ConvVariant variant) {
        CudaBackend g = cuda(variant);
        // on the CUDA simulator one variant (every conv kernel and version is checked by CudaConv3dParityTest)
        assumeTrue(!GpuTest.simulated() || variant.equals(new ConvVariant("kernels", CudaOptions.latestVersion("conv3d"), "fp32")),
                "on the CUDA simulator only the default conv variant trains the model (CI time)");
        // (on the simulator with every modality present; see the LeakyReLU kink in cloeTrainingParity)
        ModalityMask mask = GpuTest.simulated() ? ModalityMask.full(CloeConfig.BRATS)
                : ModalityMask.of(CloeConfig.BRATS, List.of(Modality.FLAIR, Modality.T1CE, Modality.T2));
        cloeTrainingParity(variant.on(g), variant, mask);
    }

    /** Every one of the 15 modality sets trains the same on CUDA (default conv variant: v3 FP32). */
    @Test
    void cloeTrainingMatchesTheCpuForEveryModalityMask() {
        CudaBackend g = GpuTest.cudaOrSkip();
        assumeTrue(!GpuTest.simulated(), "15 CLoE training steps take too long on the CUDA simulator (one runs in cloeTrainingLossAndGradientsMatchTheCpu)");
        ConvVariant v = new ConvVariant("kernels", CudaOptions.latestVersion("conv3d"), "fp32");
        for (ModalityMask mask : ModalityMask.all(CloeConfig.BRATS)) cloeTrainingParity(v.on(g), v, mask);
    }

    private void cloeTrainingParity(CudaBackend g, ConvVariant variant, ModalityMask mask) {
        org.cloe4j.backend.cpu.CpuBackend c = GpuTest.CPU;
        List<Modality> mods = CloeConfig.BRATS;
        int win = 16;
        CloeConfig cfg = CloeConfig.tiny(mods, 4).withArchitecture(4, win);
        CloeModel mc = new CloeModel(cfg, c), mg = new CloeModel(cfg, g);
        CloeModel.Built bc = mc.training(mask), bg = mg.training(mask);
        Map<String, Tensor> ic = new HashMap<>(), ig = new HashMap<>();
        SplittableRandom r = new SplittableRandom(5);
        Shape one = Shape.ncdhw(1, 1, win, win, win);
        for (Modality m : mods) {
            float[] v = new float[win * win * win];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            ic.put(CloeModel.imageInput(m), c.fromHost(one, v));
            ig.put(CloeModel.imageInput(m), g.fromHost(one, v));
        }
        int vox = win * win * win;
        float[] onehot = new float[4 * vox], wt = new float[vox];
        for (int i = 0; i < vox; i++) {
            int k = i % 7 == 0 ? 3 : i % 5 == 0 ? 2 : i % 11 == 0 ? 1 : 0;
            onehot[k * vox + i] = 1;
            wt[i] = k > 0 ? 1 : 0;
        }
        Shape tgt = Shape.ncdhw(1, 4, win, win, win);
        ic.put("target", c.fromHost(tgt, onehot));
        ig.put("target", g.fromHost(tgt, onehot));
        ic.put("wt", c.fromHost(one, wt));
        ig.put("wt", g.fromHost(one, wt));
        try (Graph.Run rc = bc.graph().run(c, ic); Graph.Run rg = bg.graph().run(g, ig)) {
            for (Map.Entry<String, Value> e : bc.terms().entrySet()) {
                float vc = rc.scalar(e.getValue()), vg = rg.scalar(bg.terms().get(e.getKey()));
                assertEquals(vc, vg, lossTolerance(variant) * Math.abs(vc) + 1e-6, variant + " " + mask.presentModalities() + ": CLoE loss term " + e.getKey());
            }
            float lc = rc.scalar(bc.loss()), lg = rg.scalar(bg.loss());
            assertEquals(lc, lg, lossTolerance(variant) * Math.abs(lc), variant + " " + mask.presentModalities() + ": CLoE total loss");
            rc.backward();
            rg.backward();
        }
        ig.values().forEach(g::release);
        String what = variant + " " + mask.presentModalities() + ": CLoE training step";
        // exactly the parameters the CPU backend gives a gradient get one on CUDA: with one sequence the gate is not
        // in the graph (nothing to weigh), so its parameters legitimately get none, on both backends
        assertEquals(withGradient(mc.parameters()), withGradient(mg.parameters()), what + ": the parameters that get a gradient");
        assertTrue(withGradient(mc.parameters()).stream().anyMatch(n -> n.contains("decoder")),
                what + ": the decoder gets a gradient on the CPU: " + withGradient(mc.parameters()));
        if (GpuTest.simulated() && !variant.reduced()) {
            // The t1 encoder on the simulator, every modality present: one voxel sits on the LeakyReLU's kink.
            // Traced op by op (every forward value and every backward gradient of the graph, CPU against simulated
            // CUDA): all match within 5e-6 of their tensor's largest value up to the backward of the activation after
            // encoder.t1.e2_c1's instance norm ([1, 8, 8, 8, 8]). There one pre-activation is 1.79e-7 on the CPU and
            // -4.09e-7 on CUDA (the tensor's values reach 4.15; the two backends' forward differences are <= 1.7e-6,
            // float noise of different summation orders), so its sign differs: the CPU passes the incoming gradient
            // -4.573e-4 with slope 1, CUDA with slope 0.2 (-9.15e-5), a difference of 3.66e-4 = 0.11 of the tensor's
            // largest gradient at that one voxel, and 0 at the other 4095. Nothing else differs beyond float noise;
            // that one voxel flows back through e2_c1 (weight gradient 6.1e-4 = 2.0e-2 of its max, as expected from
            // 2.8e-4 after the norm times activations of order 2) and e1_c3..e1_c1 (1.0e-2..1.6e-2 of their max).
            // Setting that one voxel's CPU gradient to CUDA's value (-9.15e-5) during the CPU backward brings every t1
            // gradient within 6.2e-6 of its max. The derivative is discontinuous there, so neither side is wrong: a
            // conditioning matter of this input, not a kernel or memory-plan bug. Tolerance for the t1
            // encoder: 5e-2 of each tensor's largest value (2.5x the 2.0e-2 one flipped voxel gives; a wrong sign,
            // index or scale gives O(1)). Every other gradient is checked at 1e-3 as on a GPU.
            assertGradsClose(what + " (simulated)", mc.parameters(), mg.parameters(), g, 1e-3, n -> !n.startsWith("encoder.t1."));
            assertGradsClose(what + " (simulated, t1 encoder: one voxel on the LeakyReLU kink)", mc.parameters(), mg.parameters(), g, 5e-2,
                    n -> n.startsWith("encoder.t1."));
        } else {
            assertGradsClose(what, mc.parameters(), mg.parameters(), g, variant);
        }
    }
}
