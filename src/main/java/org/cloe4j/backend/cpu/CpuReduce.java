package org.cloe4j.backend.cpu;

/**
 * Parallel reductions accumulated in double over fixed blocks whose partial sums are added in block order, so the
 * result does not depend on thread timing (training must be bit-reproducible on the CPU).
 */
final class CpuReduce {
    static final int BLOCK = 1 << 14;

    private CpuReduce() {
    }

    /** Body that reduces the elements [lo, hi) into {@code acc} (length fixed per reduction). */
    @FunctionalInterface
    interface BlockBody {
        void run(int lo, int hi, double[] acc);
    }

    /** Runs {@code body} over fixed blocks of [0, n) and returns the width-{@code k} sums, added in block order. */
    static double[] blocks(int n, int k, BlockBody body) {
        int nb = Math.max(1, (n + BLOCK - 1) / BLOCK);
        double[][] partial = new double[nb][k];
        Parallel.forEach(nb, b -> body.run(b * BLOCK, Math.min(n, (b + 1) * BLOCK), partial[b]));
        double[] total = new double[k];
        for (double[] p : partial) {
            for (int j = 0; j < k; j++) total[j] += p[j];
        }
        return total;
    }

    static double dot(float[] a, float[] b) {
        return blocks(a.length, 1, (lo, hi, acc) -> {
            double s = 0;
            for (int i = lo; i < hi; i++) s += (double) a[i] * b[i];
            acc[0] = s;
        })[0];
    }
}
