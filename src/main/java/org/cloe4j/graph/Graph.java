package org.cloe4j.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.cloe4j.backend.Backend;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * A built graph: the ops that the requested outputs (and loss) need, in order, and a memory plan that says after
 * which step each buffer is dead. A forward step runs one op; in a training graph a backward step then runs each
 * differentiable op's gradient rule in reverse order. Immutable and safe to run from many threads at once; each
 * {@link Run} owns its buffers.
 */
public final class Graph {
    private final Value.Node[] forward;
    private final Value.Node[] backward;
    private final Value[] values;
    private final Value loss;
    private final List<Value> outputs;
    private final Map<String, Value> inputs;
    private final boolean[] requiresGrad;
    /** Value ids whose buffers die after step s (forward steps first, then backward steps). */
    private final int[][] freeAfter;
    /** For each node index: the step after which its aux buffers die. */
    private final int[] auxFreeAfter;
    /** For each node index: its position in the backward order, or -1. */
    private final int[] backwardPos;
    private final long plannedPeakBytes;
    /** Constants the kept ops read (uploaded by each run). */
    private final Value[] constants;

    Graph(GraphBuilder b, Value loss, List<Value> outputs) {
        this.values = b.values.toArray(new Value[0]);
        this.loss = loss;
        this.outputs = List.copyOf(outputs);
        int nv = values.length;

        // 1. which nodes the outputs and the loss need
        boolean[] needed = new boolean[nv];
        for (Value o : outputs) needed[o.id] = true;
        if (loss != null) needed[loss.id] = true;
        List<Value.Node> fwd = new ArrayList<>();
        for (int i = b.nodes.size() - 1; i >= 0; i--) {
            Value.Node n = b.nodes.get(i);
            if (!needed[outputOf(n).id]) continue;
            fwd.add(0, n);
            for (Value in : n.inputs()) needed[in.id] = true;
        }
        this.forward = fwd.toArray(new Value.Node[0]);
        List<Value> consts = new ArrayList<>();
        for (Value v : values) if (v.kind == Value.Kind.CONSTANT && needed[v.id]) consts.add(v);
        this.constants = consts.toArray(new Value[0]);
        this.inputs = new java.util.HashMap<>();
        for (Value v : values) if (v.kind == Value.Kind.INPUT && needed[v.id]) inputs.put(v.name, v);

        // 2. which values carry gradients to parameters, and which ops lie between them and the loss
        requiresGrad = new boolean[nv];
        for (Value v : values) if (v.kind == Value.Kind.PARAMETER) requiresGrad[v.id] = true;
        for (Value.Node n : forward) {
            Value[] in = n.inputs();
            for (int i = 0; i < in.length; i++) {
                if (requiresGrad[in[i].id] && n.op().differentiable(i)) requiresGrad[outputOf(n).id] = true;
            }
        }
        List<Value.Node> bwd = new ArrayList<>();
        if (loss != null) {
            boolean[] reaches = new boolean[nv];
            reaches[loss.id] = true;
            for (int i = forward.length - 1; i >= 0; i--) {
                Value.Node n = forward[i];
                Value out = outputOf(n);
                if (!reaches[out.id] || !requiresGrad[out.id]) continue;
                bwd.add(n);
                Value[] in = n.inputs();
                for (int k = 0; k < in.length; k++) if (n.op().differentiable(k)) reaches[in[k].id] = true;
            }
        }
        this.backward = bwd.toArray(new Value.Node[0]);
        backwardPos = new int[b.nodes.size()];
        Arrays.fill(backwardPos, -1);
        for (int j = 0; j < backward.length; j++) backwardPos[backward[j].index()] = j;

        // 3. liveness: the last step that reads each op output; outputs and the loss live until the run closes
        int f = forward.length;
        int[] last = new int[nv];
        Arrays.fill(last, -1);
        auxFreeAfter = new int[b.nodes.size()];
        for (int s = 0; s < f; s++) {
            Value.Node n = forward[s];
            last[outputOf(n).id] = Math.max(last[outputOf(n).id], s);
            for (Value in : n.inputs()) last[in.id] = Math.max(last[in.id], s);
            auxFreeAfter[n.index()] = s;
        }
        for (int j = 0; j < backward.length; j++) {
            Value.Node n = backward[j];
            int step = f + j;
            if (n.op().savesInputs()) for (Value in : n.inputs()) last[in.id] = Math.max(last[in.id], step);
            if (n.op().savesOutput()) last[outputOf(n).id] = Math.max(last[outputOf(n).id], step);
            auxFreeAfter[n.index()] = step;
        }
        List<List<Integer>> frees = new ArrayList<>();
        for (int s = 0; s < f + backward.length; s++) frees.add(new ArrayList<>());
        for (Value v : values) {
            boolean kept = v.kind != Value.Kind.OP || outputs.contains(v) || v == loss || last[v.id] < 0;
            if (!kept) frees.get(last[v.id]).add(v.id);
        }
        freeAfter = new int[frees.size()][];
        for (int s = 0; s < freeAfter.length; s++) freeAfter[s] = frees.get(s).stream().mapToInt(Integer::intValue).toArray();
        plannedPeakBytes = simulatePeak();
    }

