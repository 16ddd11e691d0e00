package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A CUDA event with timing, for measuring kernels on the GPU's own clock. */
public final class CudaEvent implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment handle;

    public CudaEvent(CudaDevice device) {
        this.device = device;
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuEventCreate(p, cuda_h.CU_EVENT_DEFAULT()), "cuEventCreate");
            handle = p.get(ValueLayout.ADDRESS, 0);
        }
    }

    public void record(CudaStream stream) {
        device.makeCurrent();
        CudaException.check(cuda_h.cuEventRecord(handle, stream.handle()), "cuEventRecord");
    }

    public void synchronize() {
        device.makeCurrent();
        CudaException.check(cuda_h.cuEventSynchronize(handle), "cuEventSynchronize");
    }

    /** Milliseconds from {@code start} to this event (both recorded; waits for this one). */
    public float elapsedSince(CudaEvent start) {
        synchronize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment f = a.allocate(ValueLayout.JAVA_FLOAT);
            CudaException.check(cuda_h.cuEventElapsedTime(f, start.handle, handle), "cuEventElapsedTime");
            return f.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Override
    public void close() {
        device.makeCurrent();
        CudaException.check(cuda_h.cuEventDestroy_v2(handle), "cuEventDestroy_v2");
    }
}
