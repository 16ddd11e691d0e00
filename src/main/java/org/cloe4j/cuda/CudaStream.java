package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A CUDA stream of one device. {@link #legacyDefault} is the NULL stream, which JCuda launches use (it orders
 * against every blocking stream, so mixing both launch paths stays correct).
 */
public final class CudaStream implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment handle;
    private final boolean owned;

    private CudaStream(CudaDevice device, MemorySegment handle, boolean owned) {
        this.device = device;
        this.handle = handle;
        this.owned = owned;
    }

    /** A new blocking stream (CU_STREAM_DEFAULT: it synchronises with the legacy NULL stream). */
    public static CudaStream create(CudaDevice device) {
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuStreamCreate(p, cuda_h.CU_STREAM_DEFAULT()), "cuStreamCreate");
            return new CudaStream(device, p.get(ValueLayout.ADDRESS, 0), true);
        }
    }

    /** The legacy default (NULL) stream. */
    public static CudaStream legacyDefault(CudaDevice device) {
        return new CudaStream(device, MemorySegment.NULL, false);
    }

    public MemorySegment handle() {
        return handle;
    }

    public CudaDevice device() {
        return device;
    }

    public void synchronize() {
        device.makeCurrent();
        CudaException.check(cuda_h.cuStreamSynchronize(handle), "cuStreamSynchronize");
    }

    @Override
    public void close() {
        if (owned) {
            device.makeCurrent();
            CudaException.check(cuda_h.cuStreamDestroy_v2(handle), "cuStreamDestroy_v2");
        }
    }
}
