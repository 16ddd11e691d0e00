package org.cloe4j.tensor;

/** Where a tensor's elements live: a Java heap array (CPU backend) or device memory (CUDA backend). */
public sealed interface Storage permits HeapStorage, DeviceStorage {
    /** Bytes held by this storage. */
    long bytes();
}
