package org.cloe4j.data;

/**
 * A training patch: {@code channels × depth × height × width} image values (width fastest) and per-voxel classes.
 *
 * @param image    normalised, augmented voxels
 * @param labels   classes per voxel, or null when the case has no labels
 * @param channels C
 * @param depth    D
 * @param height   H
 * @param width    W
 */
public record Patch(float[] image, byte[] labels, int channels, int depth, int height, int width) {

    public Patch {
        int n = depth * height * width;
        if (image.length != channels * n) throw new IllegalArgumentException("image size does not match the shape");
        if (labels != null && labels.length != n) throw new IllegalArgumentException("label size does not match the shape");
    }

    /** Voxels per channel. */
    public int voxels() {
        return depth * height * width;
    }
}
