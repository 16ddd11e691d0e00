package org.cloe4j.cuda;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.Pointwise;
import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.bench.CudaKernelBench;
import org.cloe4j.bench.CudaLaunchOverheadBench;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.platform.engine.DiscoverySelector;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * One stage of the staged GPU suite ({@code scripts/gpu-suite} runs each stage in its own JVM, under its own time box,
 * cheap before expensive, so that a sticky CUDA error or a hang in one stage leaves the later stages a clean process):
 * <ol>
 *   <li>{@code smoke} (~20 s): driver and device found, the fatbin loads, one op per kernel file launched through
 *       Panama and through JCuda with a synchronising check after every launch ({@code -Dcloe.cuda.syncEachLaunch}),
 *       so a fault names its kernel; each result compared with the CPU backend; cuDNN found or its absence named;</li>
 *   <li>{@code kernels}: the runtime tests, the parity tests of every kernel and version against the CPU backend, then
 *       the project's backend op tests ({@code org.cloe4j.backend}) on CUDA;</li>
 *   <li>{@code model}: CLoE (tiny preset) training and inference on the GPU against the CPU backend, the CLI with
 *       {@code --backend cuda}, captured inference, and the CPU backend against the PyTorch reference;</li>
 *   <li>{@code bench}: the kernel benchmarks (GB/s against the measured copy bandwidth) and Panama vs JCuda launch
 *       overhead (JMH); the script then runs the side-by-side model benchmark against PyTorch;</li>
 *   <li>{@code service}: captured-graph inference latency (host wall time per request, inputs in, labels out).</li>
 * </ol>
 * Every test is one row of the report, appended and flushed as it finishes ({@link SuiteReport}); failures are printed
 * as they happen. Within a stage, test classes run in order, and a sticky CUDA error ({@link CudaException#isSticky})
 * stops the stage: the classes left are listed as not run. The time box stops the stage the same way.
 *
 * <p>Usage: {@code GpuSuite --stage NAME [--report FILE] [--time-box SECONDS]}; {@code GpuSuite --header} writes the
 * report's opening lines. Exit status 0 when nothing failed (skips included: without a GPU every stage reports
 * "no GPU" and its tests skip), 1 when something failed, 3 when the time box ran out.
 */
public final class GpuSuite {
    /** The stages in the order the script runs them. */
    static final List<String> STAGES = List.of("smoke", "kernels", "model", "bench", "service");

    public static void main(String[] args) throws Exception {
        Path report = Path.of(System.getenv("OUT") != null ? System.getenv("OUT") + "/gpu-report.md" : "target/gpu-report.md");
        String stage = null;
        boolean header = false;
        int box = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--report" -> report = Path.of(args[++i]);
                case "--stage" -> stage = args[++i];
                case "--time-box" -> box = Integer.parseInt(args[++i]);
                case "--header" -> header = true;
                default -> {
                    System.err.println("gpu-suite: unknown option " + args[i]);
                    System.exit(2);
                }
            }
        }
        SuiteReport r = new SuiteReport(report, System.out);
        if (header) {
            header(r);
            System.exit(0);
        }
        if (stage == null || !STAGES.contains(stage)) {
            System.err.println("gpu-suite: --stage must be one of " + STAGES + ", got " + stage);
            System.exit(2);
        }
        int code = new GpuSuite(r, stage, box > 0 ? box : defaultBox(stage)).run();
        System.exit(code);
    }

    static int defaultBox(String stage) {
        return switch (stage) {
            case "smoke" -> 20;
            case "kernels" -> 150;
            case "model" -> 150;
            case "bench" -> 120;
            default -> 60;
        };
    }

    static void header(SuiteReport r) {
        CudaDriver driver = CudaDriver.get();
        r.append("# cloe4j GPU suite\n");
        r.append("- date: " + Instant.now());
        r.append("- java: " + System.getProperty("java.vm.name") + " " + Runtime.version());
        r.append("- CUDA: " + driver);
        r.append("- stages (each in its own JVM, time-boxed): " + String.join(", ", STAGES));
    }

    private final SuiteReport report;
    private final String stage;
    private final int box;
    private final long deadline;
    private final long t0 = System.nanoTime();
    /** The first sticky CUDA error of this stage, or null. */
    private volatile String sticky;

    GpuSuite(SuiteReport report, String stage, int box) {
        this.report = report;
        this.stage = stage;
        this.box = box;
        this.deadline = t0 + TimeUnit.SECONDS.toNanos(box);
    }

    /** A named part of a stage: a set of test classes, or a piece of code that writes its own rows. */
    record Unit(String name, LauncherDiscoveryRequest tests, String property, Runnable body) {
        static Unit tests(String name, DiscoverySelector... selectors) {
            return new Unit(name, LauncherDiscoveryRequestBuilder.request().selectors(selectors).build(), null, null);
        }

        static Unit code(String name, Runnable body) {
            return new Unit(name, null, null, body);
        }
    }

    int run() {
        String what = switch (stage) {
            case "smoke" -> "driver, device, fatbin, one launch per kernel file (Panama and JCuda), cuDNN";
            case "kernels" -> "runtime, every kernel and version against the CPU backend, backend op tests on CUDA";
            case "model" -> "CLoE on the GPU against the CPU backend, CLI, captured inference; CPU against PyTorch";
            case "bench" -> "kernel bandwidth, launch overhead (the script adds the side-by-side model benchmark)";
            default -> "captured-graph service latency";
        };
        report.stage(stage, what, box);
        CudaDriver driver = CudaDriver.get();
        if (!driver.isAvailable()) {
            // one clean line per stage: nothing here can run without a GPU
            report.row(stage, SuiteReport.Result.SKIPPED, 0, "no GPU here: " + driver.unavailableReason());
            report.stageSummary(stage, seconds());
            return 0;
        }
        List<Unit> units = switch (stage) {
            case "smoke" -> List.of(Unit.code("smoke", this::smoke));
            case "kernels" -> List.of(
                    Unit.tests("runtime", DiscoverySelectors.selectClass(CudaRuntimeTest.class.getName())),
                    Unit.tests("kernel parity", DiscoverySelectors.selectClass(CudaKernelParityTest.class.getName())),
                    Unit.tests("conv3d parity", DiscoverySelectors.selectClass(CudaConv3dParityTest.class.getName())),
                    new Unit("backend op tests on CUDA", LauncherDiscoveryRequestBuilder.request()
                            .selectors(DiscoverySelectors.selectPackage("org.cloe4j.backend"))
                            .filters(ClassNameFilter.includeClassNamePatterns(".*Test"),
                                    ClassNameFilter.excludeClassNamePatterns("org\\.cloe4j\\.backend\\.cpu\\..*"))
                            .build(), "cloe.test.backend=cuda", null));
            case "model" -> List.of(
                    Unit.tests("captured inference", DiscoverySelectors.selectClass(CudaInferenceTest.class.getName())),
                    Unit.tests("CLoE parity", DiscoverySelectors.selectClass(CudaModelParityTest.class.getName())),
                    Unit.tests("CLI on CUDA", DiscoverySelectors.selectClass(CudaCliTest.class.getName())),
                    Unit.tests("CPU against PyTorch", DiscoverySelectors.selectClass("org.cloe4j.model.PyTorchParityTest")));
            case "bench" -> List.of(Unit.code("kernel benchmarks", this::kernelBench), Unit.code("launch overhead", this::jmh));
            default -> List.of(Unit.code("service latency", this::serviceLatency));
        };
        return runUnits(units);
    }

    /** Runs the units in order, stopping after a sticky CUDA error or when the time box runs out; the exit status. */
    int runUnits(List<Unit> units) {
        boolean timedOut = false;
        for (int i = 0; i < units.size(); i++) {
            Unit u = units.get(i);
            String stop = sticky != null ? "stage stopped after a sticky CUDA error: " + sticky
                    : System.nanoTime() > deadline ? "stage time box (" + box + " s) ran out" : null;
            if (stop != null) {
                for (Unit left : units.subList(i, units.size())) report.row(left.name(), SuiteReport.Result.NOT_RUN, 0, stop);
                break;
            }
            if (!runWithinBox(u)) {
                timedOut = true;
                for (Unit left : units.subList(i + 1, units.size())) {
                    report.row(left.name(), SuiteReport.Result.NOT_RUN, 0, "stage time box (" + box + " s) ran out");
                }
                break;
            }
        }
        report.stageSummary(stage, seconds());
        if (timedOut) return 3;
        return report.failed() == 0 ? 0 : 1;
    }

    private double seconds() {
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Runs one unit on a worker thread; false when the stage's time box ran out first (the unit is abandoned). */
    private boolean runWithinBox(Unit u) {
        var exec = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "gpu-suite-" + u.name());
            t.setDaemon(true);
            return t;
        });
        long start = System.nanoTime();
        Future<?> f = exec.submit(() -> {
            String key = null, old = null;
            if (u.property() != null) {
                key = u.property().substring(0, u.property().indexOf('='));
                old = System.getProperty(key);
                System.setProperty(key, u.property().substring(key.length() + 1));
            }
            try {
                if (u.body() != null) u.body().run();
                else LauncherFactory.create().execute(u.tests(), new Rows(u.name()));
            } finally {
                if (key != null) {
                    if (old == null) System.clearProperty(key);
                    else System.setProperty(key, old);
                }
            }
        });
        try {
            f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            report.row(u.name(), SuiteReport.Result.FAILED, (System.nanoTime() - start) / 1_000_000,
                    "TIMED OUT: still running when the stage's time box (" + box + " s) ran out");
            return false;
        } catch (ExecutionException e) {
            noteSticky(u.name(), e.getCause());
            report.row(u.name(), SuiteReport.Result.FAILED, (System.nanoTime() - start) / 1_000_000, String.valueOf(e.getCause()));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            exec.shutdownNow();
        }
    }

    /** Records the first sticky CUDA error found in {@code t}'s cause chain. */
    private void noteSticky(String where, Throwable t) {
        String s = stickyIn(t);
        if (s != null && sticky == null) sticky = s + " (in " + where + ")";
    }

    /** The sticky CUDA error in {@code t}'s cause chain, described, or null. */
    static String stickyIn(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof CudaException ce && ce.isSticky()) return ce.errorName() + " from " + ce.call();
            if (c.getCause() == c) break;
        }
        return null;
    }

    /** One row per test, appended as each finishes. */
    private final class Rows implements TestExecutionListener {
        private final String unit;
        private final ConcurrentHashMap<String, Long> started = new ConcurrentHashMap<>();

        Rows(String unit) {
            this.unit = unit;
        }

        private String name(TestIdentifier id) {
            String cls = id.getSource().map(s -> s instanceof org.junit.platform.engine.support.descriptor.MethodSource m
                    ? m.getClassName().replaceFirst("^org\\.cloe4j\\.(cuda\\.)?", "") + "." : "").orElse("");
            return cls + id.getLegacyReportingName();
        }

        @Override
        public void executionStarted(TestIdentifier id) {
            started.put(id.getUniqueId(), System.nanoTime());
        }

        @Override
        public void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest() || id.isContainer() && id.getSource().isPresent()) {
                report.row(name(id) + (id.isTest() ? "" : " (all)"), SuiteReport.Result.SKIPPED, 0, reason);
            }
        }

        @Override
        public void executionFinished(TestIdentifier id, TestExecutionResult r) {
            Long t = started.get(id.getUniqueId());
            long ms = t == null ? 0 : (System.nanoTime() - t) / 1_000_000;
            String note = r.getThrowable().map(String::valueOf).orElse("");
            r.getThrowable().ifPresent(e -> noteSticky(unit + ": " + name(id), e));
            if (!id.isTest()) {
                if (r.getStatus() == TestExecutionResult.Status.FAILED) {
                    report.row(name(id) + " (container)", SuiteReport.Result.FAILED, ms, note);
                }
                return;
            }
            report.row(name(id), switch (r.getStatus()) {
                case SUCCESSFUL -> SuiteReport.Result.PASSED;
                case ABORTED -> SuiteReport.Result.SKIPPED;
                case FAILED -> SuiteReport.Result.FAILED;
            }, ms, note);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // smoke

    /** One op per kernel file: the file, the op, and the op run on a backend (returns the output on the host). */
    record SmokeOp(String file, String op, Function<Backend, float[]> run) {
    }

    private static Tensor t(Backend be, Shape s, int seed) {
        float[] v = new float[s.intSize()];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(seed * 7.1 + i * 0.37);
        return be.fromHost(s, v);
    }

    static List<SmokeOp> smokeOps() {
        Shape vol = Shape.ncdhw(1, 2, 4, 4, 4);
        return List.of(
                new SmokeOp("elementwise.cu", "scale", be -> {
                    Tensor y = be.allocate(vol);
                    be.scale(t(be, vol, 1), 2f, y);
                    return be.toHost(y);
                }),
                new SmokeOp("activation.cu", "leakyRelu", be -> {
                    Tensor y = be.allocate(vol);
                    be.pointwise(Pointwise.LEAKY_RELU, 0.2f, t(be, vol, 2), y);
                    return be.toHost(y);
                }),
                new SmokeOp("conv3d.cu", "conv3d", be -> {
                    Tensor y = be.allocate(Shape.ncdhw(1, 3, 4, 4, 4));
                    be.conv3d(t(be, vol, 3), t(be, Shape.ncdhw(3, 2, 3, 3, 3), 4), t(be, Shape.of(3), 5), y,
                            ConvSpec.same3(ConvSpec.Padding.REFLECT));
                    return be.toHost(y);
                }),
                new SmokeOp("norm.cu", "instanceNorm", be -> {
                    Tensor y = be.allocate(vol), mean = be.allocate(Shape.of(1, 2)), rstd = be.allocate(Shape.of(1, 2));
                    be.instanceNorm(t(be, vol, 6), t(be, Shape.of(2), 7), t(be, Shape.of(2), 8), y, mean, rstd, 1e-5f);
                    return be.toHost(y);
                }),
                new SmokeOp("resample.cu", "upsample2x", be -> {
                    Tensor y = be.allocate(Shape.ncdhw(1, 2, 8, 8, 8));
                    be.upsample2x(t(be, vol, 9), y);
                    return be.toHost(y);
                }),
                new SmokeOp("loss.cu", "softDice", be -> {
                    Tensor p = be.allocate(vol), loss = be.allocate(Shape.scalar());
                    be.softmaxChannels(t(be, vol, 10), p);
                    Tensor target = be.allocate(vol);
                    be.softmaxChannels(t(be, vol, 11), target);
                    be.softDice(p, target, loss);
                    return be.toHost(loss);
                }),
                new SmokeOp("consistency.cu", "pairwiseCosine", be -> {
                    Tensor s = be.allocate(Shape.of(2, 2));
                    be.pairwiseCosine(new Tensor[]{t(be, vol, 12), t(be, vol, 13)}, null, s);
                    return be.toHost(s);
                }),
                new SmokeOp("gating.cu", "maskedSoftmax", be -> {
                    Tensor y = be.allocate(Shape.of(4));
                    be.maskedSoftmax(t(be, Shape.of(4), 14), be.fromHost(Shape.of(4), new float[]{1, 0, 1, 1}), y);
                    return be.toHost(y);
                }),
                new SmokeOp("optim.cu", "adamStep", be -> {
                    Shape s = Shape.of(16);
                    Tensor p = t(be, s, 15), m = be.allocate(s), v = be.allocate(s), vmax = be.allocate(s);
                    be.fill(m, 0f);
                    be.fill(v, 0f);
                    be.fill(vmax, 0f);
                    be.adamStep(p, t(be, s, 16), m, v, vmax, 1e-2f, 1, AdamConfig.cloe());
                    return be.toHost(p);
                }));
    }

    private void smoke() {
        long t = System.nanoTime();
        CudaDriver driver = CudaDriver.get();
        report.row("smoke: driver", SuiteReport.Result.PASSED, 0, driver.toString());
        CudaDevice dev = driver.device(0);
        report.row("smoke: device", SuiteReport.Result.PASSED, 0, dev.toString());
        byte[] fatbin = KernelImage.load();
        report.row("smoke: fatbin", fatbin != null ? SuiteReport.Result.PASSED : SuiteReport.Result.FAILED,
                (System.nanoTime() - t) / 1_000_000, fatbin != null ? fatbin.length + " bytes on the class path"
                        : "org/cloe4j/cuda/cloe_kernels.fatbin is not on the class path (packed without nvcc?)");
        if (fatbin == null) return;
        CpuBackend cpu = new CpuBackend();
        String cudnn = null;
        for (String launcher : List.of("panama", "jcuda")) {
            CudaBackend g = new CudaBackend(Integer.getInteger("cloe.cuda.device", 0),
                    CudaOptions.fromSystemProperties().withLauncher(launcher, true));
            long loadStart = System.nanoTime();
            boolean ok = g.isAvailable();
            report.row("smoke: " + launcher + ": module load", ok ? SuiteReport.Result.PASSED : SuiteReport.Result.FAILED,
                    (System.nanoTime() - loadStart) / 1_000_000, ok ? "launcher " + g.launcherName() : g.unavailableReason());
            if (!ok) continue;
            for (SmokeOp op : smokeOps()) {
                String row = "smoke: " + launcher + ": " + op.file() + " (" + op.op() + ")";
                if (sticky != null) {
                    report.row(row, SuiteReport.Result.NOT_RUN, 0, "after a sticky CUDA error: " + sticky);
                    continue;
                }
                long s = System.nanoTime();
                try {
                    float[] got = op.run().apply(g), want = op.run().apply(cpu);
                    String diff = compare(want, got);
                    report.row(row, diff == null ? SuiteReport.Result.PASSED : SuiteReport.Result.FAILED,
                            (System.nanoTime() - s) / 1_000_000, diff == null ? "matches the CPU backend" : diff);
                } catch (Throwable e) {
                    noteSticky(row, e);
                    report.row(row, SuiteReport.Result.FAILED, (System.nanoTime() - s) / 1_000_000, String.valueOf(e));
                }
            }
            if (cudnn == null) cudnn = g.cudnnStatus();
        }
        boolean found = cudnn != null && cudnn.startsWith("loaded");
        report.row("smoke: cuDNN", found ? SuiteReport.Result.PASSED : SuiteReport.Result.SKIPPED, 0,
                cudnn == null ? "not probed (no launcher started)" : found ? cudnn : "absent: " + cudnn);
    }

    /** Null when {@code got} is within 1e-3 + 1e-3·|want| of {@code want} everywhere (a smoke check, not parity). */
    static String compare(float[] want, float[] got) {
        if (want.length != got.length) return got.length + " values, expected " + want.length;
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= 1e-3 + 1e-3 * Math.abs(want[i]))) {
                return "[" + i + "] gpu " + got[i] + " cpu " + want[i];
            }
        }
        return null;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // bench and service

    private void kernelBench() {
        long s = System.nanoTime();
        String md = CudaKernelBench.run();
        report.row("kernel benchmarks", SuiteReport.Result.PASSED, (System.nanoTime() - s) / 1_000_000, "table below");
        report.append("\n" + md);
    }

    private void jmh() {
        long s = System.nanoTime();
        try {
            var rs = new Runner(new OptionsBuilder().include(CudaLaunchOverheadBench.class.getName()).build()).run();
            StringBuilder md = new StringBuilder("\n### Launch overhead, Panama vs JCuda (JMH, µs per launch incl. amortised GPU time)\n\n"
                    + "| launcher | µs/launch | error |\n|---|---|---|\n");
            for (RunResult r : rs) {
                md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f |%n", r.getParams().getParam("launcher"),
                        r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()));
            }
            report.row("launch overhead (JMH)", SuiteReport.Result.PASSED, (System.nanoTime() - s) / 1_000_000, "table below");
            report.append(md.toString());
        } catch (Exception e) {
            throw new IllegalStateException("JMH: " + e, e);
        }
    }

    private void serviceLatency() {
        List<String> rows = ServiceLatency.run(new CudaBackend(), 30);
        report.row("captured-graph service latency", SuiteReport.Result.PASSED, 0, "table below");
        report.append("\n" + String.join("\n", rows));
    }
}
