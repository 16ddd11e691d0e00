package org.cloe4j.bench;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.cloe4j.backend.ConvSpec.Padding;
import org.cloe4j.backend.cpu.CpuConv3d;
import org.cloe4j.backend.cpu.Parallel;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;

/**
 * CpuConv3d against PyTorch's CPU conv3d (oneDNN) on the layer shapes CLoE uses, timed interleaved in one run, with
 * percentages of an FP32 FMA peak measured in the same run.
 *
 * <p>Why not JMH: the peer is a Python process, and the point is that both sides see the same machine state (this
 * machine is shared), so the harness alternates: for every layer and pass, {@code rounds} times, a few reps of ours,
 * then the same number of reps of PyTorch's (bench/pytorch/conv_peer.py, kept running and driven over a pipe, 2
 * threads). Each side waits idle while the other runs. Warm-up: ours runs each pass until the process has had a few
 * CPU-seconds (the JIT; see main), the peer two reps per request (oneDNN primitive cache). Reported: medians over
 * all reps, and ratio ours/PyTorch of the medians (below 1 = ours faster).
 *
 * <p>Peak: a Vector API loop of independent FMA chains (enough to cover latency × ports), on 1 and on 2 threads,
 * best of several tries. Flops of a pass: 2·Ci·Co·k³·Do·Ho·Wo for every pass (the direct-convolution count; bias and
 * the reflect fold are not counted). % of peak uses the measured 2-thread peak (with {@code cpu}, one thread each side:
 * the 1-thread peak).
 *
 * <p>Run: {@code scripts/bench-conv-cpu peer [quick] [cpu] [tiny|paper|all] [match=<label text>]
 * [pass=forward|backwardData|backwardWeight]}; {@code cpu}: one thread each side, timed by thread CPU time (for a
 * loaded machine). Without PyTorch: ours
 * only.
 */
public final class CpuConvPeerBench {
    /** One conv layer of CLoE: batch 1, cubic input of edge size. */
    record Layer(String preset, String what, int ci, int co, int size, int k, int stride) {
        int outSize() {
            return (size + 2 * ((k - 1) / 2) - k) / stride + 1;
        }

        double flops() {
            double o = outSize();
            return 2.0 * ci * co * k * k * k * o * o * o;
        }

        Padding padding() {
            return k == 1 ? Padding.ZERO : Padding.REFLECT;
        }

        String label() {
            return String.format(Locale.ROOT, "%s %d→%d %s%d³%s", preset, ci, co, k == 1 ? "1³ " : "", size,
                    stride == 2 ? " s2" : "");
        }
    }

    /**
     * CLoE's layer shapes (model/Encoder, Decoder, RegionHead) at base b and patch p: encoder entry 1→b, the b→b
     * block convs, stride-2 downs, deeper block convs, the decoders' concat convs 2c→c and their 1³ convs.
     */
    static List<Layer> layers(String which) {
        List<Layer> out = new ArrayList<>();
        if (which.equals("tiny") || which.equals("all")) {
            int b = 4, p = 32;
            out.add(new Layer("tiny", "enc e1_c1", 1, b, p, 3, 1));
            out.add(new Layer("tiny", "enc e1_c2", b, b, p, 3, 1));
            out.add(new Layer("tiny", "enc e2_c1 down", b, 2 * b, p, 3, 2));
            out.add(new Layer("tiny", "enc e2_c2", 2 * b, 2 * b, p / 2, 3, 1));
            out.add(new Layer("tiny", "enc e4_c2", 8 * b, 8 * b, p / 8, 3, 1));
            out.add(new Layer("tiny", "dec d1 concat", 2 * b, b, p, 3, 1));
            out.add(new Layer("tiny", "dec d1_out 1³", b, b, p, 1, 1));
        }
        if (which.equals("paper") || which.equals("all")) {
            int b = 16, p = 112;
            out.add(new Layer("paper", "enc e1_c1", 1, b, p, 3, 1));
            out.add(new Layer("paper", "enc e1_c2", b, b, p, 3, 1));
            out.add(new Layer("paper", "enc e2_c1 down", b, 2 * b, p, 3, 2));
            out.add(new Layer("paper", "enc e2_c2", 2 * b, 2 * b, p / 2, 3, 1));
            out.add(new Layer("paper", "enc e3_c2", 4 * b, 4 * b, p / 4, 3, 1));
            out.add(new Layer("paper", "enc e4_c2", 8 * b, 8 * b, p / 8, 3, 1));
            out.add(new Layer("paper", "dec d1 concat", 2 * b, b, p, 3, 1));
            out.add(new Layer("paper", "dec d2 concat", 4 * b, 2 * b, p / 2, 3, 1));
            out.add(new Layer("paper", "dec d3 concat", 8 * b, 4 * b, p / 4, 3, 1));
            out.add(new Layer("paper", "dec d1_out 1³", b, b, p, 1, 1));
        }
        return out;
    }

