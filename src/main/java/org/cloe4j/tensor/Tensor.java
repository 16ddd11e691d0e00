package org.cloe4j.tensor;

import java.util.Objects;

/**
 * A dense float32 tensor: a shape plus the storage of its elements, row-major, last dimension fastest. A tensor
 * does not know how to compute; the backend that allocated it does ({@code org.cloe4j.backend.Backend}).
 */
public final class Tensor {
    private final Shape shape;
    private final Storage storage;

    public Tensor(Shape shape, Storage storage) {
        this.shape = Objects.requireNonNull(shape, "shape");
        this.storage = Objects.requireNonNull(storage, "storage");
        if (storage.bytes() < shape.bytes()) {
            throw new IllegalArgumentException("storage of " + storage.bytes() + " bytes is too small for shape " + shape);
        }
    }

    /** A heap tensor over {@code data} (not copied). */
    public static Tensor wrap(Shape shape, float[] data) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("array of " + data.length + " floats does not match shape " + shape
                    + " (" + shape.size() + " elements)");
        }
        return new Tensor(shape, new HeapStorage(data));
    }

    public Shape shape() {
        return shape;
    }

    public Storage storage() {
        return storage;
    }

    public boolean onHeap() {
        return storage instanceof HeapStorage;
    }

    /** The heap array of a CPU tensor; fails for a device tensor (copy it to the host through its backend). */
    public float[] data() {
        if (storage instanceof HeapStorage(float[] data)) return data;
        throw new IllegalStateException("tensor " + shape + " lives in device memory; use Backend.toHost");
    }

    /** The device address of a CUDA tensor. */
    public long devicePointer() {
        if (storage instanceof DeviceStorage ds) return ds.pointer();
        throw new IllegalStateException("tensor " + shape + " lives on the Java heap, not on a device");
    }

    /** The same storage seen with another shape of the same size. */
    public Tensor reshape(Shape other) {
        if (other.size() != shape.size()) {
            throw new IllegalArgumentException("cannot reshape " + shape + " to " + other + ": sizes differ");
        }
        return new Tensor(other, storage);
    }

    @Override
    public String toString() {
        return "Tensor" + shape + (onHeap() ? "" : "@device");
    }
}
