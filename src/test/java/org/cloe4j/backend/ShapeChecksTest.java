package org.cloe4j.backend;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The one shape-check helper both backends use: what passes, and the words of each failure. */
class ShapeChecksTest {
    private static Tensor t(int... dims) {
        return Tensor.wrap(Shape.of(dims), new float[Shape.of(dims).intSize()]);
    }

    @Test
    void eachFailureNamesTheOpAndTheShapes() {
        assertDoesNotThrow(() -> ShapeChecks.shape("op", "gb", null, Shape.of(3)), "an optional tensor that is absent");
        assertEquals("conv3d: bias has shape [2], expected [3]", assertThrows(IllegalArgumentException.class,
                () -> ShapeChecks.shape("conv3d", "bias", t(2), Shape.of(3))).getMessage());
        assertEquals("add: shapes differ: [2, 3] vs [3, 2]", assertThrows(IllegalArgumentException.class,
                () -> ShapeChecks.sameShape("add", t(2, 3), t(3, 2))).getMessage());
        assertEquals("upsample2x: expected an NCDHW tensor of rank 5, got [2, 3]", assertThrows(IllegalArgumentException.class,
                () -> ShapeChecks.volume("upsample2x", t(2, 3))).getMessage());
        assertDoesNotThrow(() -> ShapeChecks.volume("upsample2x", t(1, 1, 1, 1, 1)));
        assertDoesNotThrow(() -> ShapeChecks.sameShape("add", t(2, 3), t(2, 3)));
    }
}
