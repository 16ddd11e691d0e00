package org.cloe4j.data;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.Deflater;
import java.util.zip.GZIPOutputStream;
import org.cloe4j.io.AtomicFiles;

/**
 * Writes a {@link Volume} as a little-endian NIfTI-1 single file, gzip-compressed when the name ends in {@code .gz}.
 * The volume's header supplies the geometry that is carried over unchanged: pixdim, qform and sform codes and
 * parameters, xyzt_units and the description; dims, datatype, bitpix, vox_offset (352, no extensions) and scaling
 * (none: slope 1, intercept 0) are set by the writer.
 *
 * <p>The file is written to a temporary file in the same folder and renamed over the target only when complete, so a
 * failure never leaves a half-written output. Values that an integer datatype cannot hold (after rounding to the
 * nearest integer) or that are NaN are refused with a {@link DataException}.
 */
public final class NiftiWriter {

    private static final int CHUNK_VOXELS = 1 << 18;

    private NiftiWriter() {}

    /** Writes {@code volume} to {@code file} with voxels stored as {@code type}. */
    public static void write(Volume volume, Path file, NiftiDatatype type) {
        Path target = file.toAbsolutePath();
        byte[] header = encodeHeader(volume, type, target);
        boolean gzip = target.getFileName().toString().endsWith(".gz");
        AtomicFiles.write(target, out -> {
            OutputStream body = gzip ? new GZIPOutputStream(out, 1 << 16) {
                { def.setLevel(Deflater.BEST_SPEED); } // large volumes: speed matters more than the last few percent
            } : out;
            body.write(header);
            writeVoxels(volume.data(), type, target, body);
            if (body instanceof GZIPOutputStream gz) gz.finish();
        });
    }

    static byte[] encodeHeader(Volume volume, NiftiDatatype type, Path target) {
        NiftiHeader h = volume.header();
        long[] dim = h.dim();
        for (int i = 1; i <= 7; i++) {
            if (dim[i] > Short.MAX_VALUE) {
                throw new DataException(target, "dim[" + i + "] = " + dim[i] + " does not fit a NIfTI-1 header");
            }
        }
        ByteBuffer b = ByteBuffer.allocate(352).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 348);
        b.put(39, (byte) 0); // dim_info
        for (int i = 0; i < 8; i++) b.putShort(40 + 2 * i, (short) dim[i]);
        b.putShort(68, (short) h.intentCode());
        b.putShort(70, (short) type.code());
        b.putShort(72, (short) (type.bytes() * 8));
        double[] pixdim = h.pixdim();
        if (pixdim[0] != -1) pixdim[0] = 1; // qfac is ±1
        for (int i = 0; i < 8; i++) b.putFloat(76 + 4 * i, (float) pixdim[i]);
        b.putFloat(108, 352f);
        b.putFloat(112, 1f);
        b.putFloat(116, 0f);
        b.put(123, (byte) h.xyztUnits());
        byte[] descrip = h.descrip().getBytes(StandardCharsets.ISO_8859_1);
        b.put(148, descrip, 0, Math.min(descrip.length, 79));
        b.putShort(252, (short) h.qformCode());
        b.putShort(254, (short) h.sformCode());
        double[] q = h.quatern(), o = h.qoffset(), s = h.srow();
        for (int i = 0; i < 3; i++) {
            b.putFloat(256 + 4 * i, (float) q[i]);
            b.putFloat(268 + 4 * i, (float) o[i]);
        }
        for (int i = 0; i < 12; i++) b.putFloat(280 + 4 * i, (float) s[i]);
        b.put(344, (byte) 'n').put(345, (byte) '+').put(346, (byte) '1').put(347, (byte) 0);
        // bytes 348..351: extension flag 0 (no extensions)
        return b.array();
    }

    private static void writeVoxels(float[] data, NiftiDatatype type, Path target, OutputStream out) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(Math.min(data.length, CHUNK_VOXELS) * type.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        double lo = type.min(), hi = type.max();
        for (int start = 0; start < data.length; start += CHUNK_VOXELS) {
            int end = Math.min(data.length, start + CHUNK_VOXELS);
            buf.clear();
            for (int i = start; i < end; i++) {
                float v = data[i];
                if (type.isInteger()) {
                    double r = Math.rint(v);
                    if (!(r >= lo && r <= hi)) {
                        throw new DataException(target, "voxel " + i + " = " + v + " does not fit datatype " + type);
                    }
                    switch (type) {
                        case UINT8, INT8 -> buf.put((byte) (long) r);
                        case INT16, UINT16 -> buf.putShort((short) (long) r);
                        case INT32, UINT32 -> buf.putInt((int) (long) r);
                        default -> buf.putLong((long) r);
                    }
                } else if (type == NiftiDatatype.FLOAT32) {
                    buf.putFloat(v);
                } else {
                    buf.putDouble(v);
                }
            }
            out.write(buf.array(), 0, buf.position());
        }
    }
}
