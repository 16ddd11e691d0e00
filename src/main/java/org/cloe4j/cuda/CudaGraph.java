package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A CUDA graph captured from the work queued on a stream, instantiated once and replayed with one launch: a whole
 * forward or backward pass of fixed shapes costs one cuGraphLaunch instead of hundreds of kernel launches.
 *
 * <p>What may be captured: launches and device-to-device copies on the captured stream. Host copies
 * ({@code fromHost}, {@code toHost}), synchronisation and new device allocations are not allowed while capturing
 * (run the work once before capturing so the caching allocator already holds every block it needs). The legacy
 * NULL stream (the JCuda launch path) cannot be captured.
 */
public final class CudaGraph implements AutoCloseable {
    private final CudaDevice device;
    private final MemorySegment graph;
    private final MemorySegment exec;

    private CudaGraph(CudaDevice device, MemorySegment graph, MemorySegment exec) {
        this.device = device;
        this.graph = graph;
        this.exec = exec;
    }

    /** Captures what {@code work} queues on {@code stream} (in thread-local capture mode) and instantiates it. */
    public static CudaGraph capture(CudaStream stream, Runnable work) {
        if (stream.handle().equals(MemorySegment.NULL)) {
            throw new IllegalStateException("cannot capture the legacy NULL stream (the JCuda launch path uses it)");
        }
        CudaDevice device = stream.device();
        device.makeCurrent();
        CudaException.check(cuda_h.cuStreamBeginCapture_v2(stream.handle(), cuda_h.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL()),
                "cuStreamBeginCapture_v2");
        try (Arena a = Arena.ofConfined()) {
            MemorySegment g = a.allocate(ValueLayout.ADDRESS);
            Throwable failure = null;
            try {
                work.run();
            } catch (Throwable t) {
                failure = t;
            }
            int rc = cuda_h.cuStreamEndCapture(stream.handle(), g);
            MemorySegment graph = g.get(ValueLayout.ADDRESS, 0);
            if (failure != null) {
                if (rc == 0 && !graph.equals(MemorySegment.NULL)) cuda_h.cuGraphDestroy(graph);
                if (failure instanceof RuntimeException re) throw re;
                if (failure instanceof Error er) throw er;
                throw new IllegalStateException(failure);
            }
            CudaException.check(rc, "cuStreamEndCapture");
            MemorySegment e = a.allocate(ValueLayout.ADDRESS);
            int ri = cuda_h.cuGraphInstantiateWithFlags(e, graph, 0L);
            if (ri != 0) {
                cuda_h.cuGraphDestroy(graph);
                throw CudaException.of(ri, "cuGraphInstantiateWithFlags");
            }
            return new CudaGraph(device, graph, e.get(ValueLayout.ADDRESS, 0));
        }
    }

    /** Queues one replay of the graph on {@code stream}. */
    public void launch(CudaStream stream) {
        device.makeCurrent();
        CudaException.check(cuda_h.cuGraphLaunch(exec, stream.handle()), "cuGraphLaunch");
    }

    @Override
    public void close() {
        device.makeCurrent();
        cuda_h.cuGraphExecDestroy(exec);
        cuda_h.cuGraphDestroy(graph);
    }
}
