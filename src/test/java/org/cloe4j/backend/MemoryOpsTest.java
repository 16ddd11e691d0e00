package org.cloe4j.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** fromHost / toHost / fill / copy / addInPlace / zeros: the memory basics every other test relies on. */
class MemoryOpsTest {
    private static final Shape SHAPE = Shape.ncdhw(2, 3, 5, 7, 11); // 2310: several vector widths plus a tail

    private static float[] ramp(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (i % 97) * 0.25f - 7.5f;
        return v;
    }

    @Test
    void fromHostThenToHostReturnsTheSameValues() {
        Backend be = GradCheck.backend();
        float[] v = ramp(SHAPE.intSize());
        v[3] = Float.NaN;
        v[4] = Float.NEGATIVE_INFINITY;
        v[5] = -0f;
        assertArrayEquals(v, be.toHost(be.fromHost(SHAPE, v)), "toHost(fromHost(v)) must be v bit for bit");
    }

    @Test
    void fromHostCopiesAndToHostReturnsACopy() {
        Backend be = GradCheck.backend();
        float[] v = ramp(SHAPE.intSize());
        Tensor t = be.fromHost(SHAPE, v);
        v[0] = 1234f;
        float[] out = be.toHost(t);
        assertEquals(-7.5f, out[0], "fromHost must copy: changing the source array changed the tensor");
        out[1] = 999f;
        assertEquals(-7.25f, be.toHost(t)[1], "toHost must copy: changing the returned array changed the tensor");
    }

    @Test
    void fillSetsEveryElement() {
        Backend be = GradCheck.backend();
        Tensor t = be.fromHost(SHAPE, ramp(SHAPE.intSize()));
        be.fill(t, 2.5f);
        float[] v = be.toHost(t);
        for (int i = 0; i < v.length; i++) assertEquals(2.5f, v[i], "fill: element " + GradCheck.index(SHAPE, i));
    }

    @Test
    void zerosIsAllZero() {
        Backend be = GradCheck.backend();
        Tensor dirty = be.fromHost(SHAPE, ramp(SHAPE.intSize()));
        be.release(dirty); // a reused buffer must still come back zeroed
        float[] v = be.toHost(be.zeros(SHAPE));
        for (int i = 0; i < v.length; i++) assertEquals(0f, v[i], "zeros: element " + GradCheck.index(SHAPE, i));
    }

    @Test
    void copyCopiesEveryElement() {
        Backend be = GradCheck.backend();
        float[] v = ramp(SHAPE.intSize());
        Tensor dst = be.zeros(SHAPE);
        be.copy(be.fromHost(SHAPE, v), dst);
        assertArrayEquals(v, be.toHost(dst), "copy");
    }

    @Test
    void addInPlaceAccumulates() {
        Backend be = GradCheck.backend();
        int n = SHAPE.intSize();
        float[] a = ramp(n);
        float[] b = new float[n];
        for (int i = 0; i < n; i++) b[i] = (i % 13) * 0.5f;
        Tensor acc = be.fromHost(SHAPE, a);
        be.addInPlace(acc, be.fromHost(SHAPE, b));
        be.addInPlace(acc, be.fromHost(SHAPE, b));
        float[] got = be.toHost(acc);
        // all values are multiples of 0.25 below 2^20: float sums are exact
        for (int i = 0; i < n; i++) {
            assertEquals(a[i] + 2 * b[i], got[i], "addInPlace: element " + GradCheck.index(SHAPE, i));
        }
    }
}
