package org.cloe4j.data;

import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The parts of a NIfTI-1 or NIfTI-2 header that cloe4j reads and writes back: dimensions, datatype, voxel spacing,
 * intensity scaling and the geometry (qform, sform, units) that places the voxels in scanner space.
 * Fields use NIfTI-2's widths (long dims, double floats) so both versions fit; the names follow the NIfTI standard.
 * Array components are copied in and out; as with any record of arrays, {@code equals} compares them by identity,
 * so compare geometries with {@link #sameGeometry}.
 *
 * @param version    1 or 2
 * @param byteOrder  byte order of the file it was read from (the writer always writes little endian)
 * @param dim        {@code dim[0]} = number of dimensions, {@code dim[1..7]} = sizes (8 entries)
 * @param datatype   NIfTI datatype code
 * @param pixdim     {@code pixdim[0]} = qfac (±1), {@code pixdim[1..3]} = voxel size (mm), {@code pixdim[4]} = TR (8 entries)
 * @param voxOffset  byte offset of the voxel data in the .nii file
 * @param sclSlope   intensity scaling slope (0 or non-finite means none)
 * @param sclInter   intensity scaling intercept
 * @param xyztUnits  spatial and temporal unit codes
 * @param qformCode  qform code (0 = unknown)
 * @param sformCode  sform code (0 = unknown)
 * @param quatern    quatern_b, quatern_c, quatern_d (3 entries)
 * @param qoffset    qoffset_x, qoffset_y, qoffset_z (3 entries)
 * @param srow       srow_x, srow_y, srow_z, row by row (12 entries)
 * @param intentCode intent code
 * @param descrip    description text
 */
public record NiftiHeader(int version, ByteOrder byteOrder, long[] dim, int datatype, double[] pixdim, long voxOffset,
                          double sclSlope, double sclInter, int xyztUnits, int qformCode, int sformCode,
                          double[] quatern, double[] qoffset, double[] srow, int intentCode, String descrip) {

    /** NIfTI code for scanner-based coordinates, used by {@link #of}. */
    public static final int XFORM_SCANNER_ANAT = 1;
    /** xyzt_units for millimetres and seconds. */
    public static final int UNITS_MM_SEC = 2 | 8;

    public NiftiHeader {
        requireLength("dim", dim, 8);
        requireLength("pixdim", pixdim, 8);
        requireLength("quatern", quatern, 3);
        requireLength("qoffset", qoffset, 3);
        requireLength("srow", srow, 12);
        dim = dim.clone();
        pixdim = pixdim.clone();
        quatern = quatern.clone();
        qoffset = qoffset.clone();
        srow = srow.clone();
        descrip = descrip == null ? "" : descrip;
        byteOrder = byteOrder == null ? ByteOrder.LITTLE_ENDIAN : byteOrder;
    }

    private static void requireLength(String name, Object array, int n) {
        int len = switch (array) {
            case long[] a -> a.length;
            case double[] a -> a.length;
            case null -> -1;
            default -> throw new IllegalArgumentException(name + " has the wrong type");
        };
        if (len != n) throw new IllegalArgumentException(name + " must have " + n + " entries, not " + len);
    }

    /**
     * A fresh header for an {@code nx × ny × nz} volume with the given spacing (mm) whose voxel (0,0,0) sits at
     * {@code origin} (mm), axes aligned with scanner x, y, z; qform and sform both set (code 1), units mm.
     */
    public static NiftiHeader of(int nx, int ny, int nz, double[] spacing, double[] origin) {
        long[] dim = {3, nx, ny, nz, 1, 1, 1, 1};
        double[] pixdim = {1, spacing[0], spacing[1], spacing[2], 1, 1, 1, 1};
        double[] srow = {spacing[0], 0, 0, origin[0], 0, spacing[1], 0, origin[1], 0, 0, spacing[2], origin[2]};
        return new NiftiHeader(1, ByteOrder.LITTLE_ENDIAN, dim, NiftiDatatype.FLOAT32.code(), pixdim, 352, 1, 0,
                UNITS_MM_SEC, XFORM_SCANNER_ANAT, XFORM_SCANNER_ANAT, new double[3], origin.clone(), srow, 0, "cloe4j");
    }

    public long[] dim() { return dim.clone(); }
    public double[] pixdim() { return pixdim.clone(); }
    public double[] quatern() { return quatern.clone(); }
    public double[] qoffset() { return qoffset.clone(); }
    public double[] srow() { return srow.clone(); }

    /** Size along x (fastest in the file), that is W. */
    public int nx() { return size(1); }
    /** Size along y, that is H. */
    public int ny() { return size(2); }
    /** Size along z, that is D. */
    public int nz() { return size(3); }

    /** Number of 3D volumes (product of dims 4 and up; 1 for a 3D image). */
    public long volumes() {
        long n = 1;
        for (int i = 4; i <= Math.min(7, (int) dim[0]); i++) n *= Math.max(1, dim[i]);
        return n;
    }

    /** Voxels in one 3D volume. */
    public long voxelsPerVolume() {
        return (long) nx() * ny() * nz();
    }

    private int size(int axis) {
        if (axis > dim[0]) return 1;
        return (int) Math.max(1, dim[axis]);
    }

    /** Voxel size in mm along x, y, z (absolute values of pixdim[1..3]; 0 is read as 1). */
    public double[] spacing() {
        double[] s = new double[3];
        for (int i = 0; i < 3; i++) s[i] = pixdim[i + 1] == 0 || !Double.isFinite(pixdim[i + 1]) ? 1 : Math.abs(pixdim[i + 1]);
        return s;
    }

    /** Whether the intensity scaling must be applied (slope non-zero and finite, and not the identity). */
    public boolean hasScaling() {
        return sclSlope != 0 && Double.isFinite(sclSlope) && Double.isFinite(sclInter) && !(sclSlope == 1 && sclInter == 0);
    }

    /**
     * Voxel-to-world transform as 12 numbers (rows of a 3×4 matrix): the sform when its code is set, else the qform
     * when its code is set, else a plain scaling by the spacing (NIfTI's "method 1").
     */
    public double[] affine() {
        if (sformCode > 0) return srow.clone();
        double[] s = spacing();
        if (qformCode <= 0) return new double[] {s[0], 0, 0, 0, 0, s[1], 0, 0, 0, 0, s[2], 0};
        double b = quatern[0], c = quatern[1], d = quatern[2];
        double aa = 1 - (b * b + c * c + d * d);
        double a;
        if (aa < 1e-7) { // b, c, d are a unit vector already: a 180° rotation
            double norm = Math.sqrt(b * b + c * c + d * d);
            b /= norm; c /= norm; d /= norm;
            a = 0;
        } else {
            a = Math.sqrt(aa);
        }
        double qfac = pixdim[0] < 0 ? -1 : 1;
        double[][] r = {
            {a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)},
            {2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)},
            {2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b}};
        double[] m = new double[12];
        for (int row = 0; row < 3; row++) {
            m[row * 4] = r[row][0] * s[0];
            m[row * 4 + 1] = r[row][1] * s[1];
            m[row * 4 + 2] = r[row][2] * s[2] * qfac;
            m[row * 4 + 3] = qoffset[row];
        }
        return m;
    }

    /** A copy describing a volume of {@code nx × ny × nz × volumes}, everything else kept. */
    public NiftiHeader withDims(int nx, int ny, int nz, int volumes) {
        long[] d = {volumes > 1 ? 4 : 3, nx, ny, nz, volumes, 1, 1, 1};
        return new NiftiHeader(version, byteOrder, d, datatype, pixdim, voxOffset, sclSlope, sclInter, xyztUnits,
                qformCode, sformCode, quatern, qoffset, srow, intentCode, descrip);
    }

    /** Whether {@code other} places voxels at the same world positions, within {@code toleranceMm} per entry. */
    public boolean sameGeometry(NiftiHeader other, double toleranceMm) {
        double[] a = affine(), b = other.affine();
        for (int i = 0; i < 12; i++) if (!(Math.abs(a[i] - b[i]) <= toleranceMm)) return false;
        return true;
    }

    @Override
    public String toString() {
        return "NiftiHeader[v" + version + " dim=" + Arrays.toString(dim) + " datatype=" + datatype
                + " pixdim=" + Arrays.toString(pixdim) + " qform=" + qformCode + " sform=" + sformCode + "]";
    }
}
