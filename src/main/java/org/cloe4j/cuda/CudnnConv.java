package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.NativeLibraries;
import org.cloe4j.cuda.ffm.cudnn_h;
import org.cloe4j.tensor.Shape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * conv3d through cuDNN's legacy Nd API: the reference for our kernels ({@code -Dcloe.cuda.conv=cudnn}) and their peer in benchmarks.
 * cuDNN pads with zeros only, so a reflect-padded conv runs on an explicitly padded copy of its input (our
 * {@code cloe_pad_reflect1_*} kernels) with cuDNN padding 0. FMA math unless the caller asks for tensor ops (TF32):
 * TF32 changes results in the 4th digit and the CPU backend is the oracle. Algorithms are fixed (implicit GEMM, BWD_DATA_1, BWD_FILTER_1): all
 * support 3D fp32 and are deterministic except where cuDNN documents otherwise.
 */
final class CudnnConv implements AutoCloseable {
    private final MemorySegment handle;
    private final String library;

    private CudnnConv(MemorySegment handle, String library) {
        this.handle = handle;
        this.library = library;
    }

    /** cuDNN on {@code stream}, or null with the reason in {@code why[0]} when it cannot be loaded. */
    static CudnnConv open(CudaStream stream, String[] why) {
        try {
            if (!NativeLibraries.isAvailable(NativeLibraries.Library.CUDNN)) {
                why[0] = "cuDNN " + NativeLibraries.describe(NativeLibraries.Library.CUDNN);
                return null;
            }
            stream.device().makeCurrent();
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(ValueLayout.ADDRESS);
                check(cudnn_h.cudnnCreate(p), "cudnnCreate");
                MemorySegment h = p.get(ValueLayout.ADDRESS, 0);
                check(cudnn_h.cudnnSetStream(h, stream.handle()), "cudnnSetStream");
                return new CudnnConv(h, NativeLibraries.describe(NativeLibraries.Library.CUDNN) + ", version " + cudnn_h.cudnnGetVersion());
            }
        } catch (Throwable t) {
            why[0] = "cuDNN failed to start: " + t;
            return null;
        }
    }

    String describe() {
        return library;
    }

    static void check(int status, String call) {
        if (status != 0) {
            String msg;
            try {
                msg = cudnn_h.cudnnGetErrorString(status).reinterpret(256).getString(0);
            } catch (Throwable t) {
                msg = "status " + status;
            }
            throw new CudaException(call, status, msg, "cuDNN");
        }
    }

    /** The three descriptors of one convolution problem; closed with the arena's scope. */
    private final class Problem implements AutoCloseable {
        final MemorySegment x, y, w, conv;
        final Arena arena = Arena.ofConfined();

        Problem(Shape xs, Shape ws, Shape ys, int pad, int stride, boolean tensorOps) {
            MemorySegment p = arena.allocate(ValueLayout.ADDRESS);
            check(cudnn_h.cudnnCreateTensorDescriptor(p), "cudnnCreateTensorDescriptor");
            x = p.get(ValueLayout.ADDRESS, 0);
            check(cudnn_h.cudnnCreateTensorDescriptor(p), "cudnnCreateTensorDescriptor");
            y = p.get(ValueLayout.ADDRESS, 0);
            check(cudnn_h.cudnnCreateFilterDescriptor(p), "cudnnCreateFilterDescriptor");
            w = p.get(ValueLayout.ADDRESS, 0);
            check(cudnn_h.cudnnCreateConvolutionDescriptor(p), "cudnnCreateConvolutionDescriptor");
            conv = p.get(ValueLayout.ADDRESS, 0);
            tensor(x, xs);
            tensor(y, ys);
            check(cudnn_h.cudnnSetFilterNdDescriptor(w, cudnn_h.CUDNN_DATA_FLOAT(), cudnn_h.CUDNN_TENSOR_NCHW(), 5,
                    arena.allocateFrom(ValueLayout.JAVA_INT, ws.dims())), "cudnnSetFilterNdDescriptor " + ws);
            check(cudnn_h.cudnnSetConvolutionNdDescriptor(conv, 3, arena.allocateFrom(ValueLayout.JAVA_INT, pad, pad, pad),
                    arena.allocateFrom(ValueLayout.JAVA_INT, stride, stride, stride),
                    arena.allocateFrom(ValueLayout.JAVA_INT, 1, 1, 1), cudnn_h.CUDNN_CROSS_CORRELATION(),
                    cudnn_h.CUDNN_DATA_FLOAT()), "cudnnSetConvolutionNdDescriptor");
            check(cudnn_h.cudnnSetConvolutionMathType(conv, tensorOps ? cudnn_h.CUDNN_TENSOR_OP_MATH() : cudnn_h.CUDNN_FMA_MATH()), "cudnnSetConvolutionMathType");
        }

        private void tensor(MemorySegment d, Shape s) {
            int[] dims = s.dims();
            int[] strides = new int[5];
            int st = 1;
            for (int i = 4; i >= 0; i--) {
                strides[i] = st;
                st *= dims[i];
            }
            check(cudnn_h.cudnnSetTensorNdDescriptor(d, cudnn_h.CUDNN_DATA_FLOAT(), 5,
                    arena.allocateFrom(ValueLayout.JAVA_INT, dims), arena.allocateFrom(ValueLayout.JAVA_INT, strides)),
                    "cudnnSetTensorNdDescriptor " + s);
        }

        MemorySegment one() {
            return arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f);
        }

        MemorySegment zero() {
            return arena.allocateFrom(ValueLayout.JAVA_FLOAT, 0f);
        }

        @Override
        public void close() {
            cudnn_h.cudnnDestroyTensorDescriptor(x);
            cudnn_h.cudnnDestroyTensorDescriptor(y);
            cudnn_h.cudnnDestroyFilterDescriptor(w);
            cudnn_h.cudnnDestroyConvolutionDescriptor(conv);
            arena.close();
        }
    }

    /** y = conv(x, w) with cuDNN padding {@code pad} (0 when x is already reflect-padded). */
    void forward(DeviceAllocator alloc, long x, Shape xs, long w, Shape ws, long y, Shape ys, int pad, int stride, boolean tensorOps) {
        try (Problem p = new Problem(xs, ws, ys, pad, stride, tensorOps)) {
            int algo = cudnn_h.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM();
            MemorySegment sz = p.arena.allocate(ValueLayout.JAVA_LONG);
            check(cudnn_h.cudnnGetConvolutionForwardWorkspaceSize(handle, p.x, p.w, p.conv, p.y, algo, sz),
                    "cudnnGetConvolutionForwardWorkspaceSize " + xs + " * " + ws);
            long wsBytes = sz.get(ValueLayout.JAVA_LONG, 0);
            long work = wsBytes > 0 ? alloc.allocate(wsBytes, "cuDNN workspace") : 0;
            try {
                check(cudnn_h.cudnnConvolutionForward(handle, p.one(), p.x, MemorySegment.ofAddress(x), p.w,
                        MemorySegment.ofAddress(w), p.conv, algo, MemorySegment.ofAddress(work), wsBytes, p.zero(), p.y,
                        MemorySegment.ofAddress(y)), "cudnnConvolutionForward " + xs + " * " + ws + " -> " + ys);
            } finally {
                if (work != 0) alloc.free(work);
            }
        }
    }

    /** gx = conv^T(gy, w). */
    void backwardData(DeviceAllocator alloc, long gy, Shape ys, long w, Shape ws, long gx, Shape xs, int pad, int stride, boolean tensorOps) {
        try (Problem p = new Problem(xs, ws, ys, pad, stride, tensorOps)) {
            int algo = cudnn_h.CUDNN_CONVOLUTION_BWD_DATA_ALGO_1();
            MemorySegment sz = p.arena.allocate(ValueLayout.JAVA_LONG);
            check(cudnn_h.cudnnGetConvolutionBackwardDataWorkspaceSize(handle, p.w, p.y, p.conv, p.x, algo, sz),
                    "cudnnGetConvolutionBackwardDataWorkspaceSize " + ys + " * " + ws);
            long wsBytes = sz.get(ValueLayout.JAVA_LONG, 0);
            long work = wsBytes > 0 ? alloc.allocate(wsBytes, "cuDNN workspace") : 0;
            try {
                check(cudnn_h.cudnnConvolutionBackwardData(handle, p.one(), p.w, MemorySegment.ofAddress(w), p.y,
                        MemorySegment.ofAddress(gy), p.conv, algo, MemorySegment.ofAddress(work), wsBytes, p.zero(), p.x,
                        MemorySegment.ofAddress(gx)), "cudnnConvolutionBackwardData " + ys + " * " + ws + " -> " + xs);
            } finally {
                if (work != 0) alloc.free(work);
            }
        }
    }

    /** gw = the filter gradient from x and gy. */
    void backwardFilter(DeviceAllocator alloc, long x, Shape xs, long gy, Shape ys, long gw, Shape ws, int pad, int stride, boolean tensorOps) {
        try (Problem p = new Problem(xs, ws, ys, pad, stride, tensorOps)) {
            int algo = cudnn_h.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1();
            MemorySegment sz = p.arena.allocate(ValueLayout.JAVA_LONG);
            check(cudnn_h.cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, p.x, p.y, p.conv, p.w, algo, sz),
                    "cudnnGetConvolutionBackwardFilterWorkspaceSize " + xs + " / " + ys);
            long wsBytes = sz.get(ValueLayout.JAVA_LONG, 0);
            long work = wsBytes > 0 ? alloc.allocate(wsBytes, "cuDNN workspace") : 0;
            try {
                check(cudnn_h.cudnnConvolutionBackwardFilter(handle, p.one(), p.x, MemorySegment.ofAddress(x), p.y,
                        MemorySegment.ofAddress(gy), p.conv, algo, MemorySegment.ofAddress(work), wsBytes, p.zero(), p.w,
                        MemorySegment.ofAddress(gw)), "cudnnConvolutionBackwardFilter " + xs + " / " + ys + " -> " + ws);
            } finally {
                if (work != 0) alloc.free(work);
            }
        }
    }

    @Override
    public void close() {
        cudnn_h.cudnnDestroy(handle);
    }

}
