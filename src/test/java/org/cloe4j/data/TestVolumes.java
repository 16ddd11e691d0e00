package org.cloe4j.data;

import java.nio.file.Path;

/** Small volumes for tests, built by hand. */
public final class TestVolumes {
    private TestVolumes() {}

    /** A 1 mm header for an nx × ny × nz volume at the origin. */
    public static NiftiHeader header(int nx, int ny, int nz) {
        return NiftiHeader.of(nx, ny, nz, new double[] {1, 1, 1}, new double[] {0, 0, 0});
    }

    /** A volume whose value at (x, y, z) is {@code f(x, y, z)}. */
    static Volume of(int nx, int ny, int nz, VoxelFunction f) {
        float[] d = new float[nx * ny * nz];
        for (int z = 0, i = 0; z < nz; z++) {
            for (int y = 0; y < ny; y++) {
                for (int x = 0; x < nx; x++, i++) d[i] = f.at(x, y, z);
            }
        }
        return new Volume(header(nx, ny, nz), d, null);
    }

    interface VoxelFunction {
        float at(int x, int y, int z);
    }

    /** Writes {@code v} to {@code file} as float32 (or the given type) and returns the file. */
    static Path write(Volume v, Path file, NiftiDatatype type) {
        NiftiWriter.write(v, file, type);
        return file;
    }
}
