package org.cloe4j.backend;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * The shape checks of every backend's ops (CPU and CUDA): each failure is an {@link IllegalArgumentException} naming
 * the op and the shapes, the same words on every backend.
 */
public final class ShapeChecks {
    private ShapeChecks() {
    }

    /** {@code t} (named {@code what}; null passes: an optional tensor) must have shape {@code expected}. */
    public static void shape(String op, String what, Tensor t, Shape expected) {
        if (t != null && !t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": " + what + " has shape " + t.shape() + ", expected " + expected);
        }
    }

    public static void shape(String op, Tensor t, Shape expected) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": expected a tensor of shape " + expected + ", got " + t.shape());
        }
    }

    public static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": shapes differ: " + a.shape() + " vs " + b.shape());
        }
    }

    public static void sameSize(String op, Tensor a, Tensor b) {
        if (a.shape().size() != b.shape().size()) {
            throw new IllegalArgumentException(op + ": sizes differ: " + a.shape() + " vs " + b.shape());
        }
    }

    public static void volume(String op, Tensor t) {
        if (t.shape().rank() != 5) {
            throw new IllegalArgumentException(op + ": expected an NCDHW tensor of rank 5, got " + t.shape());
        }
    }

    public static void bias(String op, Tensor bias, int channels) {
        if (bias != null && !bias.shape().equals(Shape.of(channels))) {
            throw new IllegalArgumentException(op + ": bias must have shape [" + channels + "], got " + bias.shape());
        }
    }

    public static void scalar(String op, Tensor t) {
        if (t.shape().size() != 1) {
            throw new IllegalArgumentException(op + ": expected a scalar of shape [1], got " + t.shape());
        }
    }
}