    private static Value outputOf(Value.Node n) {
        return n.output();
    }

    /** Walks the plan as {@link Run} does, counting the bytes of op outputs, aux buffers and gradients alive. */
    private long simulatePeak() {
        long live = 0;
        long peak = 0;
        long[] grad = new long[values.length];
        for (int s = 0; s < forward.length; s++) {
            Value.Node n = forward[s];
            live += outputOf(n).shape.bytes() + auxBytes(n);
            peak = Math.max(peak, live);
            for (int id : freeAfter[s]) live -= values[id].shape.bytes();
            if (backwardPos[n.index()] < 0) live -= auxBytes(n);
        }
        if (loss != null && backward.length > 0) {
            grad[loss.id] = loss.shape.bytes();
            live += grad[loss.id];
        }
        for (int j = 0; j < backward.length; j++) {
            Value.Node n = backward[j];
            Value[] in = n.inputs();
            for (int i = 0; i < in.length; i++) {
                if (!needsGrad(n, i)) continue;
                long bytes = in[i].shape.bytes();
                live += bytes;
                peak = Math.max(peak, live);
                if (in[i].kind == Value.Kind.OP && grad[in[i].id] == 0) grad[in[i].id] = bytes;
                else live -= bytes;
            }
            Value out = outputOf(n);
            live -= grad[out.id];
            grad[out.id] = 0;
            for (int id : freeAfter[forward.length + j]) live -= values[id].shape.bytes();
            live -= auxBytes(n);
        }
        return peak;
    }

    private static long auxBytes(Value.Node n) {
        long s = 0;
        for (Shape a : n.op().auxShapes(shapesOf(n.inputs()))) s += a.bytes();
        return s;
    }

    private static Shape[] shapesOf(Value[] vs) {
        Shape[] s = new Shape[vs.length];
        for (int i = 0; i < vs.length; i++) s[i] = vs[i].shape;
        return s;
    }

    private boolean needsGrad(Value.Node n, int i) {
        return requiresGrad[n.inputs()[i].id] && n.op().differentiable(i);
    }

    /** Peak bytes of activations, statistics and gradients this graph's plan holds at once (inputs and parameters excluded). */
    public long plannedPeakBytes() {
        return plannedPeakBytes;
    }

    /** Number of ops run forward. */
    public int forwardOps() {
        return forward.length;
    }

    /** Number of gradient rules run backward (0 for an inference graph). */
    public int backwardOps() {
        return backward.length;
    }

    /** Names and shapes of the inputs a run must bind. */
    public Map<String, Shape> inputShapes() {
        Map<String, Shape> m = new java.util.TreeMap<>();
        inputs.forEach((k, v) -> m.put(k, v.shape));
        return m;
    }

