package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.NativeLibraries;
import org.cloe4j.cuda.ffm.cudnn_h;
import org.cloe4j.tensor.Shape;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

/**
 * conv3d through cuDNN's legacy Nd API: the reference for our kernels ({@code -Dcloe.cuda.conv=cudnn}) and their peer in benchmarks.
 * cuDNN pads with zeros only, so a reflect-padded conv runs on an explicitly padded copy of its input (our
 * {@code cloe_pad_reflect1_*} kernels) with cuDNN padding 0. FMA math unless the caller asks for tensor ops (TF32):
 * TF32 changes results in the 4th digit and the CPU backend is the oracle. Algorithms are fixed (implicit GEMM, BWD_DATA_1, BWD_FILTER_1): all
 * support 3D fp32 and are deterministic except where cuDNN documents otherwise. When cuDNN answers NOT_SUPPORTED for a
 * shape anyway, the algorithm search ({@code cudnnGet*Algorithm_v7}) names the candidates and the first supported one
 * runs; {@link #describe()} lists every such fallback with the status codes seen. Failures name the call, the algorithm
 * and cuDNN's status code.
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
        List<String> f = fallbacks();
        return f.isEmpty() ? library : library + "; algorithm fallbacks: " + String.join(" | ", f);
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

    /** cuDNN's answer "this algorithm does not do this problem": 3000-3999 in cuDNN 9, 9 in cuDNN 8. */
    static boolean notSupported(int status) {
        return status == 9 || status >= cudnn_h.CUDNN_STATUS_NOT_SUPPORTED() && status < cudnn_h.CUDNN_STATUS_NOT_SUPPORTED() + 1000;
    }

    /** Size of cuDNN's algorithm perf structs (see native/cudnn.h) and the most the search is asked for. */
    private static final int PERF_BYTES = 48, SEARCH = 16;

    /** One convolution pass, as three calls that return a cuDNN status. */
    private interface Pass {
        int workspaceSize(Problem p, int algo, MemorySegment size);

        int run(Problem p, int algo, MemorySegment work, long bytes);

        int search(Problem p, int requested, MemorySegment returned, MemorySegment perf);
    }

    /** What the fallbacks chose, for the suite's report: "forward: algorithm 0 NOT_SUPPORTED (3000) for ..., used 1". */
    private final List<String> fallbacks = new java.util.concurrent.CopyOnWriteArrayList<>();

    List<String> fallbacks() {
        return java.util.List.copyOf(fallbacks);
    }

    /**
     * Runs {@code pass} with the fixed algorithm; when cuDNN answers NOT_SUPPORTED (a 3D shape the legacy algorithm
     * does not cover), asks the algorithm search and runs its candidates in cuDNN's order until one is supported.
     * Any other status fails, naming the call, the algorithm and the status code.
     */
    private void execute(String what, Problem p, DeviceAllocator alloc, int fixed, Pass pass) {
        int status = attempt(p, alloc, fixed, pass);
        if (status == 0) return;
        if (!notSupported(status)) check(status, what + " (algorithm " + fixed + ")");
        MemorySegment count = p.arena.allocate(ValueLayout.JAVA_INT);
        MemorySegment perf = p.arena.allocate((long) PERF_BYTES * SEARCH, 8);
        check(pass.search(p, SEARCH, count, perf), what + ": algorithm search after algorithm " + fixed + " answered status " + status);
        StringBuilder tried = new StringBuilder("algorithm " + fixed + ": status " + status);
        for (int i = 0; i < count.get(ValueLayout.JAVA_INT, 0); i++) {
            int algo = perf.get(ValueLayout.JAVA_INT, (long) i * PERF_BYTES);
            int st = perf.get(ValueLayout.JAVA_INT, (long) i * PERF_BYTES + 4);
            if (st != 0 || algo == fixed) continue;
            int s = attempt(p, alloc, algo, pass);
            tried.append("; algorithm ").append(algo).append(": status ").append(s);
            if (s == 0) {
                fallbacks.add(what + ": " + tried + " (used " + algo + ")");
                return;
            }
            if (!notSupported(s)) check(s, what + " (algorithm " + algo + " from the search; " + tried + ")");
        }
        check(status, what + ": no supported algorithm (" + tried + ")");
    }

    /** Workspace query, workspace, run: the first non-zero status, or 0. */
    private static int attempt(Problem p, DeviceAllocator alloc, int algo, Pass pass) {
        MemorySegment sz = p.arena.allocate(ValueLayout.JAVA_LONG);
        int st = pass.workspaceSize(p, algo, sz);
        if (st != 0) return st;
        long bytes = sz.get(ValueLayout.JAVA_LONG, 0);
        long work = bytes > 0 ? alloc.allocate(bytes, "cuDNN workspace") : 0;
        try {
            return pass.run(p, algo, MemorySegment.ofAddress(work), bytes);
        } finally {
            if (work != 0) alloc.free(work);
        }
    }

    /** y = conv(x, w) with cuDNN padding {@code pad} (0 when x is already reflect-padded). */
    void forward(DeviceAllocator alloc, long x, Shape xs, long w, Shape ws, long y, Shape ys, int pad, int stride, boolean tensorOps) {
        try (Problem p = new Problem(xs, ws, ys, pad, stride, tensorOps)) {
            execute("cudnnConvolutionForward " + xs + " * " + ws + " -> " + ys, p, alloc,
                    cudnn_h.CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM(), new Pass() {
                        public int workspaceSize(Problem q, int algo, MemorySegment size) {
                            return cudnn_h.cudnnGetConvolutionForwardWorkspaceSize(handle, q.x, q.w, q.conv, q.y, algo, size);
                        }

                        public int run(Problem q, int algo, MemorySegment work, long bytes) {
                            return cudnn_h.cudnnConvolutionForward(handle, q.one(), q.x, MemorySegment.ofAddress(x), q.w,
                                    MemorySegment.ofAddress(w), q.conv, algo, work, bytes, q.zero(), q.y, MemorySegment.ofAddress(y));
                        }

                        public int search(Problem q, int requested, MemorySegment returned, MemorySegment perf) {
                            return cudnn_h.cudnnGetConvolutionForwardAlgorithm_v7(handle, q.x, q.w, q.conv, q.y, requested, returned, perf);
                        }
                    });
        }
    }

    /** gx = conv^T(gy, w). */
    void backwardData(DeviceAllocator alloc, long gy, Shape ys, long w, Shape ws, long gx, Shape xs, int pad, int stride, boolean tensorOps) {
        try (Problem p = new Problem(xs, ws, ys, pad, stride, tensorOps)) {
            execute("cudnnConvolutionBackwardData " + ys + " * " + ws + " -> " + xs, p, alloc,
                    cudnn_h.CUDNN_CONVOLUTION_BWD_DATA_ALGO_1(), new Pass() {
                        public int workspaceSize(Problem q, int algo, MemorySegment size) {
                            return cudnn_h.cudnnGetConvolutionBackwardDataWorkspaceSize(handle, q.w, q.y, q.conv, q.x, algo, size);
                        }

                        public int run(Problem q, int algo, MemorySegment work, long bytes) {
                            return cudnn_h.cudnnConvolutionBackwardData(handle, q.one(), q.w, MemorySegment.ofAddress(w), q.y,
                                    MemorySegment.ofAddress(gy), q.conv, algo, work, bytes, q.zero(), q.x, MemorySegment.ofAddress(gx));
                        }

                        public int search(Problem q, int requested, MemorySegment returned, MemorySegment perf) {
                            return cudnn_h.cudnnGetConvolutionBackwardDataAlgorithm_v7(handle, q.w, q.y, q.conv, q.x, requested, returned, perf);
                        }
                    });
        }
    }

    /** gw = the filter gradient from x and gy. */
    void backwardFilter(DeviceAllocator alloc, long x, Shape xs, long gy, Shape ys, long gw, Shape ws, int pad, int stride, boolean tensorOps) {
        try (Problem p = new Problem(xs, ws, ys, pad, stride, tensorOps)) {
            execute("cudnnConvolutionBackwardFilter " + xs + " / " + ys + " -> " + ws, p, alloc,
                    cudnn_h.CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1(), new Pass() {
                        public int workspaceSize(Problem q, int algo, MemorySegment size) {
                            return cudnn_h.cudnnGetConvolutionBackwardFilterWorkspaceSize(handle, q.x, q.y, q.conv, q.w, algo, size);
                        }

                        public int run(Problem q, int algo, MemorySegment work, long bytes) {
                            return cudnn_h.cudnnConvolutionBackwardFilter(handle, q.one(), q.x, MemorySegment.ofAddress(x), q.y,
                                    MemorySegment.ofAddress(gy), q.conv, algo, work, bytes, q.zero(), q.w, MemorySegment.ofAddress(gw));
                        }

                        public int search(Problem q, int requested, MemorySegment returned, MemorySegment perf) {
                            return cudnn_h.cudnnGetConvolutionBackwardFilterAlgorithm_v7(handle, q.x, q.y, q.conv, q.w, requested, returned, perf);
                        }
                    });
        }
    }

    @Override
    public void close() {
        cudnn_h.cudnnDestroy(handle);
    }

}
