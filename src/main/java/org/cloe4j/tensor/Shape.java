package org.cloe4j.tensor;

import java.util.Arrays;

/**
 * The dimensions of a float32 tensor, outermost first. Volumes use NCDHW (batch, channel, depth, height, width,
 * width fastest); small tensors (gate inputs, scalars) use lower ranks. Immutable.
 */
public final class Shape {
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        if (dims.length == 0 || dims.length > 5) {
            throw new IllegalArgumentException("shape must have rank 1..5, got " + Arrays.toString(dims));
        }
        long s = 1;
        for (int d : dims) {
            if (d <= 0) throw new IllegalArgumentException("shape dimensions must be positive, got " + Arrays.toString(dims));
            s = Math.multiplyExact(s, d);
        }
        this.dims = dims;
        this.size = s;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    /** A rank-5 NCDHW shape. */
    public static Shape ncdhw(int n, int c, int d, int h, int w) {
        return new Shape(new int[]{n, c, d, h, w});
    }

    /** The rank-1 shape of one number. */
    public static Shape scalar() {
        return new Shape(new int[]{1});
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int i) {
        return dims[i < 0 ? dims.length + i : i];
    }

    public int[] dims() {
        return dims.clone();
    }

    /** Number of elements. */
    public long size() {
        return size;
    }

    /** Number of elements, checked to fit a Java array. */
    public int intSize() {
        if (size > Integer.MAX_VALUE - 8) throw new IllegalStateException("tensor of shape " + this + " is too large for one array");
        return (int) size;
    }

    public long bytes() {
        return size * Float.BYTES;
    }

    /** Elements of one channel of one sample of a rank-5 shape: D*H*W. */
    public int spatialSize() {
        requireVolume("spatialSize");
        return dims[2] * dims[3] * dims[4];
    }

    public int n() {
        return dims[0];
    }

    public int c() {
        return dims[1];
    }

    public int d() {
        requireVolume("d");
        return dims[2];
    }

    public int h() {
        requireVolume("h");
        return dims[3];
    }

    public int w() {
        requireVolume("w");
        return dims[4];
    }

    /** This shape with dimension {@code i} replaced. */
    public Shape with(int i, int value) {
        int[] d = dims.clone();
        d[i] = value;
        return new Shape(d);
    }

    private void requireVolume(String what) {
        if (dims.length != 5) throw new IllegalStateException(what + " needs an NCDHW shape, got " + this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    @Override
    public String toString() {
        return Arrays.toString(dims);
    }
}
