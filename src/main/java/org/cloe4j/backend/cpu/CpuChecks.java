package org.cloe4j.backend.cpu;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/** Shape checks shared by the CPU ops; each failure names the op and the shapes. */
final class CpuChecks {
    private CpuChecks() {
    }

    static void shape(String op, Tensor t, Shape expected) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(op + ": expected a tensor of shape " + expected + ", got " + t.shape());
        }
    }

    static void sameShape(String op, Tensor a, Tensor b) {
        if (!a.shape().equals(b.shape())) {
            throw new IllegalArgumentException(op + ": shapes differ: " + a.shape() + " vs " + b.shape());
        }
    }

    static void sameSize(String op, Tensor a, Tensor b) {
        if (a.shape().size() != b.shape().size()) {
            throw new IllegalArgumentException(op + ": sizes differ: " + a.shape() + " vs " + b.shape());
        }
    }

    static void volume(String op, Tensor t) {
        if (t.shape().rank() != 5) {
            throw new IllegalArgumentException(op + ": expected an NCDHW tensor of rank 5, got " + t.shape());
        }
    }

    static void bias(String op, Tensor bias, int channels) {
        if (bias != null && !bias.shape().equals(Shape.of(channels))) {
            throw new IllegalArgumentException(op + ": bias must have shape [" + channels + "], got " + bias.shape());
        }
    }

    static void scalar(String op, Tensor t) {
        if (t.shape().size() != 1) {
            throw new IllegalArgumentException(op + ": expected a scalar of shape [1], got " + t.shape());
        }
    }
}
