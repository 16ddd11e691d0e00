package org.cloe4j.data;

import java.nio.file.Path;

/**
 * Label-map conversions between the model's classes (0..C-1; BraTS: 0 background, 1 NCR, 2 ED, 3 ET) and the values
 * written to files (BraTS labels 0, 1, 2, 4), ET post-processing, and restoring a prediction to the original volume.
 * Each method says which label space it takes and returns.
 */
public final class LabelMaps {

    /** The spec's ET post-processing threshold: fewer predicted ET voxels than this become NCR. */
    public static final int DEFAULT_MIN_ENHANCING_VOXELS = 500;

    private LabelMaps() {}

    /** Classes (0..3) to BraTS labels (0, 1, 2, 4): class 3 becomes 4, the others stay. */
    public static byte[] toBratsLabels(byte[] classes) {
        byte[] out = new byte[classes.length];
        for (int i = 0; i < classes.length; i++) {
            int c = classes[i];
            if (c < 0 || c > 3) throw new IllegalArgumentException("class " + c + " at " + i + " is not in 0..3");
            out[i] = (byte) (c == 3 ? 4 : c);
        }
        return out;
    }

    /** BraTS labels (0, 1, 2, 4) to classes (0..3): 4 becomes 3; any other value is refused. */
    public static byte[] toClasses(byte[] bratsLabels) {
        byte[] out = new byte[bratsLabels.length];
        for (int i = 0; i < bratsLabels.length; i++) {
            int v = bratsLabels[i];
            out[i] = switch (v) {
                case 0, 1, 2 -> (byte) v;
                case 4 -> 3;
                default -> throw new IllegalArgumentException("label " + v + " at " + i + " is not one of {0, 1, 2, 4}");
            };
        }
        return out;
    }

    /**
     * ET post-processing on a class map (0..3), in place: when fewer than {@code minVoxels} voxels are class 3 (ET),
     * they all become class 1 (NCR). Returns whether it changed anything.
     */
    public static boolean suppressSmallEnhancing(byte[] classes, int minVoxels) {
        int et = 0;
        for (byte c : classes) if (c == 3) et++;
        if (et == 0 || et >= minVoxels) return false;
        for (int i = 0; i < classes.length; i++) if (classes[i] == 3) classes[i] = 1;
        return true;
    }

    /**
     * Places a class map of {@code c}'s crop back into a zero volume of the original dims and converts classes to the
     * labels of {@code c}'s scheme (BraTS: 0/1/2/4), as a volume with the original geometry.
     */
    public static Volume restore(byte[] classes, PreparedCase c) {
        if (classes.length != c.voxels()) {
            throw new IllegalArgumentException("class map has " + classes.length + " voxels, the case crop has " + c.voxels());
        }
        NiftiHeader g = c.geometry();
        int nx = g.nx(), ny = g.ny(), nz = g.nz();
        CropBox b = c.crop();
        float[] out = new float[nx * ny * nz];
        int i = 0;
        for (int z = 0; z < b.nz(); z++) {
            for (int y = 0; y < b.ny(); y++) {
                int o = ((z + b.z0()) * ny + y + b.y0()) * nx + b.x0();
                for (int x = 0; x < b.nx(); x++, i++) out[o + x] = c.scheme().outputLabel(classes[i]);
            }
        }
        return new Volume(g.withDims(nx, ny, nz, 1), out, null);
    }

    /** Restores a class map (see {@link #restore}) and writes it as uint8 NIfTI in the case's original geometry. */
    public static void write(byte[] classes, PreparedCase c, Path file) {
        NiftiWriter.write(restore(classes, c), file, NiftiDatatype.UINT8);
    }

    /** A label volume read from a file as BraTS labels (0, 1, 2, 4) in a byte array; other values are refused. */
    public static byte[] bratsLabelsOf(Volume labels) {
        byte[] classes = LabelScheme.BRATS.toClasses(labels);
        return toBratsLabels(classes);
    }
}
