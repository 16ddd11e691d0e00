package org.cloe4j.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads NIfTI-1 and NIfTI-2 single-file images ({@code .nii}, and gzip-compressed {@code .nii.gz}, recognised by
 * content), 3D to 7D, either byte order, datatypes uint8, int8, int16, uint16, int32, uint32, int64, float32 and
 * float64, into a {@link Volume} of floats. Applies {@code scl_slope}/{@code scl_inter} when the slope is non-zero
 * and finite; skips header extensions through {@code vox_offset}.
 *
 * <p>Also reads header/image pairs: name either the {@code .hdr} or the {@code .img} (each may be gzip-compressed,
 * {@code .hdr.gz}/{@code .img.gz}). A pair header with NIfTI-1's pair magic {@code "ni1"} (or {@code "n+1"}) is read
 * as NIfTI; any other 348-byte header as Analyze 7.5, read the way SPM and nibabel read it: no qform/sform, so the
 * affine is the radiological one (x flipped, {@code diag(-dx, dy, dz)}) placed by SPM's {@code origin} field when it
 * is set and plausible, else centred on the volume (an SPM {@code .mat} file beside it is not read); {@code funused1}
 * is the scale factor when finite and non-zero.
 *
 * <p>Every problem is a {@link DataException} that names the file: wrong magic, unknown datatype, a truncated or
 * corrupt file, or dimensions that promise more voxels than the file holds or than the memory limit allows (checked
 * before anything is allocated).
 */
public final class NiftiReader {

    /** Default limit on the float data one read may allocate: half the heap, at most 8 GiB. */
    public static final long DEFAULT_MAX_BYTES = Math.min(Runtime.getRuntime().maxMemory() / 2, 8L << 30);

    private static final int GZIP_BUFFER = 1 << 16;
    private static final int CHUNK = 1 << 20; // bytes converted at a time; a multiple of every voxel size
    private static final byte[] MAGIC2 = {'n', '+', '2', 0, '\r', '\n', 0x1a, '\n'};

    private final long maxBytes;

    /** A reader with the default memory limit. */
    public NiftiReader() {
        this(DEFAULT_MAX_BYTES);
    }

    /** A reader that refuses images whose float data would take more than {@code maxBytes}. */
    public NiftiReader(long maxBytes) {
        if (maxBytes <= 0) throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        this.maxBytes = maxBytes;
    }

    /** Reads the image at {@code file} with the default memory limit. */
    public static Volume read(Path file) {
        return new NiftiReader().load(file);
    }

    /** Reads only the header of {@code file}. */
    public static NiftiHeader readHeader(Path file) {
        Path[] pair = pairOf(file);
        Path headerFile = pair == null ? file : pair[0];
        try (InputStream in = open(headerFile)) {
            return parseHeader(headerFile, in, pair != null);
        } catch (IOException e) {
            throw ioProblem(headerFile, e);
        }
    }

    /**
     * For a {@code .hdr}/{@code .img} pair member (optionally {@code .gz}), the header and image files, checked to
     * exist (a {@link DataException} names the missing partner); null for a single-file image.
     */
    static Path[] pairOf(Path file) {
        String name = file.getFileName().toString();
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        String stem;
        boolean givenHeader;
        if (lower.endsWith(".hdr") || lower.endsWith(".img")) stem = name.substring(0, name.length() - 4);
        else if (lower.endsWith(".hdr.gz") || lower.endsWith(".img.gz")) stem = name.substring(0, name.length() - 7);
        else return null;
        givenHeader = lower.contains(".hdr");
        if (!Files.isRegularFile(file)) throw new DataException(file, "no such file");
        String want = givenHeader ? "img" : "hdr";
        Path partner = null;
        for (String ext : new String[] {want, want.toUpperCase(java.util.Locale.ROOT)}) {
            for (String ending : new String[] {"." + ext, "." + ext + ".gz"}) {
                Path p = file.resolveSibling(stem + ending);
                if (partner == null && Files.isRegularFile(p)) partner = p;
            }
        }
        if (partner == null) {
            throw new DataException(file, "is one half of a header/image pair, but its " + (givenHeader ? "image" : "header")
                    + " file " + stem + "." + want + " (or ." + want + ".gz) is missing beside it");
        }
        return givenHeader ? new Path[] {file, partner} : new Path[] {partner, file};
    }

