package org.cloe4j.bench;

import org.cloe4j.backend.cpu.CpuConv3d;
import org.cloe4j.backend.ConvSpec.Padding;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * JMH benchmark of CpuConv3d: 3×3×3, stride 1, reflect padding, batch 1, the two shapes the U-Net spends most time
 * in at its CPU sizes. {@link #main} runs it and prints achieved GFLOP/s next to the machine's FP32 FMA peak.
 *
 * <p>Flops per pass: 2·N·Co·Do·Ho·Wo·Ci·27 (one multiply and one add per term); "backward" = backwardData +
 * backwardWeight = 2× that. Peak: cores × clock × FMA units × vector lanes × 2. On the machine this was written on
 * (lscpu: "AMD EPYC", family 26 = Zen 5, 2 vCPUs, avx512f, cpu MHz 2096, no max MHz exposed in the VM): 2 × 2.096 GHz
 * × 2 FMA pipes × 16 lanes × 2 = 268 GFLOP/s. Zen 5 server cores have two full 512-bit FMA pipes; the VM hides the
 * boost clock, so the nominal 2.096 GHz is used and percentages above it would mean boost. {@link #main} re-derives
 * the numbers from /proc/cpuinfo so they stay right on another machine.
 *
 * <p>Run: scripts/bench-conv-cpu [quick]
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
public class CpuConv3dBench {
    /** "channels x size": Ci = Co = channels, D = H = W = size. */
    @Param({"16x64", "32x32"})
    public String shape;

    int c, s;
    float[] x, w, b, y, gy, gx, gw, gb;

    @Setup
    public void setup() {
        String[] p = shape.split("x");
        c = Integer.parseInt(p[0]);
        s = Integer.parseInt(p[1]);
        Random r = new Random(1);
        x = random(r, c * s * s * s);
        w = random(r, c * c * 27);
        b = random(r, c);
        gy = random(r, c * s * s * s);
        y = new float[c * s * s * s];
        gx = new float[c * s * s * s];
        gw = new float[c * c * 27];
        gb = new float[c];
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
        return a;
    }

    @Benchmark
    public float[] forward() {
        CpuConv3d.forward(x, w, b, y, 1, c, s, s, s, c, 3, 1, 1, Padding.REFLECT);
        return y;
    }

    @Benchmark
    public float[] backwardData() {
        CpuConv3d.backwardData(gy, w, gx, 1, c, s, s, s, c, 3, 1, 1, Padding.REFLECT);
        return gx;
    }

    @Benchmark
    public float[] backwardWeight() {
        CpuConv3d.backwardWeight(x, gy, gw, gb, 1, c, s, s, s, c, 3, 1, 1, Padding.REFLECT);
        return gw;
    }

    @Benchmark
    public float[] backward() {
        CpuConv3d.backwardData(gy, w, gx, 1, c, s, s, s, c, 3, 1, 1, Padding.REFLECT);
        CpuConv3d.backwardWeight(x, gy, gw, gb, 1, c, s, s, s, c, 3, 1, 1, Padding.REFLECT);
        return gw;
    }

    /** Flops of one pass for a shape "CxS" (stride 1, so output size = input size). */
    static double passFlops(String shape) {
        String[] p = shape.split("x");
        double ch = Double.parseDouble(p[0]), sz = Double.parseDouble(p[1]);
        return 2 * ch * sz * sz * sz * ch * 27;
    }

    /** Runs the benchmark ("quick" for short settings) and prints GFLOP/s and fraction of peak per case and pass. */
    public static void main(String[] args) throws Exception {
        boolean quick = args.length > 0 && args[0].equals("quick");
        var opt = new OptionsBuilder()
                .include(CpuConv3dBench.class.getName() + "\\.")
                .forks(1)
                .jvmArgsAppend("--add-modules", "jdk.incubator.vector", "-Xmx4g")
                .warmupIterations(quick ? 3 : 5).warmupTime(TimeValue.seconds(1))
                .measurementIterations(quick ? 3 : 10).measurementTime(TimeValue.seconds(1))
                .build();
        Collection<RunResult> results = new Runner(opt).run();

        int cores = Runtime.getRuntime().availableProcessors();
        double ghz = cpuMhz() / 1000.0;
        String flags = cpuFlags();
        int lanes = flags.contains(" avx512f") ? 16 : flags.contains(" avx2") ? 8 : 4;
        int fmaUnits = 2;
        double peak = cores * ghz * fmaUnits * lanes * 2;
        System.out.printf("%nPeak FP32 = cores %d x %.3f GHz x %d FMA units x %d lanes x 2 flops = %.1f GFLOP/s%n",
                cores, ghz, fmaUnits, lanes, peak);
        System.out.println("(JMH average over a shared 2-core machine: expect noise of tens of percent; a boost clock"
                + " above the nominal one can put results over 100%)");
        System.out.printf("%-8s %-15s %10s %10s %8s%n", "shape", "pass", "ms/op", "GFLOP/s", "% peak");
        for (RunResult r : results) {
            String sh = r.getParams().getParam("shape");
            String pass = r.getParams().getBenchmark().replaceAll(".*\\.", "");
            double ms = r.getPrimaryResult().getScore();
            double flops = passFlops(sh) * (pass.equals("backward") ? 2 : 1);
            double gflops = flops / (ms * 1e-3) / 1e9;
            System.out.printf("%-8s %-15s %10.2f %10.1f %7.1f%%%n", sh, pass, ms, gflops, 100 * gflops / peak);
        }
        cpuTimeTable(peak / cores, quick ? 10 : 30);
    }

    /**
     * On a shared machine wall time mostly measures the neighbours. This second table divides the flops by the CPU
     * time this process actually got (all threads, including JIT/GC, so slightly pessimistic), giving throughput per
     * busy core against one core's peak: the kernels' efficiency, independent of how much of the machine was ours.
     */
    private static void cpuTimeTable(double corePeak, int reps) {
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        System.out.printf("%nIn-process, %d reps after warm-up: best wall time, and flops per CPU-second over all reps%n",
                reps);
        System.out.printf("%-8s %-15s %10s %12s %14s %10s%n", "shape", "pass", "wall ms", "wall GF/s", "GF/s per core",
                "% core pk");
        for (String sh : new String[]{"16x64", "32x32"}) {
            CpuConv3dBench b = new CpuConv3dBench();
            b.shape = sh;
            b.setup();
            for (String pass : new String[]{"forward", "backwardData", "backwardWeight", "backward"}) {
                Runnable op = switch (pass) {
                    case "forward" -> b::forward;
                    case "backwardData" -> b::backwardData;
                    case "backwardWeight" -> b::backwardWeight;
                    default -> b::backward;
                };
                for (int i = 0; i < 3; i++) op.run();
                // Process CPU time ticks in 10 ms steps on Linux, so it is taken over all reps, not per rep.
                double bestWall = Double.MAX_VALUE;
                long cpu0 = os.getProcessCpuTime();
                for (int i = 0; i < reps; i++) {
                    long t0 = System.nanoTime();
                    op.run();
                    bestWall = Math.min(bestWall, (System.nanoTime() - t0) * 1e-9);
                }
                double cpuPerRep = (os.getProcessCpuTime() - cpu0) * 1e-9 / reps;
                double flops = passFlops(sh) * (pass.equals("backward") ? 2 : 1);
                double perCore = flops / cpuPerRep / 1e9;
                System.out.printf("%-8s %-15s %10.2f %12.1f %14.1f %9.1f%%%n", sh, pass, bestWall * 1e3,
                        flops / bestWall / 1e9, perCore, 100 * perCore / corePeak);
            }
        }
    }

    private static double cpuMhz() throws IOException {
        // Prefer the advertised maximum when the kernel exposes it; VMs often only show the nominal clock.
        Path max = Path.of("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq");
        if (Files.isReadable(max)) return Double.parseDouble(Files.readString(max).trim()) / 1000.0;
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("cpu MHz")) return Double.parseDouble(line.split(":")[1].trim());
        }
        return 2000;
    }

    private static String cpuFlags() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("flags")) return line + " ";
        }
        return "";
    }
}