    /** Runs the forward pass on {@code be} with the named inputs (tensors of that backend, not taken over). */
    public Run run(Backend be, Map<String, Tensor> bound) {
        return run(be, bound, Map.of());
    }

    /**
     * The graph's constants (masks, fixed vectors) uploaded to {@code be}, keyed by their values: pass them to
     * {@link #run(Backend, Map, Map)} so that a run makes no host-to-device copy (a captured CUDA graph may not).
     * The caller owns and releases them.
     */
    public Map<Value, Tensor> uploadConstants(Backend be) {
        Map<Value, Tensor> m = new java.util.LinkedHashMap<>();
        for (Value v : constants) m.put(v, be.fromHost(v.shape, v.constant));
        return m;
    }

    /** As {@link #run(Backend, Map)}, taking the constants found in {@code uploaded} from there instead of uploading them. */
    public Run run(Backend be, Map<String, Tensor> bound, Map<Value, Tensor> uploaded) {
        Run r = new Run(be, uploaded);
        try {
            r.forward(bound);
        } catch (RuntimeException e) {
            r.close();
            throw e;
        }
        return r;
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** One execution: the buffers of one forward (and backward) pass. Close it to return them to the backend. */
    public final class Run implements AutoCloseable {
        private final Backend be;
        private final Tensor[] vals = new Tensor[values.length];
        private final boolean[] owned = new boolean[values.length];
        private final Tensor[][] aux = new Tensor[forward.length == 0 ? 0 : maxNodeIndex() + 1][];
        private final Tensor[] grads = new Tensor[values.length];
        private boolean backwardDone;
        private boolean closed;

        private final Map<Value, Tensor> uploaded;

        private Run(Backend be, Map<Value, Tensor> uploaded) {
            this.be = be;
            this.uploaded = uploaded;
        }

        private void forward(Map<String, Tensor> bound) {
            for (Value v : inputs.values()) {
                Tensor t = bound.get(v.name);
                if (t == null) throw new IllegalArgumentException("graph input '" + v.name + "' " + v.shape + " not given");
                if (!t.shape().equals(v.shape)) {
                    throw new IllegalArgumentException("graph input '" + v.name + "' must have shape " + v.shape + ", got " + t.shape());
                }
                vals[v.id] = t;
            }
            for (Value v : values) if (v.kind == Value.Kind.PARAMETER) vals[v.id] = v.parameter.value();
            for (Value v : constants) {
                Tensor c = uploaded.get(v);
                vals[v.id] = c != null ? c : be.fromHost(v.shape, v.constant);
                owned[v.id] = c == null;
            }
            for (int s = 0; s < forward.length; s++) {
                Value.Node n = forward[s];
                Value out = outputOf(n);
                Tensor[] in = gather(n.inputs());
                Shape[] auxShapes = n.op().auxShapes(shapesOf(n.inputs()));
                Tensor[] a = new Tensor[auxShapes.length];
                for (int i = 0; i < a.length; i++) a[i] = be.allocate(auxShapes[i]);
                aux[n.index()] = a;
                Tensor o = be.allocate(out.shape);
                vals[out.id] = o;
                owned[out.id] = true;
                if (OpProfile.ENABLED) {
                    be.synchronize();
                    long t0 = OpProfile.now();
                    n.op().forward(be, in, a, o);
                    be.synchronize();
                    OpProfile.add(profileName(n), false, OpProfile.now() - t0);
                } else {
                    n.op().forward(be, in, a, o);
                }
                free(s);
                if (backwardPos[n.index()] < 0) releaseAux(n);
            }
        }

        /** Differentiates the loss: every parameter's gradient accumulates (see {@link Parameter#grad()}). */
        public void backward() {
            if (loss == null) throw new IllegalStateException("this graph was built for inference; use buildTraining");
            if (backwardDone) throw new IllegalStateException("backward already ran for this run");
            if (closed) throw new IllegalStateException("run is closed");
            backwardDone = true;
            Tensor seed = be.allocate(loss.shape);
            be.fill(seed, 1f);
            grads[loss.id] = seed;
            for (int j = 0; j < backward.length; j++) {
                Value.Node n = backward[j];
                Value out = outputOf(n);
                Tensor g = grads[out.id];
                Value[] inV = n.inputs();
                if (g != null) {
                    Tensor[] gIn = new Tensor[inV.length];
                    for (int i = 0; i < inV.length; i++) if (needsGrad(n, i)) gIn[i] = be.allocate(inV[i].shape);
                    Tensor[] in = n.op().savesInputs() ? gather(inV) : new Tensor[inV.length];
                    Tensor o = n.op().savesOutput() ? vals[out.id] : null;
                    if (OpProfile.ENABLED) {
                        be.synchronize();
                        long t0 = OpProfile.now();
                        n.op().backward(be, in, aux[n.index()], o, g, gIn);
                        be.synchronize();
                        OpProfile.add(profileName(n), true, OpProfile.now() - t0);
                    } else {
                        n.op().backward(be, in, aux[n.index()], o, g, gIn);
                    }
                    for (int i = 0; i < inV.length; i++) if (gIn[i] != null) accumulate(inV[i], gIn[i]);
                    be.release(g);
                    grads[out.id] = null;
                }
                free(forward.length + j);
                releaseAux(n);
            }
        }

        private void accumulate(Value v, Tensor g) {
            if (v.kind == Value.Kind.PARAMETER) {
                v.parameter.accumulate(g);
                be.release(g);
            } else if (grads[v.id] == null) {
                grads[v.id] = g;
            } else {
                be.addInPlace(grads[v.id], g);
                be.release(g);
            }
        }

        private Tensor[] gather(Value[] vs) {
            Tensor[] t = new Tensor[vs.length];
            for (int i = 0; i < vs.length; i++) {
                t[i] = vals[vs[i].id];
                if (t[i] == null) throw new IllegalStateException("graph plan error: " + vs[i] + " read after release");
            }
            return t;
        }

        private void free(int step) {
            for (int id : freeAfter[step]) {
                if (owned[id] && vals[id] != null) {
                    be.release(vals[id]);
                    vals[id] = null;
                }
            }
        }

        private void releaseAux(Value.Node n) {
            Tensor[] a = aux[n.index()];
            if (a == null) return;
            for (Tensor t : a) be.release(t);
            aux[n.index()] = null;
        }

        /** The tensor of an output (or the loss); owned by this run until it closes. */
        public Tensor get(Value v) {
            if (!outputs.contains(v) && v != loss) throw new IllegalArgumentException(v + " is not an output of this graph");
            return vals[v.id];
        }

        /** A scalar output's value. */
        public float scalar(Value v) {
            Tensor t = get(v);
            if (t.shape().size() != 1) throw new IllegalArgumentException(v + " is not a scalar");
            return be.toHost(t)[0];
        }

        public Backend backend() {
            return be;
        }

        @Override
        public void close() {
            if (closed) return;
            closed = true;
            for (int i = 0; i < vals.length; i++) {
                if (owned[i] && vals[i] != null) be.release(vals[i]);
                vals[i] = null;
            }
            for (Tensor[] a : aux) if (a != null) for (Tensor t : a) be.release(t);
            for (int i = 0; i < grads.length; i++) if (grads[i] != null) be.release(grads[i]);
        }
    }

    /** Convs are told apart by geometry and channels, since they dominate a step. */
    private static String profileName(Value.Node n) {
        if (n.op() instanceof Ops.Conv3d c) {
            Shape w = n.inputs()[1].shape;
            Shape x = n.inputs()[0].shape;
            return "conv" + c.spec().k() + (c.spec().stride() == 2 ? "s2 " : " ") + w.dim(1) + "->" + w.dim(0) + " @" + x.d();
        }
        return n.op().name();
    }

    private int maxNodeIndex() {
        int m = 0;
        for (Value.Node n : forward) m = Math.max(m, n.index());
        return m;
    }
}