    static final String[] PASSES = {"forward", "backwardData", "backwardWeight"};

    public static void main(String[] args) throws Exception {
        boolean quick = Arrays.asList(args).contains("quick");
        // cpu: one thread on each side (scripts/bench-conv-cpu passes -Dcloe.cpu.threads=1), each rep timed by the
        // calling thread's CPU time, not wall time: on a machine loaded by other jobs, wall time mostly measures
        // the wait for a core. Cache and memory-bandwidth contention still show.
        boolean cpuClock = Arrays.asList(args).contains("cpu");
        if (cpuClock && Parallel.threads() != 1) {
            throw new IllegalStateException("cpu clock needs -Dcloe.cpu.threads=1 (scripts/bench-conv-cpu sets it)");
        }
        String which = Arrays.stream(args).filter(a -> a.equals("tiny") || a.equals("paper") || a.equals("all"))
                .findFirst().orElse("all");
        int rounds = quick ? 2 : 6, reps = quick ? 2 : 3;
        // match=<text>: only the layers whose label contains it, e.g. match=128→128 or "match=1³"
        String match = Arrays.stream(args).filter(a -> a.startsWith("match=")).map(a -> a.substring(6)).findFirst()
                .orElse(null);
        // pass=<name>: only that pass (forward, backwardData or backwardWeight)
        String onlyPass = Arrays.stream(args).filter(a -> a.startsWith("pass=")).map(a -> a.substring(5))
                .findFirst().orElse(null);

        System.out.println("CpuConv3d vs PyTorch conv3d, " + Instant.now() + ", " + cpuModel() + ", "
                + Runtime.getRuntime().availableProcessors() + " CPUs, cloe.cpu.threads=" + Parallel.threads()
                + ", vector " + FloatVector.SPECIES_PREFERRED.length() + " lanes");
        double peak1 = fmaPeak(1), peak2 = fmaPeak(2);
        System.out.printf(Locale.ROOT, "Measured FP32 FMA peak (Vector API loop): 1 thread %.1f GFLOP/s, 2 threads %.1f"
                + " GFLOP/s%n", peak1, peak2);
        if (cpuClock) {
            // the same clock as the reps: on a loaded machine the wall-clock peak above measures the wait for a core
            peak1 = fmaPeakCpu();
            System.out.printf(Locale.ROOT, "Measured FP32 FMA peak in thread CPU time: 1 thread %.1f GFLOP/s%n", peak1);
        }

        Peer peer = Peer.start();
        if (peer != null && cpuClock) peer.command("threads 1", "clock cpu");
        if (cpuClock) System.out.println("Clock: each side's thread CPU time, 1 thread each (not wall time)");
        System.out.println(peer == null ? "PyTorch: not available (/usr/bin/python3 or -Dcloe.python cannot import torch); ours only"
                : "PyTorch peer: " + peer.banner);
        System.out.println("Shared machine: absolute times are noisy; the ratio of interleaved medians is the figure.");
        // cpu: each side runs one thread, so % of peak is of the one-thread peak
        double peak = cpuClock ? peak1 : peak2;
        System.out.println("ms: median over all reps; ratio: ours/PyTorch of the medians (min: of the fastest reps);"
                + " %pk: median's flops per second / measured " + (cpuClock ? "1" : "2") + "-thread peak");
        System.out.printf("%-24s %-14s %9s %9s %6s %6s %8s %8s%n", "layer", "pass", "ours ms", "torch ms", "ratio",
                "min", "ours %pk", "torch %pk");
        double sumOurs = 0, sumPeer = 0;
        try {
            for (Layer l : layers(which)) {
                if (match != null && !l.label().contains(match)) continue;
                Case c = new Case(l);
                for (String pass : PASSES) {
                    if (onlyPass != null && !pass.equals(onlyPass)) continue;
                    Runnable op = c.op(pass);
                    // JIT warm-up: at least 3 runs and 1 s (quick) / 3 s of this process's CPU time (compiler
                    // threads included), so that on a loaded machine C2 has actually had the CPU to compile the
                    // kernels; wall-clock warm-up left some passes interpreted there. At most 60 s.
                    long w0 = System.nanoTime(), c0 = processCpuNanos();
                    for (int i = 0; i < 3 || (processCpuNanos() - c0 < (quick ? 1e9 : 3e9)
                            && System.nanoTime() - w0 < 60e9); i++) {
                        op.run();
                    }
                    double[] ours = new double[rounds * reps];
                    double[] theirs = peer == null ? null : new double[rounds * reps];
                    for (int r = 0; r < rounds; r++) {
                        for (int i = 0; i < reps; i++) {
                            long t0 = cpuClock ? THREAD_MX.getCurrentThreadCpuTime() : System.nanoTime();
                            op.run();
                            long t1 = cpuClock ? THREAD_MX.getCurrentThreadCpuTime() : System.nanoTime();
                            ours[r * reps + i] = (t1 - t0) * 1e-6;
                        }
                        if (peer != null) {
                            double[] t = peer.time(l, pass, reps);
                            System.arraycopy(t, 0, theirs, r * reps, reps);
                        }
                    }
                    double mo = median(ours), mt = theirs == null ? Double.NaN : median(theirs);
                    sumOurs += mo;
                    if (theirs != null) sumPeer += mt;
                    double minRatio = theirs == null ? Double.NaN
                            : Arrays.stream(ours).min().orElseThrow() / Arrays.stream(theirs).min().orElseThrow();
                    System.out.printf(Locale.ROOT, "%-24s %-14s %9.2f %9.2f %6.2f %6.2f %7.1f%% %7.1f%%%n", l.label(),
                            pass, mo, mt, mo / mt, minRatio, pct(l, mo, peak), pct(l, mt, peak));
                }
            }
        } finally {
            if (peer != null) peer.close();
        }
        System.out.printf(Locale.ROOT, "%-24s %-14s %9.1f %9.1f %6.2f%n", "sum of medians", "", sumOurs, sumPeer,
                sumOurs / sumPeer);
    }

