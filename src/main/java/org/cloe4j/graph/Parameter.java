package org.cloe4j.graph;

import java.util.Objects;

import org.cloe4j.backend.Backend;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * A named trainable tensor living on one backend, with the gradient accumulated into it by backward passes.
 * Names are the checkpoint's tensor names (e.g. {@code enc.flair.c1.weight}).
 */
public final class Parameter {
    private final String name;
    private final Backend backend;
    private final Tensor value;
    private Tensor grad;

    public Parameter(String name, Backend backend, Shape shape, float[] init) {
        this.name = Objects.requireNonNull(name, "name");
        this.backend = Objects.requireNonNull(backend, "backend");
        this.value = backend.fromHost(shape, init);
    }

    public String name() {
        return name;
    }

    public Shape shape() {
        return value.shape();
    }

    public Backend backend() {
        return backend;
    }

    public Tensor value() {
        return value;
    }

    /** The accumulated gradient, or null when no backward pass has reached this parameter since the last reset. */
    public Tensor grad() {
        return grad;
    }

    /** Adds {@code g} to the gradient (taking a zeroed buffer the first time). */
    synchronized void accumulate(Tensor g) {
        if (grad == null) {
            grad = backend.zeros(value.shape());
        }
        backend.addInPlace(grad, g);
    }

    /** Forgets the gradient (its buffer goes back to the backend). */
    public synchronized void zeroGrad() {
        if (grad != null) {
            backend.release(grad);
            grad = null;
        }
    }

    /** Host copy of the values. */
    public float[] toHost() {
        return backend.toHost(value);
    }

    /** Overwrites the values from the host. */
    public void load(float[] data) {
        if (data.length != value.shape().size()) {
            throw new IllegalArgumentException("parameter " + name + " has shape " + value.shape() + ", got "
                    + data.length + " values");
        }
        Tensor src = backend.fromHost(value.shape(), data);
        backend.copy(src, value);
        backend.release(src);
    }

    @Override
    public String toString() {
        return name + value.shape();
    }
}
