package org.cloe4j.graph;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Wall time (or CPU time, see {@link #CPU_CLOCK}) spent in each op's forward and backward, summed over every run, when
 * {@code -Dcloe.profile=true}: a researcher changing an op sees where a step's time goes. The backend is synchronised
 * around each op so the times belong to it (which slows an asynchronous backend down; leave it off for benchmarks).
 */
public final class OpProfile {
    static final boolean ENABLED = Boolean.getBoolean("cloe.profile");
    /**
     * {@code -Dcloe.profile.clock=cpu}: time ops by the calling thread's CPU time instead of wall time, which other
     * load on the machine disturbs much less; it counts only work on that thread, so use it with
     * {@code -Dcloe.cpu.threads=1} (the CPU backend then runs every op on the caller).
     */
    static final boolean CPU_CLOCK = "cpu".equals(System.getProperty("cloe.profile.clock"));
    private static final Map<String, LongAdder[]> TIMES = new ConcurrentHashMap<>();

    private OpProfile() {
    }

    /** The profile's clock, in nanoseconds: wall time, or the thread's CPU time with {@code cloe.profile.clock=cpu}. */
    static long now() {
        return CPU_CLOCK ? Threads.BEAN.getCurrentThreadCpuTime() : System.nanoTime();
    }

    /** The thread bean, loaded only when the CPU clock is used (not at every graph run's start). */
    private static final class Threads {
        static final java.lang.management.ThreadMXBean BEAN = java.lang.management.ManagementFactory.getThreadMXBean();
    }

    static void add(String op, boolean backward, long nanos) {
        LongAdder[] a = TIMES.computeIfAbsent(op, k -> new LongAdder[]{new LongAdder(), new LongAdder(), new LongAdder()});
        a[backward ? 1 : 0].add(nanos);
        if (!backward) a[2].increment();
    }

    /** Forgets every time recorded so far (a benchmark calls it after its warm-up, to profile the steady state). */
    public static void reset() {
        TIMES.clear();
    }

    public static boolean enabled() {
        return ENABLED;
    }

    /** A table of the ops by total time, largest first (empty when profiling is off). */
    public static String table() {
        if (TIMES.isEmpty()) return "";
        double total = TIMES.values().stream().mapToDouble(a -> a[0].sum() + a[1].sum()).sum();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-26s %10s %12s %12s %7s%n", "op", "calls",
                "forward ms", "backward ms", "share"));
        List<Map.Entry<String, LongAdder[]>> rows = TIMES.entrySet().stream()
                .sorted(Comparator.comparingDouble(e -> -(e.getValue()[0].sum() + e.getValue()[1].sum()))).toList();
        for (Map.Entry<String, LongAdder[]> e : rows) {
            LongAdder[] a = e.getValue();
            sb.append(String.format(Locale.ROOT, "%-26s %10d %12.1f %12.1f %6.1f%%%n", e.getKey(), a[2].sum(),
                    a[0].sum() / 1e6, a[1].sum() / 1e6, 100 * (a[0].sum() + a[1].sum()) / total));
        }
        return sb.toString();
    }

}
