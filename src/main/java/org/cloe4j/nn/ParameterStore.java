package org.cloe4j.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.cloe4j.backend.Backend;
import org.cloe4j.graph.Parameter;
import org.cloe4j.tensor.Shape;

/**
 * The parameters of a model on one backend, by name, in creation order (the order checkpoints list them in).
 * Initialisation draws from one seeded generator, so the same seed builds the same model.
 */
public final class ParameterStore {
    private final Backend backend;
    private final SplittableRandom random;
    private final Map<String, Parameter> params = new LinkedHashMap<>();

    public ParameterStore(Backend backend, long seed) {
        this.backend = backend;
        this.random = new SplittableRandom(seed);
    }

    public Backend backend() {
        return backend;
    }

    /** Kaiming-normal weights (fan-in, gain for LeakyReLU of {@code slope}), as PyTorch's kaiming_normal_. */
    public Parameter kaiming(String name, Shape shape, int fanIn, float slope) {
        double std = Math.sqrt(2.0 / (1 + slope * slope)) / Math.sqrt(fanIn);
        float[] v = new float[shape.intSize()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (nextGaussian() * std);
        return add(name, shape, v);
    }

    /** Uniform in [-bound, bound] (PyTorch's default for biases is 1/sqrt(fan_in)). */
    public Parameter uniform(String name, Shape shape, double bound) {
        float[] v = new float[shape.intSize()];
        for (int i = 0; i < v.length; i++) v[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
        return add(name, shape, v);
    }

    public Parameter constant(String name, Shape shape, float value) {
        float[] v = new float[shape.intSize()];
        java.util.Arrays.fill(v, value);
        return add(name, shape, v);
    }

    private Parameter add(String name, Shape shape, float[] init) {
        if (params.containsKey(name)) throw new IllegalArgumentException("parameter '" + name + "' defined twice");
        Parameter p = new Parameter(name, backend, shape, init);
        params.put(name, p);
        return p;
    }

    private double nextGaussian() {
        // Box–Muller on the store's own generator (reproducible across JDKs)
        double u1 = 1.0 - random.nextDouble();
        double u2 = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    public Map<String, Parameter> all() {
        return Collections.unmodifiableMap(params);
    }

    public Parameter get(String name) {
        Parameter p = params.get(name);
        if (p == null) throw new IllegalArgumentException("no parameter named '" + name + "'");
        return p;
    }

    /** Total number of scalar parameters. */
    public long count() {
        return params.values().stream().mapToLong(p -> p.shape().size()).sum();
    }

    public void zeroGrad() {
        params.values().forEach(Parameter::zeroGrad);
    }

    /** Returns every parameter's buffers to the backend (device memory on a GPU); the store is unusable after. */
    public void release() {
        for (Parameter p : params.values()) {
            p.zeroGrad();
            backend.release(p.value());
        }
        params.clear();
    }
}
