package org.cloe4j.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

/**
 * One-thread window latency in the calling thread's CPU time, for a machine that other jobs share: with
 * {@code -Dcloe.cpu.threads=1} the CPU backend runs every op on the caller, so its CPU time is the window's work
 * whatever else runs (cache and memory sharing still show); wall time is printed beside it. Runs the inference of
 * one window with all four sequences and with FLAIR only ({@link CloeStepBench}'s graphs and inputs), a warm-up
 * window of each first, then {@code windows} timed windows of each, alternated. With {@code -Dcloe.profile=true
 * -Dcloe.profile.clock=cpu} it prints the per-op table of the last timed four-sequence window with each conv's
 * GFLOP/s and its share of an FP32 FMA peak measured on the same thread (CPU time) in the same run.
 *
 * <p>Run: {@code java -Dcloe.cpu.threads=1 [-Dcloe.profile=true -Dcloe.profile.clock=cpu] -cp ...
 * org.cloe4j.bench.WindowCpuTime [preset] [windows]}, or {@code scripts/bench-window [--profile] [preset] [windows]}.
 */
public final class WindowCpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static volatile float sink;

    private WindowCpuTime() {
    }

    public static void main(String[] args) throws Exception {
        String preset = args.length > 0 ? args[0] : "paper";
        int windows = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        Backend be = Backends.pick();
        CloeConfig cfg = CloeConfig.preset(preset, CloeConfig.BRATS, 4);
        CloeModel model = new CloeModel(cfg, be);
        int p = cfg.patch();
        Shape img = Shape.ncdhw(1, 1, p, p, p);
        SplittableRandom r = new SplittableRandom(1);
        Map<String, Tensor> all = new HashMap<>();
        for (Modality m : cfg.modalities()) {
            float[] v = new float[p * p * p];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            all.put(CloeModel.imageInput(m), be.fromHost(img, v));
        }
        Map<String, Tensor> flair = Map.of(CloeModel.imageInput(Modality.FLAIR), all.get(CloeModel.imageInput(Modality.FLAIR)));
        CloeModel.Built four = model.inference(ModalityMask.full(cfg.modalities()), p, true);
        CloeModel.Built one = model.inference(ModalityMask.of(cfg.modalities(), List.of(Modality.FLAIR)), p, true);
        System.out.printf(Locale.ROOT, "[%s on %s] load average at start %.2f%n", preset, be,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        double[] warm4 = time(be, four, all), warm1 = time(be, one, flair);
        System.out.printf(Locale.ROOT, "first window (JIT warm-up included): four %.0f ms CPU (%.0f wall), one %.0f ms CPU (%.0f wall)%n",
                warm4[0], warm4[1], warm1[0], warm1[1]);
        List<Double> c4 = new ArrayList<>(), c1 = new ArrayList<>();
        for (int i = 0; i < windows; i++) {
            if (OpProfile.enabled() && i == windows - 1) resetProfile();
            double[] t4 = time(be, four, all);
            String table = OpProfile.enabled() && i == windows - 1 ? OpProfile.table() : null;
            double[] t1 = time(be, one, flair);
            c4.add(t4[0]);
            c1.add(t1[0]);
            System.out.printf(Locale.ROOT, "window %d: four %.0f ms CPU (%.0f wall), one %.0f ms CPU (%.0f wall)%n", i + 1,
                    t4[0], t4[1], t1[0], t1[1]);
            if (table != null) printProfile(table);
        }
        c4.sort(null);
        c1.sort(null);
        System.out.printf(Locale.ROOT, "median of %d: four %.0f ms CPU, one %.0f ms CPU; load average at end %.2f%n", windows,
                c4.get(c4.size() / 2), c1.get(c1.size() / 2), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    /** {CPU ms, wall ms} of one window. */
    private static double[] time(Backend be, CloeModel.Built b, Map<String, Tensor> in) {
        long c0 = THREADS.getCurrentThreadCpuTime(), w0 = System.nanoTime();
        try (Graph.Run run = b.graph().run(be, in)) {
            be.toHost(run.get(b.w()));
        }
        return new double[]{(THREADS.getCurrentThreadCpuTime() - c0) / 1e6, (System.nanoTime() - w0) / 1e6};
    }

    private static void resetProfile() {
        try {
            OpProfile.class.getMethod("reset").invoke(null);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("this build's OpProfile cannot be reset", e);
        }
    }

    private static final Pattern CONV = Pattern.compile("conv(\\d)(s2)? (\\d+)->(\\d+) @(\\d+)");

    /** The profile with GFLOP/s and % of the measured one-thread peak per conv row. */
    private static void printProfile(String table) {
        double peak = peakCpu();
        System.out.printf(Locale.ROOT, "FP32 FMA peak of this thread (Vector API loop, CPU time): %.1f GFLOP/s%n", peak);
        System.out.println("per-op profile of the last four-sequence window (CPU time):");
        for (String line : table.split("\n")) {
            Matcher m = CONV.matcher(line);
            if (!m.find()) {
                System.out.println(line);
                continue;
            }
            int k = Integer.parseInt(m.group(1)), stride = m.group(2) == null ? 1 : 2;
            int ci = Integer.parseInt(m.group(3)), co = Integer.parseInt(m.group(4)), in = Integer.parseInt(m.group(5));
            String[] f = line.trim().split("\\s+");
            double calls = Double.parseDouble(f[f.length - 4]), ms = Double.parseDouble(f[f.length - 3]);
            double out = (double) in / stride;
            double flops = calls * 2.0 * k * k * k * ci * co * out * out * out;
            double gflops = flops / (ms * 1e-3) / 1e9;
            System.out.printf(Locale.ROOT, "%s  %6.1f GFLOP/s %5.1f%%%n", line, gflops, 100 * gflops / peak);
        }
    }

    private static double peakCpu() {
        for (int i = 0; i < 20; i++) sink += CpuConvPeerBench.fmaLoop(20_000);
        double best = 0;
        long iters = 4_000_000;
        for (int a = 0; a < 5; a++) {
            long c0 = THREADS.getCurrentThreadCpuTime();
            sink += CpuConvPeerBench.fmaLoop(iters);
            double sec = (THREADS.getCurrentThreadCpuTime() - c0) * 1e-9;
            best = Math.max(best, iters * 16.0 * jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() * 2 / sec / 1e9);
        }
        return best;
    }
}
