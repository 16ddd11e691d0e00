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

    /** Tumour components smaller than this fraction of the largest are removed ({@link #removeSmallTumourComponents}). */
    public static final double DEFAULT_MIN_COMPONENT_FRACTION = 0.1;

    /**
     * Component post-processing on a class map of {@code nx·ny·nz} voxels (x fastest), in place: the tumour (every
     * class > 0) is split into 6-connected components, and each component with fewer than {@code minFraction} times
     * the voxels of the largest becomes background. nnU-Net's post-processing keeps only the largest foreground
     * component; keeping every component of at least a tenth of the largest also keeps a second focus of real size.
     * Returns how many voxels became background.
     */
    public static int removeSmallTumourComponents(byte[] classes, int nx, int ny, int nz, double minFraction) {
        int n = classes.length;
        if ((long) nx * ny * nz != n) {
            throw new IllegalArgumentException("class map has " + n + " voxels, not " + nx + "×" + ny + "×" + nz);
        }
        if (!(minFraction >= 0 && minFraction <= 1)) throw new IllegalArgumentException("minFraction must be in [0, 1], got " + minFraction);
        int[] comp = new int[n]; // 0: not labelled yet; k > 0: component k
        int[] stack = new int[n];
        java.util.List<Integer> sizes = new java.util.ArrayList<>();
        sizes.add(0);
        int plane = nx * ny;
        for (int seed = 0; seed < n; seed++) {
            if (classes[seed] == 0 || comp[seed] != 0) continue;
            int id = sizes.size(), top = 0, size = 0;
            comp[seed] = id;
            stack[top++] = seed;
            while (top > 0) {
                int i = stack[--top];
                size++;
                int x = i % nx, y = (i / nx) % ny, z = i / plane;
                if (x > 0) top = push(classes, comp, stack, top, i - 1, id);
                if (x < nx - 1) top = push(classes, comp, stack, top, i + 1, id);
                if (y > 0) top = push(classes, comp, stack, top, i - nx, id);
                if (y < ny - 1) top = push(classes, comp, stack, top, i + nx, id);
                if (z > 0) top = push(classes, comp, stack, top, i - plane, id);
                if (z < nz - 1) top = push(classes, comp, stack, top, i + plane, id);
            }
            sizes.add(size);
        }
        int largest = 0;
        for (int sz : sizes) largest = Math.max(largest, sz);
        double min = minFraction * largest;
        int removed = 0;
        for (int i = 0; i < n; i++) {
            if (comp[i] != 0 && sizes.get(comp[i]) < min) {
                classes[i] = 0;
                removed++;
            }
        }
        return removed;
    }

    private static int push(byte[] classes, int[] comp, int[] stack, int top, int j, int id) {
        if (classes[j] != 0 && comp[j] == 0) {
            comp[j] = id;
            stack[top++] = j;
        }
        return top;
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
