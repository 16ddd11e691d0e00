package org.cloe4j.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/**
 * Builds NIfTI files byte by byte, following the standard's field offsets, independently of {@link NiftiWriter}:
 * the reader is tested against these, not against our own writer.
 */
final class HandMadeNifti {
    ByteOrder order = ByteOrder.LITTLE_ENDIAN;
    int version = 1;
    long[] dim = {3, 2, 3, 2, 1, 1, 1, 1};
    int datatype = 16;
    int bitpix = 32;
    float[] pixdim = {1, 1, 1, 1, 1, 1, 1, 1};
    float slope = 0, inter = 0;
    int extensionBytes = 0;
    String magic = null; // null: the right one for the version
    byte[] voxels = new byte[0];

    /** Voxel bytes from values of the given NIfTI datatype, in {@link #order}. */
    HandMadeNifti values(int type, double... v) {
        datatype = type;
        int size = switch (type) { case 2, 256 -> 1; case 4, 512 -> 2; case 8, 16 -> 4; case 64 -> 8; default -> 1; };
        bitpix = size * 8;
        ByteBuffer b = ByteBuffer.allocate(v.length * size).order(order);
        for (double x : v) {
            switch (type) {
                case 2, 256 -> b.put((byte) (long) x);
                case 4, 512 -> b.putShort((short) (long) x);
                case 8 -> b.putInt((int) (long) x);
                case 16 -> b.putFloat((float) x);
                case 64 -> b.putDouble(x);
                default -> throw new IllegalArgumentException();
            }
        }
        voxels = b.array();
        return this;
    }

    byte[] bytes() {
        int hdr = version == 1 ? 348 : 540;
        int offset = hdr + 4 + extensionBytes;
        ByteBuffer b = ByteBuffer.allocate(offset + voxels.length).order(order);
        b.putInt(0, hdr);
        if (version == 1) {
            for (int i = 0; i < 8; i++) b.putShort(40 + 2 * i, (short) dim[i]);
            b.putShort(70, (short) datatype).putShort(72, (short) bitpix);
            for (int i = 0; i < 8; i++) b.putFloat(76 + 4 * i, pixdim[i]);
            b.putFloat(108, offset).putFloat(112, slope).putFloat(116, inter);
            byte[] m = (magic == null ? "n+1\0" : magic).getBytes();
            b.put(344, m, 0, Math.min(4, m.length));
        } else {
            byte[] m = magic == null ? new byte[] {'n', '+', '2', 0, '\r', '\n', 0x1a, '\n'} : magic.getBytes();
            b.put(4, m, 0, Math.min(8, m.length));
            b.putShort(12, (short) datatype).putShort(14, (short) bitpix);
            for (int i = 0; i < 8; i++) b.putLong(16 + 8 * i, dim[i]);
            for (int i = 0; i < 8; i++) b.putDouble(104 + 8 * i, pixdim[i]);
            b.putLong(168, offset).putDouble(176, slope).putDouble(184, inter);
        }
        if (extensionBytes > 0) {
            b.put(hdr, (byte) 1); // extension flag set, followed by an extension block we must skip
            b.putInt(hdr + 4, extensionBytes).putInt(hdr + 8, 6);
            for (int i = hdr + 12; i < offset; i++) b.put(i, (byte) 0x55);
        }
        b.put(offset, voxels);
        return b.array();
    }

    Path write(Path file) throws IOException {
        byte[] content = bytes();
        if (file.toString().endsWith(".gz")) content = gzip(content);
        Files.write(file, content);
        return file;
    }

    static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream bos = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bos)) {
            gz.write(content);
        }
        return bos.toByteArray();
    }
}
