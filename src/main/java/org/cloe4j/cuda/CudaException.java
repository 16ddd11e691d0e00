package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A CUDA driver call that failed: carries the call (with its arguments where they help), the CUresult code and its
 * name ({@code CUDA_ERROR_ILLEGAL_ADDRESS}), e.g. "cuLaunchKernel(cloe_scale grid 4x1x1 block 256x1x1) failed:
 * CUDA_ERROR_INVALID_VALUE (1): invalid argument".
 */
public class CudaException extends RuntimeException {
    private final String call;
    private final int code;
    private final String errorName;

    public CudaException(String call, int code, String errorName, String message) {
        super(call + " failed: " + errorName + " (" + code + ")" + (message == null || message.isEmpty() ? "" : ": " + message));
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    protected CudaException(String message, String call, int code, String errorName) {
        super(message);
        this.call = call;
        this.code = code;
        this.errorName = errorName;
    }

    /** The failed call. */
    public String call() {
        return call;
    }

    /** The CUresult value. */
    public int code() {
        return code;
    }

    /** The CUresult's name, as cuGetErrorName gives it (or CUresult(n) when even that fails). */
    public String errorName() {
        return errorName;
    }

    /**
     * Whether this error poisons the context (CUDA_ERROR_ILLEGAL_ADDRESS 700, HARDWARE_STACK_ERROR 714,
     * ILLEGAL_INSTRUCTION 715, MISALIGNED_ADDRESS 716, INVALID_ADDRESS_SPACE 717, INVALID_PC 718, LAUNCH_FAILED 719):
     * every later call in the process fails the same way, so nothing after it tells anything.
     */
    public boolean isSticky() {
        return isSticky(code);
    }

    /** See {@link #isSticky()}. */
    public static boolean isSticky(int code) {
        return code == 700 || code >= 714 && code <= 719;
    }

    /** Throws a {@link CudaException} (or {@link CudaOutOfMemoryException}) unless {@code rc} is CUDA_SUCCESS. */
    static void check(int rc, String call) {
        if (rc != 0) throw of(rc, call);
    }

    static CudaException of(int rc, String call) {
        return new CudaException(call, rc, errorName(rc), errorString(rc));
    }

    /** cuGetErrorName of {@code rc}; never throws. */
    static String errorName(int rc) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            if (cuda_h.cuGetErrorName(rc, p) == 0) {
                MemorySegment s = p.get(ValueLayout.ADDRESS, 0);
                if (!s.equals(MemorySegment.NULL)) return s.reinterpret(256).getString(0);
            }
        } catch (Throwable t) {
            // the driver itself is missing: fall through to the number
        }
        return "CUresult(" + rc + ")";
    }

    static String errorString(int rc) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            if (cuda_h.cuGetErrorString(rc, p) == 0) {
                MemorySegment s = p.get(ValueLayout.ADDRESS, 0);
                if (!s.equals(MemorySegment.NULL)) return s.reinterpret(1024).getString(0);
            }
        } catch (Throwable t) {
            // no description available
        }
        return "";
    }
}
