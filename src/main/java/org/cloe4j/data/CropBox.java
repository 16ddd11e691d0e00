package org.cloe4j.data;

/**
 * A box of voxels inside a volume, in file axes: it starts at ({@code x0, y0, z0}) and spans {@code nx × ny × nz}.
 * In tensor terms the box is D = nz, H = ny, W = nx starting at (z0, y0, x0).
 */
public record CropBox(int x0, int y0, int z0, int nx, int ny, int nz) {

    public CropBox {
        if (nx <= 0 || ny <= 0 || nz <= 0) throw new IllegalArgumentException("empty crop box " + nx + "×" + ny + "×" + nz);
    }

    /** Voxels in the box. */
    public int voxels() {
        return nx * ny * nz;
    }
}
