package org.cloe4j.bench;

import org.cloe4j.cuda.CudaBackend;
import org.cloe4j.cuda.CudaOptions;
import org.cloe4j.cuda.CudaDriver;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.util.concurrent.TimeUnit;

/**
 * Host-side cost of one kernel launch, Panama vs JCuda: 64 launches of a one-element kernel then one synchronise,
 * so the GPU work per launch (~2 µs, the same for both paths) is amortised and the difference is the binding's own
 * overhead (argument marshalling, the downcall or JNI transition). Needs a GPU; {@link #main} exits cleanly without.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(0)
public class CudaLaunchOverheadBench {
    private static final int LAUNCHES = 64;

    @Param({"panama", "jcuda"})
    public String launcher;

    private CudaBackend backend;
    private Tensor x;
    private Tensor y;

    @Setup(Level.Trial)
    public void setUp() {
        CudaOptions o = CudaOptions.fromSystemProperties();
        backend = new CudaBackend(Integer.getInteger("cloe.cuda.device", 0), o.withLauncher(launcher, o.syncEachLaunch()));
        if (!backend.isAvailable()) throw new IllegalStateException("no GPU: " + backend.unavailableReason());
        x = backend.fromHost(Shape.of(1), new float[]{1f});
        y = backend.allocate(Shape.of(1));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        backend.release(x);
        backend.release(y);
        backend.close();
    }

    @Benchmark
    @OperationsPerInvocation(LAUNCHES)
    public void launch() {
        for (int i = 0; i < LAUNCHES; i++) backend.scale(x, 2f, y);
        backend.synchronize();
    }

    public static void main(String[] args) throws RunnerException {
        if (!CudaDriver.get().isAvailable()) {
            System.out.println("launch-overhead benchmark skipped: no GPU here (" + CudaDriver.get().unavailableReason() + ")");
            return;
        }
        new Runner(new OptionsBuilder().include(CudaLaunchOverheadBench.class.getSimpleName()).build()).run();
    }
}
