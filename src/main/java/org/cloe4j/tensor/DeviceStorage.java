package org.cloe4j.tensor;

/**
 * Elements in device memory: {@code pointer} is the device address (a CUdeviceptr), {@code bytes} the allocation's
 * size, {@code device} the ordinal of the GPU that owns it.
 */
public record DeviceStorage(long pointer, long bytes, int device) implements Storage {
}
