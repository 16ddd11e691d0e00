package org.cloe4j.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.backend.Backends;
import org.cloe4j.data.Modality;
import org.cloe4j.graph.Graph;
import org.cloe4j.graph.OpProfile;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.cloe4j.train.Adam;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Whole-model throughput on the backend picked by {@code cloe.backend} (default: best available): one training step
 * (forward, backward and Adam for one sample, all four sequences present) and the inference of one window with all
 * four sequences and with one. A full-volume prediction is the number of windows times the window's time (27 windows
 * of 112³ for a 160×192×160 BraTS crop at 50 % overlap; see README).
 *
 * <p>Run: {@code scripts/bench CloeStepBench -p preset=tiny} (the paper preset takes minutes per step on two cores:
 * {@code scripts/bench CloeStepBench -p preset=paper -wi 0 -i 1}). With {@code -jvmArgsAppend -Dcloe.profile=true} each
 * benchmark's fork prints the per-op profile of its last iteration's invocations at the end.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 10)
@Measurement(iterations = 3, time = 10)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "-Xmx16g"})
public class CloeStepBench {
    @Param({"tiny", "paper"})
    public String preset;

    private Backend be;
    private CloeModel model;
    private Adam adam;
    private Map<String, Tensor> train;
    private Map<String, Tensor> flairOnly;
    private CloeModel.Built step;
    private CloeModel.Built inferAll;
    private CloeModel.Built inferOne;

    @Setup(Level.Trial)
    public void setUp() {
        be = Backends.pick();
        CloeConfig cfg = CloeConfig.preset(preset, CloeConfig.BRATS, 4);
        model = new CloeModel(cfg, be);
        adam = new Adam(model.parameters().all().values(), AdamConfig.cloe());
        int p = cfg.patch();
        Shape img = Shape.ncdhw(1, 1, p, p, p);
        SplittableRandom r = new SplittableRandom(1);
        train = new HashMap<>();
        for (Modality m : cfg.modalities()) train.put(CloeModel.imageInput(m), be.fromHost(img, gaussian(r, p * p * p)));
        int vox = p * p * p;
        float[] onehot = new float[4 * vox];
        float[] wt = new float[vox];
        for (int i = 0; i < vox; i++) {
            int c = r.nextInt(10) < 7 ? 0 : 1 + r.nextInt(3);
            onehot[c * vox + i] = 1;
            wt[i] = c > 0 ? 1 : 0;
        }
        train.put("target", be.fromHost(Shape.ncdhw(1, 4, p, p, p), onehot));
        train.put("wt", be.fromHost(img, wt));
        flairOnly = Map.of(CloeModel.imageInput(Modality.FLAIR), train.get(CloeModel.imageInput(Modality.FLAIR)));
        step = model.training(ModalityMask.full(cfg.modalities()));
        inferAll = model.inference(ModalityMask.full(cfg.modalities()), p, true);
        inferOne = model.inference(ModalityMask.of(cfg.modalities(), java.util.List.of(Modality.FLAIR)), p, true);
    }

    /**
     * With the profile on, each iteration starts it afresh, so the table printed at the end covers the last iteration
     * only: the steady state, without the first invocation's interpretation and JIT compilation.
     */
    @Setup(Level.Iteration)
    public void resetProfile() {
        if (OpProfile.enabled()) OpProfile.reset();
    }

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.printf("%n[%s on %s] training graph: %d ops forward, %d backward, planned peak %.1f MiB; "
                        + "inference (4 seq) planned peak %.1f MiB%n", preset, be, step.graph().forwardOps(),
                step.graph().backwardOps(), step.graph().plannedPeakBytes() / 1048576.0,
                inferAll.graph().plannedPeakBytes() / 1048576.0);
        // -jvmArgsAppend -Dcloe.profile=true: where this benchmark's time went, op by op (the invocations of the last
        // iteration), so the next bottleneck is visible.
        if (OpProfile.enabled()) System.out.printf("[%s on %s] per-op profile (the last iteration's invocations):%n%s", preset, be, OpProfile.table());
    }

    @Benchmark
    public float trainStep() {
        model.parameters().zeroGrad();
        float loss;
        try (Graph.Run run = step.graph().run(be, train)) {
            loss = run.scalar(step.loss());
            run.backward();
        }
        adam.step(1e-5f);
        return loss;
    }

    @Benchmark
    public float inferWindowAllFour() {
        try (Graph.Run run = inferAll.graph().run(be, train)) {
            return be.toHost(run.get(inferAll.w()))[0];
        }
    }

    @Benchmark
    public float inferWindowFlairOnly() {
        try (Graph.Run run = inferOne.graph().run(be, flairOnly)) {
            return be.toHost(run.get(inferOne.w()))[0];
        }
    }
}
