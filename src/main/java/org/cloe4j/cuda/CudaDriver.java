package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.NativeLibraries;
import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * The CUDA driver as this process sees it: probed once, never throwing. Without libcuda.so.1, or when cuInit
 * fails, or with no device, {@link #isAvailable()} is false and {@link #unavailableReason()} says why.
 */
public final class CudaDriver {
    private static volatile CudaDriver instance;

    private final boolean available;
    private final String reason;
    private final int version;
    private final List<CudaDevice> devices;

    private CudaDriver(boolean available, String reason, int version, List<CudaDevice> devices) {
        this.available = available;
        this.reason = reason;
        this.version = version;
        this.devices = devices;
    }

    /** The probed driver (probing happens on the first call). Never throws. */
    public static CudaDriver get() {
        CudaDriver d = instance;
        if (d == null) {
            synchronized (CudaDriver.class) {
                d = instance;
                if (d == null) instance = d = probe();
            }
        }
        return d;
    }

    private static CudaDriver probe() {
        try {
            if (!NativeLibraries.isAvailable(NativeLibraries.Library.CUDA)) {
                return unavailable("no CUDA driver: libcuda.so.1 " + NativeLibraries.describe(NativeLibraries.Library.CUDA));
            }
            int rc = cuda_h.cuInit(0);
            if (rc != 0) return unavailable("cuInit failed: " + CudaException.errorName(rc) + " " + CudaException.errorString(rc));
            try (Arena a = Arena.ofConfined()) {
                MemorySegment i = a.allocate(ValueLayout.JAVA_INT);
                CudaException.check(cuda_h.cuDriverGetVersion(i), "cuDriverGetVersion");
                int version = i.get(ValueLayout.JAVA_INT, 0);
                CudaException.check(cuda_h.cuDeviceGetCount(i), "cuDeviceGetCount");
                int count = i.get(ValueLayout.JAVA_INT, 0);
                if (count == 0) return unavailable("CUDA driver " + version + " found no GPU");
                List<CudaDevice> devs = new ArrayList<>();
                for (int k = 0; k < count; k++) devs.add(CudaDevice.open(k));
                return new CudaDriver(true, "", version, List.copyOf(devs));
            }
        } catch (Throwable t) {
            return unavailable("CUDA probe failed: " + t);
        }
    }

    private static CudaDriver unavailable(String why) {
        return new CudaDriver(false, why, 0, List.of());
    }

    public boolean isAvailable() {
        return available;
    }

    /** Why CUDA cannot be used here; empty when it can. */
    public String unavailableReason() {
        return reason;
    }

    /** cuDriverGetVersion, e.g. 13000 for CUDA 13.0. */
    public int version() {
        return version;
    }

    public List<CudaDevice> devices() {
        return devices;
    }

    public CudaDevice device(int ordinal) {
        if (!available) throw new IllegalStateException("CUDA is not available: " + reason);
        if (ordinal < 0 || ordinal >= devices.size()) {
            throw new IllegalArgumentException("no CUDA device " + ordinal + " (" + devices.size() + " present)");
        }
        return devices.get(ordinal);
    }

    @Override
    public String toString() {
        return available ? "CUDA driver " + version + ", devices " + devices : "CUDA unavailable: " + reason;
    }
}
