package org.cloe4j.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Which way the voxel axes of an image run in world (scanner) space, as three letters in NIfTI's RAS+ world
 * convention: the first letter names the direction voxel index i increases towards, then j, then k. {@code "RAS"}
 * means i runs to the right, j to the anterior, k to the superior (what {@code cloe synth} writes); {@code "LPS"} is
 * the DICOM-like orientation of the BraTS files; {@code "LAS"} the radiological one of Analyze images.
 *
 * <p>{@link #of(double[], Path)} derives it from a voxel-to-world affine the way nibabel's {@code io_orientation}
 * does for the axis-aligned and the mildly oblique case: each voxel axis is assigned the world axis its direction
 * vector points most along, the largest component first, each world axis used once.
 *
 * @param worldAxis for voxel axes i, j, k: the world axis it runs along (0 = x, left–right; 1 = y; 2 = z)
 * @param positive  for voxel axes i, j, k: whether it runs towards +world (R, A, S) rather than −world (L, P, I)
 */
public record Orientation(int[] worldAxis, boolean[] positive) {

    private static final String[] POS = {"R", "A", "S"};
    private static final String[] NEG = {"L", "P", "I"};

    /** Voxel axes along scanner x, y, z, each increasing towards right, anterior, superior. */
    public static final Orientation RAS = parse("RAS");

    public Orientation {
        worldAxis = worldAxis.clone();
        positive = positive.clone();
        if (worldAxis.length != 3 || positive.length != 3) throw new IllegalArgumentException("an orientation has 3 axes");
        boolean[] used = new boolean[3];
        for (int w : worldAxis) {
            if (w < 0 || w > 2 || used[w]) throw new IllegalArgumentException("world axes must be 0, 1, 2 once each: " + Arrays.toString(worldAxis));
            used[w] = true;
        }
    }

    @Override public int[] worldAxis() { return worldAxis.clone(); }
    @Override public boolean[] positive() { return positive.clone(); }

    /** The orientation named by three letters, one of R/L, A/P, S/I each (case-insensitive), e.g. "LPS". */
    public static Orientation parse(String codes) {
        String c = codes == null ? "" : codes.strip().toUpperCase(Locale.ROOT);
        if (c.length() != 3) throw new IllegalArgumentException("orientation '" + codes + "' must be three letters such as RAS");
        int[] axis = new int[3];
        boolean[] pos = new boolean[3];
        for (int i = 0; i < 3; i++) {
            String letter = c.substring(i, i + 1);
            int w = Arrays.asList(POS).indexOf(letter);
            pos[i] = w >= 0;
            if (w < 0) w = Arrays.asList(NEG).indexOf(letter);
            if (w < 0) throw new IllegalArgumentException("orientation '" + codes + "': '" + letter + "' is not one of R L A P S I");
            axis[i] = w;
        }
        try {
            return new Orientation(axis, pos);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("orientation '" + codes + "' names a world axis twice");
        }
    }

    /**
     * The orientation of a voxel-to-world affine (12 numbers, rows of a 3×4 matrix, as {@link NiftiHeader#affine()}
     * gives). A {@link DataException} naming {@code source} when the 3×3 part is not finite or not invertible, since
     * then no orientation or voxel size can be told.
     */
    public static Orientation of(double[] affine, Path source) {
        double[][] m = new double[3][3];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) m[r][c] = affine[r * 4 + c];
        requireInvertible(m, affine, source);
        double[][] dir = new double[3][3]; // dir[voxel axis][world axis], unit columns
        for (int c = 0; c < 3; c++) {
            double n = Math.sqrt(m[0][c] * m[0][c] + m[1][c] * m[1][c] + m[2][c] * m[2][c]);
            for (int r = 0; r < 3; r++) dir[c][r] = m[r][c] / n;
        }
        int[] axis = new int[3];
        boolean[] pos = new boolean[3];
        boolean[] voxelDone = new boolean[3], worldDone = new boolean[3];
        for (int step = 0; step < 3; step++) {
            int bv = -1, bw = -1;
            double best = -1;
            for (int v = 0; v < 3; v++) {
                if (voxelDone[v]) continue;
                for (int w = 0; w < 3; w++) {
                    if (!worldDone[w] && Math.abs(dir[v][w]) > best) {
                        best = Math.abs(dir[v][w]);
                        bv = v;
                        bw = w;
                    }
                }
            }
            voxelDone[bv] = true;
            worldDone[bw] = true;
            axis[bv] = bw;
            pos[bv] = dir[bv][bw] > 0;
        }
        return new Orientation(axis, pos);
    }

    /** Voxel sizes along i, j, k: the lengths of the affine's columns (a {@link DataException} when not invertible). */
    public static double[] spacing(double[] affine, Path source) {
        double[][] m = new double[3][3];
        for (int r = 0; r < 3; r++) for (int c = 0; c < 3; c++) m[r][c] = affine[r * 4 + c];
        requireInvertible(m, affine, source);
        double[] s = new double[3];
        for (int c = 0; c < 3; c++) s[c] = Math.sqrt(m[0][c] * m[0][c] + m[1][c] * m[1][c] + m[2][c] * m[2][c]);
        return s;
    }

    private static void requireInvertible(double[][] m, double[] affine, Path source) {
        for (double v : affine) {
            if (!Double.isFinite(v)) {
                throw new DataException(source, "voxel-to-world affine " + Arrays.toString(affine) + " is not finite");
            }
        }
        double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
        double scale = 1;
        for (int c = 0; c < 3; c++) scale *= Math.sqrt(m[0][c] * m[0][c] + m[1][c] * m[1][c] + m[2][c] * m[2][c]);
        if (!(scale > 0) || !(Math.abs(det) > 1e-6 * scale)) {
            throw new DataException(source, "voxel-to-world affine " + Arrays.toString(affine) + " is not invertible "
                    + "(a zero voxel size or two voxel axes along the same direction in its sform/qform), so its "
                    + "orientation and voxel size cannot be told; fix the header");
        }
    }

    /** The three letters, e.g. "LPS". */
    public String codes() {
        StringBuilder sb = new StringBuilder(3);
        for (int i = 0; i < 3; i++) sb.append(positive[i] ? POS[worldAxis[i]] : NEG[worldAxis[i]]);
        return sb.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Orientation other && Arrays.equals(worldAxis, other.worldAxis)
                && Arrays.equals(positive, other.positive);
    }

    @Override
    public int hashCode() {
        return codes().hashCode();
    }

    @Override
    public String toString() {
        return codes();
    }
}
