package org.cloe4j.train;

import java.util.LinkedHashMap;
import java.util.Map;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.graph.Parameter;
import org.cloe4j.tensor.Tensor;

/**
 * Adam over a set of parameters with PyTorch's semantics (see {@link AdamConfig}). Its state (step count and the
 * moments of every parameter) can be read and restored for checkpoints.
 */
public final class Adam implements AutoCloseable {
    private final AdamConfig cfg;
    private final Map<Parameter, Tensor[]> state = new LinkedHashMap<>();
    private int step;

    public Adam(Iterable<Parameter> params, AdamConfig cfg) {
        this.cfg = cfg;
        for (Parameter p : params) {
            Backend be = p.backend();
            state.put(p, new Tensor[]{be.zeros(p.shape()), be.zeros(p.shape()), be.zeros(p.shape())});
        }
    }

    /** Applies one update with learning rate {@code lr} to every parameter that has a gradient. */
    public void step(float lr) {
        step++;
        for (Map.Entry<Parameter, Tensor[]> e : state.entrySet()) {
            Parameter p = e.getKey();
            if (p.grad() == null) continue;
            Tensor[] s = e.getValue();
            p.backend().adamStep(p.value(), p.grad(), s[0], s[1], s[2], lr, step, cfg);
        }
    }

    public int stepCount() {
        return step;
    }

    public AdamConfig config() {
        return cfg;
    }

    /** The moments of a parameter: m, v, vmax (host copies). */
    public float[][] moments(Parameter p) {
        Tensor[] s = state.get(p);
        if (s == null) throw new IllegalArgumentException("parameter " + p.name() + " is not optimised here");
        Backend be = p.backend();
        return new float[][]{be.toHost(s[0]), be.toHost(s[1]), be.toHost(s[2])};
    }

    /** Restores the step count and the moments of every parameter (from a checkpoint). */
    public void restore(int stepCount, Map<Parameter, float[][]> moments) {
        for (Map.Entry<Parameter, float[][]> e : moments.entrySet()) {
            Tensor[] s = state.get(e.getKey());
            if (s == null) throw new IllegalArgumentException("parameter " + e.getKey().name() + " is not optimised here");
            Backend be = e.getKey().backend();
            for (int i = 0; i < 3; i++) {
                Tensor src = be.fromHost(s[i].shape(), e.getValue()[i]);
                be.copy(src, s[i]);
                be.release(src);
            }
        }
        this.step = stepCount;
    }

    @Override
    public void close() {
        for (Map.Entry<Parameter, Tensor[]> e : state.entrySet()) {
            for (Tensor t : e.getValue()) e.getKey().backend().release(t);
        }
        state.clear();
    }
}