    private static final java.lang.management.ThreadMXBean THREAD_MX =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double pct(Layer l, double ms, double peakGflops) {
        return 100 * l.flops() / (ms * 1e-3) / 1e9 / peakGflops;
    }

    static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    }

    /** Buffers and the three passes of one layer. */
    static final class Case {
        final Layer l;
        final float[] x, w, b, y, gy, gx, gw, gb;

        Case(Layer l) {
            this.l = l;
            Random r = new Random(1);
            int s = l.size, o = l.outSize(), k3 = l.k * l.k * l.k;
            x = random(r, l.ci * s * s * s);
            w = random(r, l.co * l.ci * k3);
            b = random(r, l.co);
            gy = random(r, l.co * o * o * o);
            y = new float[l.co * o * o * o];
            gx = new float[l.ci * s * s * s];
            gw = new float[l.co * l.ci * k3];
            gb = new float[l.co];
        }

        Runnable op(String pass) {
            int s = l.size, pad = (l.k - 1) / 2;
            return switch (pass) {
                case "forward" -> () -> CpuConv3d.forward(x, w, b, y, 1, l.ci, s, s, s, l.co, l.k, l.stride, pad,
                        l.padding());
                case "backwardData" -> () -> CpuConv3d.backwardData(gy, w, gx, 1, l.ci, s, s, s, l.co, l.k, l.stride,
                        pad, l.padding());
                case "backwardWeight" -> () -> CpuConv3d.backwardWeight(x, gy, gw, gb, 1, l.ci, s, s, s, l.co, l.k,
                        l.stride, pad, l.padding());
                default -> throw new IllegalArgumentException(pass);
            };
        }

        private static float[] random(Random r, int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) a[i] = (float) r.nextGaussian();
            return a;
        }
    }

    /** The PyTorch side: bench/pytorch/conv_peer.py as a child process, one request per line. */
    static final class Peer implements AutoCloseable {
        final Process p;
        final PrintWriter in;
        final BufferedReader out;
        final String banner;

        private Peer(Process p) throws IOException {
            this.p = p;
            in = new PrintWriter(p.getOutputStream(), true, StandardCharsets.UTF_8);
            out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            if (first == null || !first.startsWith("ready")) throw new IOException("peer did not start: " + first);
            banner = first.substring(6);
        }

        static Peer start() {
            Path script = Path.of("bench/pytorch/conv_peer.py");
            if (!Files.isRegularFile(script)) return null;
            // Debian's python3 (where python3-torch installs), as PyTorchParityTest; -Dcloe.python names another.
            String python = System.getProperty("cloe.python", "/usr/bin/python3");
            try {
                Process check = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
                check.getInputStream().readAllBytes();
                if (check.waitFor() != 0) return null;
                Process p = new ProcessBuilder(python, script.toString())
                        .redirectError(ProcessBuilder.Redirect.INHERIT).start();
                return new Peer(p);
            } catch (IOException e) {
                System.out.println("PyTorch peer failed to start: " + e.getMessage());
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        /** Sends setup lines (e.g. "threads 1", "clock cpu"), each answered by "ok ...". */
        void command(String... lines) throws IOException {
            for (String c : lines) {
                in.println(c);
                String line = out.readLine();
                if (line == null || !line.startsWith("ok")) throw new IOException("peer: " + line);
            }
        }

        double[] time(Layer l, String pass, int reps) throws IOException {
            in.printf(Locale.ROOT, "time %d %d %d %d %d %s %s %d%n", l.ci, l.co, l.size, l.k, l.stride, l.padding(),
                    pass, reps);
            String line = out.readLine();
            if (line == null || !line.startsWith("ok ")) throw new IOException("peer: " + line);
            String[] t = line.substring(3).trim().split(" ");
            double[] ms = new double[t.length];
            for (int i = 0; i < t.length; i++) ms[i] = Double.parseDouble(t[i]);
            return ms;
        }

        @Override
        public void close() {
            in.println("quit");
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.destroy();
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // measured peak

    private static final VectorSpecies<Float> SP = FloatVector.SPECIES_PREFERRED;
    private static volatile float sink;

    /** GFLOP/s of {@code threads} threads each running {@link #fmaLoop}, best of several tries. */
    static double fmaPeak(int threads) throws Exception {
        long iters = 4_000_000;
        for (int i = 0; i < 20; i++) sink += fmaLoop(20_000); // C2 before timing
        double best = 0;
        for (int attempt = 0; attempt < 7; attempt++) {
            CyclicBarrier start = new CyclicBarrier(threads + 1), end = new CyclicBarrier(threads + 1);
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> {
                    try {
                        start.await();
                        sink += fmaLoop(iters);
                        end.await();
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                });
                th.start();
                ts.add(th);
            }
            start.await();
            long t0 = System.nanoTime();
            end.await();
            double sec = (System.nanoTime() - t0) * 1e-9;
            for (Thread th : ts) th.join();
            best = Math.max(best, threads * iters * 16.0 * SP.length() * 2 / sec / 1e9);
        }
        return best;
    }

    /** GFLOP/s of {@link #fmaLoop} on the calling thread, timed by its CPU time, best of several tries. */
    static double fmaPeakCpu() {
        long iters = 4_000_000;
        for (int i = 0; i < 20; i++) sink += fmaLoop(20_000);
        double best = 0;
        for (int attempt = 0; attempt < 7; attempt++) {
            long t0 = THREAD_MX.getCurrentThreadCpuTime();
            sink += fmaLoop(iters);
            double sec = (THREAD_MX.getCurrentThreadCpuTime() - t0) * 1e-9;
            best = Math.max(best, iters * 16.0 * SP.length() * 2 / sec / 1e9);
        }
        return best;
    }

    /** 16 independent FMA chains: covers 4-cycle latency × 2 FMA ports with room to spare. */
    public static float fmaLoop(long iters) {
        FloatVector m = FloatVector.broadcast(SP, 0.999999f), a = FloatVector.broadcast(SP, 1e-7f);
        FloatVector c0 = FloatVector.broadcast(SP, 1f), c1 = c0.add(a), c2 = c1.add(a), c3 = c2.add(a),
                c4 = c3.add(a), c5 = c4.add(a), c6 = c5.add(a), c7 = c6.add(a), c8 = c7.add(a), c9 = c8.add(a),
                c10 = c9.add(a), c11 = c10.add(a), c12 = c11.add(a), c13 = c12.add(a), c14 = c13.add(a),
                c15 = c14.add(a);
        for (long i = 0; i < iters; i++) {
            c0 = c0.fma(m, a);
            c1 = c1.fma(m, a);
            c2 = c2.fma(m, a);
            c3 = c3.fma(m, a);
            c4 = c4.fma(m, a);
            c5 = c5.fma(m, a);
            c6 = c6.fma(m, a);
            c7 = c7.fma(m, a);
            c8 = c8.fma(m, a);
            c9 = c9.fma(m, a);
            c10 = c10.fma(m, a);
            c11 = c11.fma(m, a);
            c12 = c12.fma(m, a);
            c13 = c13.fma(m, a);
            c14 = c14.fma(m, a);
            c15 = c15.fma(m, a);
        }
        return c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11)
                .add(c12).add(c13).add(c14).add(c15).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) return line.split(":", 2)[1].trim();
            }
        } catch (IOException e) {
            // fall through
        }
        return System.getProperty("os.arch");
    }
}
