package org.cloe4j.infer;

import org.cloe4j.cuda.CudaBackend;
import org.cloe4j.cuda.CudaGraph;
import org.cloe4j.graph.Graph;
import org.cloe4j.graph.Value;
import org.cloe4j.model.CloeModel;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The latency path for services: one inference graph (one window shape, one modality mask) captured once as a CUDA
 * graph and replayed — one {@code cuGraphLaunch} instead of hundreds of kernel launches and allocator calls.
 *
 * <p><b>Why the buffers stay valid.</b> A captured graph stores raw device addresses: every buffer the run touched
 * must hold the same role at every replay. This class therefore runs the graph on a <em>dedicated</em>
 * {@link CudaBackend} (its own stream, its own caching allocator — a private arena) that nothing else allocates from:
 * <ol>
 *   <li>fixed input buffers are allocated once and the graph's constants are uploaded once (a captured run may not
 *   copy from the host);</li>
 *   <li>a warm-up run fills the arena's cache with every block the run needs and returns them; the captured run
 *   makes the same allocation calls in the same order, so every call is a cache hit (no cuMemAlloc while
 *   capturing). The host checks that read values back (an all-zero gate mask) are switched off
 *   ({@link org.cloe4j.cuda.CudaOptions#hostChecks()}) for both runs; the uncaptured runs keep the owner's
 *   options, on the same stream and arena;</li>
 *   <li>the captured {@link Graph.Run} is kept open for the life of this object, so the prediction buffer and all
 *   live buffers stay allocated; the intermediate buffers it freed went back to the private arena's cache, where only
 *   this object's own uncaptured runs ({@link #predictUncaptured}) can take them. That is safe: everything runs on
 *   the one stream of this backend, in order, and every intermediate of a replay is written before it is read.
 *   Replays follow the captured order, so reuse inside the run is as safe as it was.</li>
 * </ol>
 * The model's parameters live on the model's backend; device pointers are valid in every backend of the same device
 * (one primary context). They are read, not copied, on every replay: a training step that updates them in place is
 * seen by the next replay (synchronise the model's backend first).
 *
 * <p>Not thread-safe: one replay at a time.
 */
public final class CapturedInference implements AutoCloseable {
    private final CudaBackend be;
    /** The same stream and arena with the owner's options (host checks as the owner has them): the uncaptured runs. */
    private final CudaBackend uncaptured;
    private final Graph graph;
    private final Map<String, Tensor> inputs = new LinkedHashMap<>();
    private final Map<Value, Tensor> constants;
    private final Graph.Run run;
    private final CudaGraph captured;
    private final Tensor output;
    private final Value prediction;

    /**
     * Captures {@code built} (an inference graph of a model whose parameters live on {@code owner}, a CUDA backend)
     * on a fresh dedicated backend of the same device.
     */
    public CapturedInference(CloeModel.Built built, CudaBackend owner) {
        if (built.loss() != null) throw new IllegalArgumentException("capture an inference graph, not a training graph");
        owner.synchronize();
        this.graph = built.graph();
        this.be = new CudaBackend(owner.device().ordinal(), owner.options().withHostChecks(false));
        if (!be.isAvailable()) throw new IllegalStateException("CUDA backend unavailable: " + be.unavailableReason());
        if (!"panama".equals(be.launcherName())) {
            be.close();
            throw new IllegalStateException("CUDA graph capture needs the Panama launch path (JCuda uses the legacy NULL stream)");
        }
        this.uncaptured = be.withOptions(owner.options());
        Graph.Run r = null;
        CudaGraph cg = null;
        try {
            for (Map.Entry<String, Shape> e : graph.inputShapes().entrySet()) {
                Tensor t = be.allocate(e.getValue());
                be.fill(t, 0f);
                inputs.put(e.getKey(), t);
            }
            constants = graph.uploadConstants(be);
            be.synchronize();
            try (Graph.Run warm = graph.run(be, inputs, constants)) {
                be.synchronize();
            }
            long before = be.allocator().deviceAllocations();
            Graph.Run[] holder = new Graph.Run[1];
            cg = CudaGraph.capture(be.stream(), () -> holder[0] = graph.run(be, inputs, constants));
            r = holder[0];
            if (be.allocator().deviceAllocations() != before) {
                throw new IllegalStateException("the captured run allocated device memory (the warm-up did not cover it)");
            }
        } catch (RuntimeException e) {
            if (r != null) r.close();
            if (cg != null) cg.close();
            be.close();
            throw e;
        }
        this.run = r;
        this.captured = cg;
        this.prediction = built.prediction();
        this.output = run.get(prediction);
    }

    /** The input names (graph inputs) and shapes this capture takes. */
    public Map<String, Shape> inputShapes() {
        return graph.inputShapes();
    }

    /** The fixed device buffer of an input: write into it (e.g. with a device-to-device copy) before {@link #replay}. */
    public Tensor input(String name) {
        Tensor t = inputs.get(name);
        if (t == null) throw new IllegalArgumentException("no graph input '" + name + "'; inputs: " + inputs.keySet());
        return t;
    }

    /** The prediction buffer the replays write (owned by this object; valid until it closes). */
    public Tensor output() {
        return output;
    }

    /** The dedicated backend the capture runs on (its stream, its allocator). */
    public CudaBackend backend() {
        return be;
    }

    /** Copies host images into the fixed input buffers (queued on the capture's stream). */
    public void setInputs(Map<String, float[]> images) {
        for (Map.Entry<String, float[]> e : images.entrySet()) {
            Tensor dst = input(e.getKey());
            Tensor src = be.fromHost(dst.shape(), e.getValue());
            be.copy(src, dst);
            be.release(src);
        }
    }

    /** Queues one replay on the capture's stream (returns at once; {@link #synchronize} or read the output to wait). */
    public void replay() {
        captured.launch(be.stream());
    }

    public void synchronize() {
        be.synchronize();
    }

    /** Sets the inputs, replays, and returns the prediction on the host. */
    public float[] predict(Map<String, float[]> images) {
        setInputs(images);
        replay();
        return be.toHost(output);
    }

    /**
     * Runs the same graph uncaptured on this backend and the same input buffers, returning the prediction on the
     * host: the baseline the benchmark compares replays with, and the reference the tests hold replays against.
     */
    public float[] predictUncaptured() {
        try (Graph.Run r = graph.run(uncaptured, inputs, constants)) {
            return uncaptured.toHost(r.get(prediction));
        }
    }

    /** One uncaptured run, queued only (no read-back); for timing with events. */
    public void runUncaptured() {
        graph.run(uncaptured, inputs, constants).close();
    }

    @Override
    public void close() {
        be.synchronize();
        captured.close();
        run.close();
        for (Tensor t : constants.values()) be.release(t);
        for (Tensor t : inputs.values()) be.release(t);
        be.close();
    }
}
