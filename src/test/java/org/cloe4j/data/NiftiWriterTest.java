package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The writer: byte layout, geometry carried over, round trips, atomicity. */
class NiftiWriterTest {

    @TempDir Path dir;

    /** A header with a rotated qform (90° about z: quatern_d = sin 45°), qfac −1 and a different sform. */
    static NiftiHeader obliqueHeader() {
        double s = Math.sqrt(0.5);
        long[] dim = {3, 4, 3, 2, 1, 1, 1, 1};
        double[] pixdim = {-1, 1.5, 2, 2.5, 0, 0, 0, 0};
        double[] srow = {0, -2, 0, 10, 1.5, 0, 0, -20, 0, 0, 2.5, 30};
        return new NiftiHeader(1, ByteOrder.LITTLE_ENDIAN, dim, 16, pixdim, 352, 1, 0, NiftiHeader.UNITS_MM_SEC, 1, 2,
                new double[] {0, 0, s}, new double[] {10, -20, 30}, srow, 0, "oblique");
    }

    static float[] ramp(int n) {
        float[] d = new float[n];
        for (int i = 0; i < n; i++) d[i] = i * 3 - 7;
        return d;
    }

    @Test
    void headerBytesFollowTheStandardLayout() throws IOException {
        Path p = dir.resolve("h.nii");
        NiftiWriter.write(new Volume(obliqueHeader(), ramp(24), null), p, NiftiDatatype.INT16);
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(348, b.getInt(0));
        assertEquals(4, b.getShort(42)); // dim[1]
        assertEquals(4, b.getShort(70)); // int16
        assertEquals(16, b.getShort(72));
        assertEquals(352f, b.getFloat(108));
        assertEquals(-1f, b.getFloat(76)); // qfac
        assertEquals(1, b.getShort(252));
        assertEquals(2, b.getShort(254));
        assertEquals(10f, b.getFloat(280 + 12)); // srow_x[3]
        assertEquals('n', b.get(344));
        assertEquals('+', b.get(345));
        assertEquals('1', b.get(346));
        assertEquals(352 + 24 * 2, b.capacity());
        assertEquals(-7, b.getShort(352));
        assertEquals(-7 + 3 * 23, b.getShort(352 + 46));
    }

    @Test
    void roundTripKeepsValuesAndGeometryForEveryWrittenType() {
        for (NiftiDatatype t : List.of(NiftiDatatype.INT16, NiftiDatatype.INT32, NiftiDatatype.FLOAT32, NiftiDatatype.FLOAT64)) {
            for (String name : List.of("r.nii", "r.nii.gz")) {
                Path p = dir.resolve(t + name);
                NiftiWriter.write(new Volume(obliqueHeader(), ramp(24), null), p, t);
                Volume back = NiftiReader.read(p);
                assertArrayEquals(ramp(24), back.data(), t + " " + name);
                assertArrayEquals(obliqueHeader().affine(), back.header().affine(), 1e-6);
                assertArrayEquals(obliqueHeader().pixdim(), back.header().pixdim(), 1e-6);
                assertArrayEquals(obliqueHeader().quatern(), back.header().quatern(), 1e-6);
                assertEquals(NiftiHeader.UNITS_MM_SEC, back.header().xyztUnits());
                assertEquals("oblique", back.header().descrip());
            }
        }
    }

    @Test
    void qformAffineIsTheRotationScaledBySpacingWithQfac() {
        NiftiHeader h = obliqueHeader();
        NiftiHeader qOnly = new NiftiHeader(1, null, h.dim(), 16, h.pixdim(), 352, 1, 0, 10, 1, 0, h.quatern(),
                h.qoffset(), h.srow(), 0, "");
        // 90° about z maps i to +y and j to -x; k is flipped by qfac = -1
        double[] expected = {0, -2, 0, 10, 1.5, 0, 0, -20, 0, 0, -2.5, 30};
        assertArrayEquals(expected, qOnly.affine(), 1e-9);
    }

    @Test
    void valuesAnIntegerTypeCannotHoldAreRefusedAndNothingIsLeftBehind() throws IOException {
        Path p = dir.resolve("keep.nii.gz");
        NiftiWriter.write(new Volume(obliqueHeader(), ramp(24), null), p, NiftiDatatype.INT16);
        byte[] before = Files.readAllBytes(p);
        float[] bad = ramp(24);
        bad[20] = 40000;
        DataException e = assertThrows(DataException.class,
                () -> NiftiWriter.write(new Volume(obliqueHeader(), bad, null), p, NiftiDatatype.INT16));
        assertTrue(e.getMessage().contains("keep.nii.gz") && e.getMessage().contains("40000"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(p), "the previous file is untouched");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of(p), files.toList(), "no temporary file is left");
        }
    }

    @Test
    void nanCannotBeWrittenAsAnInteger() {
        float[] bad = ramp(24);
        bad[0] = Float.NaN;
        assertThrows(DataException.class,
                () -> NiftiWriter.write(new Volume(obliqueHeader(), bad, null), dir.resolve("n.nii"), NiftiDatatype.UINT8));
        assertTrue(Files.notExists(dir.resolve("n.nii")));
    }
}
