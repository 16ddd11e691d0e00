package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A caching device allocator: freed blocks are kept by size class and handed out again, because cuMemAlloc and
 * cuMemFree synchronise the device and cost tens of microseconds each — a training step allocates thousands of
 * buffers of a few dozen sizes. Size classes: multiples of 512 bytes up to 1 MiB, above that eight classes per
 * power of two (at most 12.5 % slack).
 *
 * <p>All work runs on one stream, so a block freed here can be reused by the next launch at once: stream order
 * guarantees the previous user's kernels finished reading it. On out-of-memory the cache is emptied and the
 * allocation retried once; if that fails a {@link CudaOutOfMemoryException} names the sizes, and the allocator
 * (with everything still allocated) stays usable.
 */
public final class DeviceAllocator implements AutoCloseable {
    private static final long SMALL = 1L << 20;

    private final CudaDevice device;
    private final TreeMap<Long, ArrayDeque<Long>> cache = new TreeMap<>();
    private final Map<Long, Long> live = new HashMap<>();
    private long inUse;
    private long peak;
    private long cached;
    private long deviceAllocations;

    public DeviceAllocator(CudaDevice device) {
        this.device = device;
    }

    /** The size class that serves a request of {@code bytes}. */
    static long sizeClass(long bytes) {
        if (bytes <= 0) return 512;
        if (bytes <= SMALL) return (bytes + 511) & ~511L;
        long step = Long.highestOneBit(bytes - 1) >> 3;
        return (bytes + step - 1) / step * step;
    }

    /** A device block of at least {@code bytes}; {@code what} names the use in an out-of-memory message. */
    public synchronized long allocate(long bytes, String what) {
        long cls = sizeClass(bytes);
        ArrayDeque<Long> q = cache.get(cls);
        long ptr;
        if (q != null && !q.isEmpty()) {
            ptr = q.pop();
            cached -= cls;
        } else {
            ptr = deviceAlloc(cls, bytes, what);
        }
        live.put(ptr, cls);
        inUse += cls;
        peak = Math.max(peak, inUse);
        return ptr;
    }

    private long deviceAlloc(long cls, long requested, String what) {
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.JAVA_LONG);
            int rc = cuda_h.cuMemAlloc_v2(p, cls);
            if (rc == cuda_h.CUDA_ERROR_OUT_OF_MEMORY()) {
                emptyCache();
                rc = cuda_h.cuMemAlloc_v2(p, cls);
                if (rc == cuda_h.CUDA_ERROR_OUT_OF_MEMORY()) {
                    long[] info = device.memoryInfo();
                    throw new CudaOutOfMemoryException(what, requested, inUse, info[0], info[1]);
                }
            }
            CudaException.check(rc, "cuMemAlloc_v2(" + cls + " bytes" + (what == null ? "" : " for " + what) + ")");
            deviceAllocations++;
            return p.get(ValueLayout.JAVA_LONG, 0);
        }
    }

    /** Returns a block to the cache. */
    public synchronized void free(long ptr) {
        Long cls = live.remove(ptr);
        if (cls == null) throw new IllegalArgumentException("device pointer 0x" + Long.toHexString(ptr) + " was not allocated here or is already freed");
        inUse -= cls;
        cached += cls;
        cache.computeIfAbsent(cls, k -> new ArrayDeque<>()).push(ptr);
    }

    /** Gives every cached block back to the driver. */
    public synchronized void emptyCache() {
        if (cache.isEmpty()) return;
        device.makeCurrent();
        for (ArrayDeque<Long> q : cache.values()) {
            for (long p : q) CudaException.check(cuda_h.cuMemFree_v2(p), "cuMemFree_v2");
        }
        cache.clear();
        cached = 0;
    }

    /** Bytes of live blocks (by size class). */
    public synchronized long bytesInUse() {
        return inUse;
    }

    public synchronized long peakBytes() {
        return peak;
    }

    public synchronized void resetPeak() {
        peak = inUse;
    }

    /** cuMemAlloc calls so far (a cache hit makes none). */
    public synchronized long deviceAllocations() {
        return deviceAllocations;
    }

    @Override
    public synchronized void close() {
        emptyCache();
        device.makeCurrent();
        for (long p : live.keySet()) cuda_h.cuMemFree_v2(p);
        live.clear();
        inUse = 0;
    }
}
