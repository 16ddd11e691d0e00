package org.cloe4j.data;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Voxel values of one NIfTI image as floats in file order (x fastest, then y, then z, then volume), so that for a 3D
 * image the array is already in D, H, W order with D = nz, H = ny, W = nx. The header carries the geometry to write
 * back; {@code source} is the file it was read from (null for volumes built in memory) and names it in errors.
 *
 * @param header geometry and dimensions; its dims match {@code data.length}
 * @param data   voxel values after intensity scaling, {@code volumes × nz × ny × nx}
 * @param source file the volume came from, or null
 */
public record Volume(NiftiHeader header, float[] data, Path source) {

    public Volume {
        long expected = header.voxelsPerVolume() * header.volumes();
        if (data.length != expected) {
            throw new IllegalArgumentException("volume data has " + data.length + " values, header dims promise " + expected);
        }
    }

    /** A 3D volume in memory with the given geometry (dims of {@code header} are replaced by nx, ny, nz). */
    public static Volume of(NiftiHeader header, int nx, int ny, int nz, float[] data) {
        return new Volume(header.withDims(nx, ny, nz, 1), data, null);
    }

    public int nx() { return header.nx(); }
    public int ny() { return header.ny(); }
    public int nz() { return header.nz(); }

    /** Number of 3D volumes (4th dimension), 1 for a 3D image. */
    public int volumes() { return (int) header.volumes(); }

    /** Voxel size in mm along x, y, z. */
    public double[] spacing() { return header.spacing(); }

    /** Voxels per 3D volume. */
    public int voxels() { return nx() * ny() * nz(); }

    /** The value at (x, y, z) of the first volume. */
    public float at(int x, int y, int z) {
        return data[(z * ny() + y) * nx() + x];
    }

    /** The {@code t}-th 3D volume of a 4D image, sharing this one's geometry. */
    public Volume volume(int t) {
        if (t < 0 || t >= volumes()) throw new IndexOutOfBoundsException("volume " + t + " of " + volumes());
        int n = voxels();
        return new Volume(header.withDims(nx(), ny(), nz(), 1), Arrays.copyOfRange(data, t * n, (t + 1) * n), source);
    }

    /** Throws a {@link DataException} naming the file and the first bad voxel when a value is NaN or infinite. */
    public Volume requireFinite() {
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                int n = voxels(), v = i % n, x = v % nx(), y = (v / nx()) % ny(), z = v / (nx() * ny());
                throw new DataException(source, "voxel (" + x + ", " + y + ", " + z + ")"
                        + (volumes() > 1 ? " of volume " + i / n : "") + " is " + data[i] + "; images must be finite");
            }
        }
        return this;
    }
}