    /** Reads the image at {@code file}. */
    public Volume load(Path file) {
        Path[] pair = pairOf(file);
        if (pair != null) {
            NiftiHeader h = readHeader(pair[0]);
            try (InputStream in = open(pair[1])) {
                return readVoxelData(h, pair[0], pair[1], in, 0);
            } catch (IOException e) {
                throw ioProblem(pair[1], e);
            }
        }
        try (InputStream in = open(file)) {
            NiftiHeader h = parseHeader(file, in, false);
            return readVoxelData(h, file, file, in, h.version() == 1 ? 348 : 540);
        } catch (IOException e) {
            throw ioProblem(file, e);
        }
    }

    /**
     * The voxels that {@code h} (read from {@code headerFile}) describes, from {@code in}, a stream of {@code dataFile}
     * of which {@code consumed} bytes were already read (the header of a single file; 0 for the image of a pair).
     */
    private Volume readVoxelData(NiftiHeader h, Path headerFile, Path dataFile, InputStream in, long consumed)
            throws IOException {
        boolean single = headerFile.equals(dataFile);
        NiftiDatatype type = NiftiDatatype.ofCode(h.datatype());
        long voxels = h.voxelsPerVolume() * h.volumes();
        long dataBytes = voxels * type.bytes();
        if (voxels > Integer.MAX_VALUE - 8 || voxels * Float.BYTES > maxBytes) {
            throw new DataException(headerFile, "header dims " + dimText(h) + " promise " + voxels + " voxels ("
                    + voxels * Float.BYTES + " bytes as floats), more than the memory limit of " + maxBytes + " bytes");
        }
        boolean gz = isGzip(dataFile);
        if (!gz) {
            long size = Files.size(dataFile);
            if (size < h.voxOffset() + dataBytes) {
                throw new DataException(dataFile, (single ? "header" : "header " + headerFile.getFileName()) + " dims "
                        + dimText(h) + " promise " + dataBytes + " bytes of voxel data from offset " + h.voxOffset()
                        + ", but the " + (single ? "file" : "image file") + " has only "
                        + Math.max(0, size - h.voxOffset()) + " (truncated file?)");
            }
        }
        try {
            in.skipNBytes(h.voxOffset() - consumed);
        } catch (EOFException e) {
            throw new DataException(dataFile, "file ends before vox_offset " + h.voxOffset() + " (truncated file?)");
        }
        float[] data = new float[(int) voxels];
        readVoxels(dataFile, in, type, h.byteOrder(), data, dataBytes);
        if (gz) in.transferTo(OutputStream.nullOutputStream()); // reaches the gzip trailer: checks the CRC
        if (h.hasScaling()) scale(data, h.sclSlope(), h.sclInter());
        return new Volume(h, data, headerFile);
    }

    private static DataException ioProblem(Path file, IOException e) {
        if (e instanceof EOFException || e instanceof ZipException) {
            return new DataException(file, "truncated or corrupt gzip data", e);
        }
        return new DataException(file, "cannot read", e);
    }

    private static String dimText(NiftiHeader h) {
        long[] d = h.dim();
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i <= d[0]; i++) sb.append(i > 1 ? "×" : "").append(d[i]);
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // opening and header parsing

