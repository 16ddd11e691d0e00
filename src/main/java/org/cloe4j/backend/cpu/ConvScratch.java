package org.cloe4j.backend.cpu;

/**
 * Per-thread scratch buffers of the convolution kernels. They only grow, so a steady training loop allocates
 * nothing after its first step; contents are not preserved between uses.
 */
final class ConvScratch {
    private static final ThreadLocal<ConvScratch> LOCAL = ThreadLocal.withInitial(ConvScratch::new);

    private float[] first = new float[0];
    private float[] second = new float[0];

    static ConvScratch get() {
        return LOCAL.get();
    }

    /** A buffer of at least n floats (the source-row or plane buffer). */
    float[] first(int n) {
        if (first.length < n) first = new float[n];
        return first;
    }

    /** A second, independent buffer of at least n floats (backwardData's padded-domain gradient tile). */
    float[] second(int n) {
        if (second.length < n) second = new float[n];
        return second;
    }
}
