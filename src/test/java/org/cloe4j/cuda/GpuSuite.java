package org.cloe4j.cuda;

import org.cloe4j.bench.CudaKernelBench;
import org.cloe4j.bench.CudaLaunchOverheadBench;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.ClassNameFilter;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The GPU suite in one JVM, for a GPU machine without Maven (run by {@code scripts/gpu-suite}): every test of
 * {@code org.cloe4j.cuda} (the parity tests against the CPU backend, the runtime tests, and the CPU-side checks),
 * then the kernel benchmarks (CUDA events, GB/s against the measured copy bandwidth), then the Panama vs JCuda
 * launch-overhead benchmark (JMH), all written to one Markdown report.
 *
 * <p>With a GPU it also runs the project's backend op tests ({@code org.cloe4j.backend}: every op's forward and
 * gradient against double-precision references) with {@code -Dcloe.test.backend=cuda}.
 *
 * <p>Usage: {@code GpuSuite [--report FILE] [--no-bench] [--no-jmh] [--no-op-tests]}. Exit status 0 when no test failed (skips
 * included: without a GPU every GPU test skips and the report says why), 1 otherwise.
 */
public final class GpuSuite {

    public static void main(String[] args) throws Exception {
        Path report = Path.of(System.getenv("OUT") != null ? System.getenv("OUT") + "/gpu-report.md" : "target/gpu-report.md");
        boolean bench = true, jmh = true, opTests = true;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--report" -> report = Path.of(args[++i]);
                case "--no-bench" -> bench = false;
                case "--no-jmh" -> jmh = false;
                case "--no-op-tests" -> opTests = false;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        long t0 = System.nanoTime();
        StringBuilder md = new StringBuilder("# cloe4j GPU suite\n\n");
        CudaDriver driver = CudaDriver.get();
        md.append("- date: ").append(Instant.now()).append('\n');
        md.append("- java: ").append(System.getProperty("java.vm.name")).append(' ').append(Runtime.version()).append('\n');
        md.append("- CUDA: ").append(driver).append('\n');
        CudaBackend probe = new CudaBackend();
        md.append("- CUDA backend: ").append(probe.isAvailable() ? "available" : "UNAVAILABLE: " + probe.unavailableReason()).append('\n');
        if (probe.isAvailable()) {
            md.append("- conv3d: ").append(CudaBackend.convDescription()).append(" (tests also run every other variant)\n");
            md.append("- cuDNN (reference and benchmark peer): ").append(probe.cudnnStatus()).append('\n');
        }
        md.append('\n');
        System.out.println("gpu-suite: " + driver);
        if (!driver.isAvailable()) System.out.println("gpu-suite: no GPU here: " + driver.unavailableReason() + " (GPU tests will skip)");

        // ---- tests
        Collector c = new Collector();
        LauncherDiscoveryRequest req = LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectPackage("org.cloe4j.cuda"))
                // test classes only: scanning must not even load org.cloe4j.cuda.jcuda (JCuda needs libcuda)
                .filters(ClassNameFilter.includeClassNamePatterns(".*Test"))
                .build();
        Launcher launcher = LauncherFactory.create();
        launcher.execute(req, c);
        md.append("## Tests (org.cloe4j.cuda)\n\n");
        md.append(String.format(Locale.ROOT, "%d passed, %d failed, %d skipped.%n%n", c.passed, c.failed, c.skipped));
        md.append("| test | result | ms | note |\n|---|---|---|---|\n");
        for (String row : c.rows) md.append(row).append('\n');
        md.append('\n');
        System.out.printf(Locale.ROOT, "gpu-suite: tests: %d passed, %d failed, %d skipped%n", c.passed, c.failed, c.skipped);

        // ---- the project's backend op tests (GradCheck against double references), run on CUDA
        if (opTests && probe.isAvailable()) {
            System.setProperty("cloe.test.backend", "cuda");
            Collector ops = new Collector();
            launcher.execute(LauncherDiscoveryRequestBuilder.request()
                    .selectors(DiscoverySelectors.selectPackage("org.cloe4j.backend"))
                    .filters(ClassNameFilter.includeClassNamePatterns(".*Test"),
                            ClassNameFilter.excludeClassNamePatterns("org\\.cloe4j\\.backend\\.cpu\\..*"))
                    .build(), ops);
            System.clearProperty("cloe.test.backend");
            md.append("## Backend op tests on CUDA (org.cloe4j.backend, -Dcloe.test.backend=cuda)\n\n");
            md.append(String.format(Locale.ROOT, "%d passed, %d failed, %d skipped.%n%n", ops.passed, ops.failed, ops.skipped));
            md.append("| test | result | ms | note |\n|---|---|---|---|\n");
            for (String row : ops.rows) md.append(row).append('\n');
            md.append('\n');
            System.out.printf(Locale.ROOT, "gpu-suite: op tests on cuda: %d passed, %d failed, %d skipped%n", ops.passed, ops.failed, ops.skipped);
            c.failed += ops.failed;
        }