    static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return in.read() == 0x1f && in.read() == 0x8b;
        }
    }

    private static InputStream open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new DataException(file, "no such file");
        InputStream raw = Files.newInputStream(file);
        try {
            return isGzip(file) ? new GZIPInputStream(raw, GZIP_BUFFER) : new BufferedInputStream(raw, GZIP_BUFFER);
        } catch (IOException e) {
            raw.close();
            throw e;
        }
    }

    private static NiftiHeader parseHeader(Path file, InputStream in, boolean pair) throws IOException {
        byte[] first = in.readNBytes(4);
        if (first.length < 4) throw new DataException(file, "file is too short to hold a NIfTI header");
        int le = ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getInt();
        int be = ByteBuffer.wrap(first).order(ByteOrder.BIG_ENDIAN).getInt();
        ByteOrder order;
        int size;
        if (le == 348 || le == 540) { order = ByteOrder.LITTLE_ENDIAN; size = le; }
        else if (be == 348 || be == 540) { order = ByteOrder.BIG_ENDIAN; size = be; }
        else throw new DataException(file, "not a NIfTI file: sizeof_hdr is " + le + " (expected 348 or 540)");
        byte[] rest = in.readNBytes(size - 4);
        if (rest.length < size - 4) throw new DataException(file, "file ends inside the " + size + "-byte header (truncated)");
        ByteBuffer b = ByteBuffer.allocate(size).order(order).put(first).put(rest).flip();
        if (size == 348) return parse1(file, b, order, pair);
        if (pair) throw new DataException(file, "NIfTI-2 header/image pairs are not supported; convert to .nii");
        return parse2(file, b, order);
    }

    private static NiftiHeader parse1(Path file, ByteBuffer b, ByteOrder order, boolean pair) {
        String magic = new String(new byte[] {b.get(344), b.get(345), b.get(346)}, StandardCharsets.ISO_8859_1);
        boolean nifti = (magic.equals("ni1") || magic.equals("n+1")) && b.get(347) == 0;
        if (pair && !nifti) return analyze(file, b, order);
        if (!pair && magic.equals("ni1")) {
            throw new DataException(file, "has the header of a header/image pair (magic \"ni1\"); name the .hdr file "
                    + "with its .img beside it, or convert it to .nii");
        }
        if (!magic.equals("n+1") && !magic.equals("ni1") || b.get(347) != 0) {
            throw new DataException(file, "wrong magic '" + printable(b, 344, 4) + "' (expected \"n+1\" for NIfTI-1)");
        }
        long[] dim = new long[8];
        for (int i = 0; i < 8; i++) dim[i] = b.getShort(40 + 2 * i);
        int datatype = b.getShort(70);
        double[] pixdim = new double[8];
        for (int i = 0; i < 8; i++) pixdim[i] = b.getFloat(76 + 4 * i);
        long voxOffset = (long) b.getFloat(108);
        double[] quatern = {b.getFloat(256), b.getFloat(260), b.getFloat(264)};
        double[] qoffset = {b.getFloat(268), b.getFloat(272), b.getFloat(276)};
        double[] srow = new double[12];
        for (int i = 0; i < 12; i++) srow[i] = b.getFloat(280 + 4 * i);
        NiftiHeader h = new NiftiHeader(1, order, dim, datatype, pixdim, pair ? Math.max(voxOffset, 0) : Math.max(voxOffset, 352), b.getFloat(112),
                b.getFloat(116), b.get(123) & 0xff, b.getShort(252), b.getShort(254), quatern, qoffset, srow,
                b.getShort(68), text(b, 148, 80));
        return validated(file, h);
    }

    private static NiftiHeader parse2(Path file, ByteBuffer b, ByteOrder order) {
        for (int i = 0; i < MAGIC2.length; i++) {
            if (b.get(4 + i) != MAGIC2[i]) {
                throw new DataException(file, "wrong magic '" + printable(b, 4, 8) + "' (expected \"n+2\" for NIfTI-2)");
            }
        }
        long[] dim = new long[8];
        for (int i = 0; i < 8; i++) dim[i] = b.getLong(16 + 8 * i);
        double[] pixdim = new double[8];
        for (int i = 0; i < 8; i++) pixdim[i] = b.getDouble(104 + 8 * i);
        double[] quatern = {b.getDouble(352), b.getDouble(360), b.getDouble(368)};
        double[] qoffset = {b.getDouble(376), b.getDouble(384), b.getDouble(392)};
        double[] srow = new double[12];
        for (int i = 0; i < 12; i++) srow[i] = b.getDouble(400 + 8 * i);
        NiftiHeader h = new NiftiHeader(2, order, dim, b.getShort(12), pixdim, Math.max(b.getLong(168), 544),
                b.getDouble(176), b.getDouble(184), b.getInt(500), b.getInt(344), b.getInt(348), quatern, qoffset, srow,
                b.getInt(504), text(b, 240, 80));
        return validated(file, h);
    }

    /**
     * An Analyze 7.5 header as SPM2 and nibabel read it: scale factor in funused1 (offset 112; 0 or non-finite: none),
     * intercept in funused2 (116), and the affine {@code diag(-dx, dy, dz)} translated so that SPM's 1-based
     * {@code origin} (three int16 at offset 253) sits at world 0 when set and inside (-dim, 2·dim), else the centre.
     */
    private static NiftiHeader analyze(Path file, ByteBuffer b, ByteOrder order) {
        long[] dim = new long[8];
        for (int i = 0; i < 8; i++) dim[i] = b.getShort(40 + 2 * i);
        double[] pixdim = new double[8];
        for (int i = 0; i < 8; i++) pixdim[i] = b.getFloat(76 + 4 * i);
        double slope = b.getFloat(112), inter = b.getFloat(116);
        if (!(Double.isFinite(slope) && slope != 0)) { slope = 1; inter = 0; }
        if (!Double.isFinite(inter)) inter = 0;
        double[] zooms = {-pixdim[1], pixdim[2], pixdim[3]};
        double[] origin = new double[3];
        boolean set = false, plausible = true;
        for (int a = 0; a < 3; a++) {
            origin[a] = b.getShort(253 + 2 * a);
            long n = a + 1 <= dim[0] ? dim[a + 1] : 1;
            set |= origin[a] != 0;
            plausible &= origin[a] > -n && origin[a] < 2 * n;
        }
        double[] srow = new double[12];
        for (int a = 0; a < 3; a++) {
            long n = a + 1 <= dim[0] ? dim[a + 1] : 1;
            double o = set && plausible ? origin[a] - 1 : (n - 1) / 2.0;
            srow[a * 4 + a] = zooms[a];
            srow[a * 4 + 3] = -o * zooms[a];
        }
        pixdim[0] = 1;
        NiftiHeader h = new NiftiHeader(1, order, dim, b.getShort(70), pixdim, Math.max(0, (long) b.getFloat(108)),
                slope, inter, NiftiHeader.UNITS_MM_SEC, 0, NiftiHeader.XFORM_SCANNER_ANAT, new double[3], new double[3],
                srow, 0, text(b, 148, 80));
        return validated(file, h);
    }

    private static NiftiHeader validated(Path file, NiftiHeader h) {
        if (NiftiDatatype.ofCode(h.datatype()) == null) {
            throw new DataException(file, "unknown or unsupported datatype code " + h.datatype()
                    + " (supported: uint8, int8, int16, uint16, int32, uint32, int64, float32, float64)");
        }
        long[] dim = h.dim();
        if (dim[0] < 1 || dim[0] > 7) throw new DataException(file, "dim[0] is " + dim[0] + " (must be 1 to 7)");
        for (int i = 1; i <= dim[0]; i++) {
            if (dim[i] < 1) throw new DataException(file, "dim[" + i + "] is " + dim[i] + " (sizes must be positive)");
        }
        long voxels = 1;
        for (int i = 1; i <= dim[0]; i++) {
            voxels = Math.multiplyHigh(voxels, dim[i]) != 0 || voxels * dim[i] < 0 ? Long.MAX_VALUE : voxels * dim[i];
        }
        if (voxels == Long.MAX_VALUE) throw new DataException(file, "header dims overflow a 64-bit voxel count");
        return h;
    }

    private static String text(ByteBuffer b, int offset, int length) {
        int end = 0;
        while (end < length && b.get(offset + end) != 0) end++;
        byte[] bytes = new byte[end];
        b.get(offset, bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1).strip();
    }

    private static String printable(ByteBuffer b, int offset, int length) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < length; i++) {
            int c = b.get(offset + i) & 0xff;
            sb.append(c >= 32 && c < 127 ? String.valueOf((char) c) : String.format("\\x%02x", c));
        }
        return sb.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // voxel data: read in chunks, convert each with a bulk typed view

    private static void readVoxels(Path file, InputStream in, NiftiDatatype type, ByteOrder order, float[] out,
                                   long totalBytes) throws IOException {
        byte[] chunk = new byte[(int) Math.min(CHUNK, totalBytes)];
        int per = type.bytes();
        Object scratch = switch (type) {
            case INT16, UINT16 -> new short[chunk.length / 2];
            case INT32, UINT32 -> new int[chunk.length / 4];
            case INT64 -> new long[chunk.length / 8];
            case FLOAT64 -> new double[chunk.length / 8];
            default -> null;
        };
        long done = 0;
        int voxel = 0;
        while (done < totalBytes) {
            int want = (int) Math.min(chunk.length, totalBytes - done);
            int got = in.readNBytes(chunk, 0, want);
            if (got < want) {
                throw new DataException(file, "file ends after " + (done + got) + " of " + totalBytes
                        + " bytes of voxel data (truncated file?)");
            }
            int n = want / per;
            convert(type, ByteBuffer.wrap(chunk, 0, want).order(order), out, voxel, n, scratch);
            voxel += n;
            done += want;
        }
    }

    private static void convert(NiftiDatatype type, ByteBuffer bytes, float[] out, int at, int n, Object scratch) {
        byte[] raw = bytes.array();
        switch (type) {
            case UINT8 -> { for (int i = 0; i < n; i++) out[at + i] = raw[i] & 0xff; }
            case INT8 -> { for (int i = 0; i < n; i++) out[at + i] = raw[i]; }
            case INT16 -> {
                short[] s = (short[]) scratch;
                bytes.asShortBuffer().get(s, 0, n);
                for (int i = 0; i < n; i++) out[at + i] = s[i];
            }
            case UINT16 -> {
                short[] s = (short[]) scratch;
                bytes.asShortBuffer().get(s, 0, n);
                for (int i = 0; i < n; i++) out[at + i] = s[i] & 0xffff;
            }
            case INT32 -> {
                int[] v = (int[]) scratch;
                bytes.asIntBuffer().get(v, 0, n);
                for (int i = 0; i < n; i++) out[at + i] = v[i];
            }
            case UINT32 -> {
                int[] v = (int[]) scratch;
                bytes.asIntBuffer().get(v, 0, n);
                for (int i = 0; i < n; i++) out[at + i] = v[i] & 0xffffffffL;
            }
            case INT64 -> {
                long[] v = (long[]) scratch;
                bytes.asLongBuffer().get(v, 0, n);
                for (int i = 0; i < n; i++) out[at + i] = v[i];
            }
            case FLOAT32 -> bytes.asFloatBuffer().get(out, at, n);
            case FLOAT64 -> {
                double[] v = (double[]) scratch;
                bytes.asDoubleBuffer().get(v, 0, n);
                for (int i = 0; i < n; i++) out[at + i] = (float) v[i];
            }
        }
    }

    private static void scale(float[] data, double slope, double inter) {
        for (int i = 0; i < data.length; i++) data[i] = (float) (data[i] * slope + inter);
    }
}
