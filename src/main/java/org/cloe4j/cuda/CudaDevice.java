package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One GPU and its primary context. The primary context is retained on first use and made current, through
 * {@link #makeCurrent()}, on every thread that calls into the driver for this device (a CUDA context is current
 * per thread, and the JVM runs ops on many threads).
 */
public final class CudaDevice {
    private final int ordinal;
    private final int handle;
    private final String name;
    private final int ccMajor;
    private final int ccMinor;
    private final int multiprocessors;
    private final long totalMemory;
    private volatile MemorySegment context;
    private final ThreadLocal<MemorySegment> currentOnThread = new ThreadLocal<>();

    private CudaDevice(int ordinal, int handle, String name, int ccMajor, int ccMinor, int multiprocessors, long totalMemory) {
        this.ordinal = ordinal;
        this.handle = handle;
        this.name = name;
        this.ccMajor = ccMajor;
        this.ccMinor = ccMinor;
        this.multiprocessors = multiprocessors;
        this.totalMemory = totalMemory;
    }

    static CudaDevice open(int ordinal) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment i = a.allocate(ValueLayout.JAVA_INT);
            CudaException.check(cuda_h.cuDeviceGet(i, ordinal), "cuDeviceGet(" + ordinal + ")");
            int dev = i.get(ValueLayout.JAVA_INT, 0);
            MemorySegment nm = a.allocate(256);
            CudaException.check(cuda_h.cuDeviceGetName(nm, 256, dev), "cuDeviceGetName");
            MemorySegment l = a.allocate(ValueLayout.JAVA_LONG);
            CudaException.check(cuda_h.cuDeviceTotalMem_v2(l, dev), "cuDeviceTotalMem_v2");
            return new CudaDevice(ordinal, dev, nm.getString(0),
                    attribute(a, dev, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR()),
                    attribute(a, dev, cuda_h.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR()),
                    attribute(a, dev, cuda_h.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT()),
                    l.get(ValueLayout.JAVA_LONG, 0));
        }
    }

    private static int attribute(Arena a, int dev, int attr) {
        MemorySegment i = a.allocate(ValueLayout.JAVA_INT);
        CudaException.check(cuda_h.cuDeviceGetAttribute(i, attr, dev), "cuDeviceGetAttribute(" + attr + ")");
        return i.get(ValueLayout.JAVA_INT, 0);
    }

    /** Retains the primary context (once) and makes it current on the calling thread. */
    public MemorySegment makeCurrent() {
        MemorySegment ctx = context;
        if (ctx == null) {
            synchronized (this) {
                ctx = context;
                if (ctx == null) {
                    try (Arena a = Arena.ofConfined()) {
                        MemorySegment p = a.allocate(ValueLayout.ADDRESS);
                        CudaException.check(cuda_h.cuDevicePrimaryCtxRetain(p, handle), "cuDevicePrimaryCtxRetain(" + ordinal + ")");
                        context = ctx = p.get(ValueLayout.ADDRESS, 0);
                    }
                }
            }
        }
        if (currentOnThread.get() != ctx) {
            CudaException.check(cuda_h.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
            currentOnThread.set(ctx);
        }
        return ctx;
    }

    /** Free and total device memory now (cuMemGetInfo). */
    public long[] memoryInfo() {
        makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(ValueLayout.JAVA_LONG), t = a.allocate(ValueLayout.JAVA_LONG);
            CudaException.check(cuda_h.cuMemGetInfo_v2(f, t), "cuMemGetInfo_v2");
            return new long[]{f.get(ValueLayout.JAVA_LONG, 0), t.get(ValueLayout.JAVA_LONG, 0)};
        }
    }

    public int ordinal() {
        return ordinal;
    }

    public String name() {
        return name;
    }

    public int multiprocessors() {
        return multiprocessors;
    }

    public long totalMemory() {
        return totalMemory;
    }

    @Override
    public String toString() {
        return "GPU " + ordinal + " " + name + " (sm_" + ccMajor + ccMinor + ", " + multiprocessors + " SMs, "
                + (totalMemory >> 20) + " MiB)";
    }
}
