package org.cloe4j.backend.cpu;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/**
 * Splits index ranges over the CPU backend's worker pool. The pool size comes from {@code cloe.cpu.threads}
 * (default: all available processors). Small ranges run on the calling thread.
 */
public final class Parallel {
    private static final int THREADS = Integer.getInteger("cloe.cpu.threads",
            Runtime.getRuntime().availableProcessors());
    private static final ForkJoinPool POOL = THREADS <= 1 ? null : new ForkJoinPool(THREADS);

    private Parallel() {
    }

    /** Number of worker threads the backend uses. */
    public static int threads() {
        return Math.max(1, THREADS);
    }

    /** Runs {@code body.accept(i)} for every i in [0, n), spread over the pool. */
    public static void forEach(int n, IntConsumer body) {
        forRange(n, 1, (lo, hi) -> {
            for (int i = lo; i < hi; i++) body.accept(i);
        });
    }

    /** A body that handles the half-open index range [lo, hi). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int lo, int hi);
    }

    /**
     * Runs {@code body} over [0, n) in chunks of at least {@code grain} indices. When the pool is absent, the range
     * is tiny, or the caller already is a pool worker, the whole range runs on the calling thread.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        int g = Math.max(1, grain);
        if (POOL == null || n <= g || Thread.currentThread() instanceof java.util.concurrent.ForkJoinWorkerThread w && w.getPool() == POOL) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min((n + g - 1) / g, THREADS * 4);
        POOL.invoke(new Split(body, 0, n, Math.max(g, (n + chunks - 1) / chunks)));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int lo;
        private final int hi;
        private final int grain;

        Split(RangeBody body, int lo, int hi, int grain) {
            this.body = body;
            this.lo = lo;
            this.hi = hi;
            this.grain = grain;
        }

        @Override
        protected void compute() {
            if (hi - lo <= grain) {
                body.run(lo, hi);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, lo, mid, grain), new Split(body, mid, hi, grain));
        }
    }
}
