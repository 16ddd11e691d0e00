package org.cloe4j.cuda;

/**
 * Device memory ran out: names the size asked for, the bytes held by live tensors, and the device's free/total
 * memory. Thrown after the allocator has already emptied its cache and retried once; the backend stays usable.
 */
public final class CudaOutOfMemoryException extends CudaException {
    private final long requested;
    private final long bytesInUse;

    CudaOutOfMemoryException(String what, long requested, long bytesInUse, long free, long total) {
        super("out of device memory allocating " + requested + " bytes" + (what == null ? "" : " for " + what)
                        + " with " + bytesInUse + " bytes in use by live tensors (device: " + free + " of " + total
                        + " bytes free) — after emptying the allocator's cache and retrying",
                "cuMemAlloc_v2(" + requested + ")", 2, "CUDA_ERROR_OUT_OF_MEMORY");
        this.requested = requested;
        this.bytesInUse = bytesInUse;
    }

    public long requested() {
        return requested;
    }

    public long bytesInUse() {
        return bytesInUse;
    }
}
