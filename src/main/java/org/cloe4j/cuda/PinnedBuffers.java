package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Page-locked host staging buffers for host/device copies: the DMA engine reads pinned memory directly, where a
 * copy from pageable memory goes through a driver bounce buffer at about half the speed. Buffers are pooled (a
 * pinned allocation costs milliseconds) and handed out one per copy; {@link Lease#close()} returns one.
 */
public final class PinnedBuffers implements AutoCloseable {
    private final CudaDevice device;
    private final List<MemorySegment> pool = new ArrayList<>();
    private final List<MemorySegment> all = new ArrayList<>();

    public PinnedBuffers(CudaDevice device) {
        this.device = device;
    }

    /** A staging buffer of at least {@code bytes}, exclusive to the caller until closed. */
    public Lease acquire(long bytes) {
        synchronized (this) {
            for (int i = 0; i < pool.size(); i++) {
                if (pool.get(i).byteSize() >= bytes) return new Lease(pool.remove(i));
            }
        }
        long size = Math.max(1L << 16, Long.highestOneBit(Math.max(1, bytes - 1)) << 1);
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuMemAllocHost_v2(p, size), "cuMemAllocHost_v2(" + size + ")");
            MemorySegment seg = p.get(ValueLayout.ADDRESS, 0).reinterpret(size);
            synchronized (this) {
                all.add(seg);
            }
            return new Lease(seg);
        }
    }

    /** One borrowed staging buffer. */
    public final class Lease implements AutoCloseable {
        private final MemorySegment segment;

        private Lease(MemorySegment segment) {
            this.segment = segment;
        }

        public MemorySegment segment() {
            return segment;
        }

        @Override
        public void close() {
            synchronized (PinnedBuffers.this) {
                pool.add(segment);
            }
        }
    }

    @Override
    public synchronized void close() {
        device.makeCurrent();
        for (MemorySegment s : all) cuda_h.cuMemFreeHost(s);
        all.clear();
        pool.clear();
    }
}
