package org.cloe4j.tensor;

/** Elements in a float array on the Java heap, used by the CPU backend (the Vector API reads arrays fastest). */
public record HeapStorage(float[] data) implements Storage {
    @Override
    public long bytes() {
        return (long) data.length * Float.BYTES;
    }
}