        // ---- benchmarks
        if (bench) {
            try {
                md.append(CudaKernelBench.run()).append('\n');
            } catch (Throwable t) {
                md.append("kernel benchmarks FAILED: ").append(t).append("\n\n");
                c.failed++;
            }
        }
        if (jmh) {
            if (!driver.isAvailable()) {
                md.append("launch-overhead benchmark skipped: no GPU here\n");
            } else {
                try {
                    Collection<RunResult> rs = new Runner(new OptionsBuilder()
                            .include(CudaLaunchOverheadBench.class.getName()).build()).run();
                    md.append("## Launch overhead, Panama vs JCuda (JMH, µs per launch incl. amortised GPU time)\n\n");
                    md.append("| launcher | µs/launch | error |\n|---|---|---|\n");
                    for (RunResult r : rs) {
                        md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f |%n", r.getParams().getParam("launcher"),
                                r.getPrimaryResult().getScore(), r.getPrimaryResult().getScoreError()));
                    }
                    md.append('\n');
                } catch (Throwable t) {
                    md.append("launch-overhead benchmark FAILED: ").append(t).append("\n\n");
                    c.failed++;
                }
            }
        }
        md.append(String.format(Locale.ROOT, "Suite time: %.1f s.%n", (System.nanoTime() - t0) / 1e9));
        if (report.getParent() != null) Files.createDirectories(report.getParent());
        Files.writeString(report, md.toString());
        System.out.println("gpu-suite: report written to " + report.toAbsolutePath());
        System.exit(c.failed == 0 ? 0 : 1);
    }

    /** One row per test, with the failure or skip reason. */
    private static final class Collector implements TestExecutionListener {
        final List<String> rows = new ArrayList<>();
        final ConcurrentHashMap<String, Long> started = new ConcurrentHashMap<>();
        int passed;
        int failed;
        int skipped;

        private static String name(TestIdentifier id) {
            String legacy = id.getLegacyReportingName();
            String cls = id.getSource().map(s -> s instanceof org.junit.platform.engine.support.descriptor.MethodSource m
                    ? m.getClassName().replaceFirst("^org\\.cloe4j\\.(cuda\\.)?", "") + "." : "").orElse("");
            return cls + legacy;
        }

        private static String clean(String s) {
            if (s == null) return "";
            String one = s.replace('\n', ' ').replace('|', '/');
            return one.length() > 400 ? one.substring(0, 400) + "…" : one;
        }

        @Override
        public void executionStarted(TestIdentifier id) {
            started.put(id.getUniqueId(), System.nanoTime());
        }

        @Override
        public synchronized void executionSkipped(TestIdentifier id, String reason) {
            if (id.isTest()) {
                skipped++;
                rows.add("| " + name(id) + " | skipped | 0 | " + clean(reason) + " |");
            } else if (id.isContainer()) {
                rows.add("| " + name(id) + " (all) | skipped | 0 | " + clean(reason) + " |");
            }
        }

        @Override
        public synchronized void executionFinished(TestIdentifier id, TestExecutionResult r) {
            Long t = started.get(id.getUniqueId());
            long ms = t == null ? 0 : (System.nanoTime() - t) / 1_000_000;
            String note = r.getThrowable().map(e -> clean(e.toString())).orElse("");
            if (!id.isTest()) {
                if (r.getStatus() == TestExecutionResult.Status.FAILED) {
                    failed++;
                    rows.add("| " + name(id) + " (container) | FAILED | " + ms + " | " + note + " |");
                }
                return;
            }
            switch (r.getStatus()) {
                case SUCCESSFUL -> {
                    passed++;
                    rows.add("| " + name(id) + " | passed | " + ms + " | |");
                }
                case ABORTED -> {
                    skipped++;
                    rows.add("| " + name(id) + " | skipped | " + ms + " | " + note + " |");
                }
                case FAILED -> {
                    failed++;
                    rows.add("| " + name(id) + " | **FAILED** | " + ms + " | " + note + " |");
                }
            }
        }
    }
}
