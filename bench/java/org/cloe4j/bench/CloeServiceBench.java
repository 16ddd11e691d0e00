package org.cloe4j.bench;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.cloe4j.api.Cloe;
import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.backend.Backends;
import org.cloe4j.data.Modality;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.data.Volume;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.train.Adam;
import org.cloe4j.train.Checkpoint;

/**
 * Service latency of the {@link Cloe} API: one checkpoint loaded once, then requests — a whole study with all four
 * sequences through {@link Cloe#segment} — from 1 and from N concurrent callers; per caller count the p50 / p99 /
 * max latency and the throughput, and the heap in use after a full GC every few requests, so that a leak shows as a
 * rising series. The weights are the preset's initial ones written through the real checkpoint code: the time of a
 * request does not depend on what the weights learned.
 *
 * <p>Run: {@code scripts/bench-service [--preset tiny|paper] [--size X Y Z] [--requests N] [--callers 1,4]}. A full
 * BraTS study (240×240×155) takes minutes per request on two cores with either preset, so the memory soak over a few
 * hundred requests is meant for smaller studies ({@code --size 96 96 64}) or a GPU backend ({@code -Dcloe.backend=cuda}).
 * Timings are wall-clock on whatever else shares the machine: run it alone.
 */
public final class CloeServiceBench {
    private CloeServiceBench() {
    }

    public static void main(String[] args) throws Exception {
        String preset = "tiny";
        int[] size = {240, 240, 155};
        int requests = 20;
        int[] callers = {1, 4};
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--preset" -> preset = args[++i];
                case "--size" -> size = new int[] {Integer.parseInt(args[++i]), Integer.parseInt(args[++i]), Integer.parseInt(args[++i])};
                case "--requests" -> requests = Integer.parseInt(args[++i]);
                case "--callers" -> callers = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--preset tiny|paper, --size X Y Z, --requests N, --callers 1,4)");
            }
        }
        if (requests < 1) throw new IllegalArgumentException("--requests must be at least 1");
        Backend be = Backends.pick();
        Path run = Files.createTempDirectory("cloe-service-bench");
        CloeConfig cfg = CloeConfig.preset(preset, CloeConfig.BRATS, 4);
        CloeModel init = new CloeModel(cfg, be);
        Checkpoint.save(run, init, new Adam(init.parameters().all().values(), AdamConfig.cloe()), new Checkpoint.State(0, 0, 1));
        Map<Modality, Volume> study = new PhantomGenerator(size[0], size[1], size[2], 7).generate(0).images();
        System.out.printf(Locale.ROOT, "Cloe service latency: preset %s, study %d×%d×%d, four sequences, backend %s, %d cores%n",
                preset, size[0], size[1], size[2], be, Runtime.getRuntime().availableProcessors());
        StringBuilder table = new StringBuilder("| callers | requests | p50 | p99 | max | studies/min |\n|---:|---:|---:|---:|---:|---:|\n");
        List<String> heap = new ArrayList<>();
        try (Cloe cloe = Cloe.load(run, be, false)) {
            long w0 = System.nanoTime();
            cloe.segment(study); // warm-up: JIT and the graphs of this signature
            System.out.printf(Locale.ROOT, "warm-up request: %.2f s%n", (System.nanoTime() - w0) / 1e9);
            heap.add("after warm-up: " + memory());
            for (int c : callers) {
                double[] lat = new double[requests];
                AtomicInteger next = new AtomicInteger();
                AtomicInteger done = new AtomicInteger();
                int every = Math.max(1, requests / 10);
                long t0 = System.nanoTime();
                try (ExecutorService pool = Executors.newFixedThreadPool(c)) {
                    List<Future<?>> fs = new ArrayList<>();
                    for (int k = 0; k < c; k++) {
                        fs.add(pool.submit(() -> {
                            for (int i; (i = next.getAndIncrement()) < lat.length; ) {
                                long s = System.nanoTime();
                                Cloe.Result r = cloe.segment(study);
                                lat[i] = (System.nanoTime() - s) / 1e6;
                                if (r.labels().voxels() != study.values().iterator().next().voxels()) {
                                    throw new IllegalStateException("label map of the wrong size");
                                }
                                int d = done.incrementAndGet();
                                if (d % every == 0) {
                                    synchronized (heap) {
                                        heap.add(String.format(Locale.ROOT, "%d callers, %d requests: %s", c, d, memory()));
                                    }
                                }
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : fs) f.get();
                }
                double wall = (System.nanoTime() - t0) / 1e9;
                double[] sorted = lat.clone();
                Arrays.sort(sorted);
                table.append(String.format(Locale.ROOT, "| %d | %d | %.0f ms | %.0f ms | %.0f ms | %.2f |%n", c, requests,
                        pct(sorted, 0.50), pct(sorted, 0.99), sorted[sorted.length - 1], requests / wall * 60));
                System.out.printf(Locale.ROOT, "%d caller(s): %d requests in %.1f s%n", c, requests, wall);
            }
        }
        System.out.println();
        System.out.print(table);
        System.out.println("\nMemory after a full GC: the Java heap in use, direct and mapped buffers, the process's resident set"
                + " (a series rising with the requests would be a leak):");
        heap.forEach(h -> System.out.println("  " + h));
    }

    /** Nearest-rank percentile of sorted values. */
    static double pct(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** Heap in use after a full GC, NIO buffers (direct and mapped) and the resident set, in MiB. */
    private static String memory() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        double heapMiB = (rt.totalMemory() - rt.freeMemory()) / 1048576.0;
        long buffers = 0;
        for (BufferPoolMXBean b : ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)) buffers += Math.max(0, b.getMemoryUsed());
        return String.format(Locale.ROOT, "heap %.1f MiB, buffers %.1f MiB, resident %s", heapMiB, buffers / 1048576.0, residentMiB());
    }

    /** VmRSS from /proc/self/status (Linux); "n/a" elsewhere. */
    static String residentMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    long kib = Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                    return String.format(Locale.ROOT, "%.1f MiB", kib / 1024.0);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            return "n/a";
        }
        return "n/a";
    }
}
