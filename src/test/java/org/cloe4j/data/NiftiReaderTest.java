package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The reader against files built byte by byte from the NIfTI standard's layout. */
class NiftiReaderTest {

    @TempDir Path dir;

    private static final double[] TWELVE = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

    @ParameterizedTest(name = "datatype {0}, {1}, {2}")
    @CsvSource({
        "2, LITTLE_ENDIAN, x.nii", "256, LITTLE_ENDIAN, x.nii", "4, LITTLE_ENDIAN, x.nii.gz", "4, BIG_ENDIAN, x.nii",
        "512, BIG_ENDIAN, x.nii.gz", "8, LITTLE_ENDIAN, x.nii", "8, BIG_ENDIAN, x.nii", "16, BIG_ENDIAN, x.nii.gz",
        "16, LITTLE_ENDIAN, x.nii", "64, LITTLE_ENDIAN, x.nii", "64, BIG_ENDIAN, x.nii.gz"})
    void everySupportedDatatypeAndByteOrderReadsTheSameValues(int type, String order, String name) throws IOException {
        HandMadeNifti f = new HandMadeNifti();
        f.order = order.equals("BIG_ENDIAN") ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        Volume v = NiftiReader.read(f.values(type, TWELVE).write(dir.resolve(name)));
        assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, v.data());
        assertEquals(2, v.nx());
        assertEquals(3, v.ny());
        assertEquals(2, v.nz());
        // x fastest: voxel (x=1, y=2, z=1) is at 1 + 2*2 + 1*6 = 11
        assertEquals(11f, v.at(1, 2, 1));
    }

    @Test
    void signedAndUnsignedTypesKeepTheirRange() throws IOException {
        HandMadeNifti u8 = new HandMadeNifti().values(2, 255, 128, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertEquals(255f, NiftiReader.read(u8.write(dir.resolve("u8.nii"))).data()[0]);
        HandMadeNifti i8 = new HandMadeNifti().values(256, -128, 127, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertEquals(-128f, NiftiReader.read(i8.write(dir.resolve("i8.nii"))).data()[0]);
        HandMadeNifti u16 = new HandMadeNifti().values(512, 65535, 40000, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        float[] d = NiftiReader.read(u16.write(dir.resolve("u16.nii"))).data();
        assertEquals(65535f, d[0]);
        assertEquals(40000f, d[1]);
        HandMadeNifti i16 = new HandMadeNifti().values(4, -32768, 32767, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertEquals(-32768f, NiftiReader.read(i16.write(dir.resolve("i16.nii"))).data()[0]);
    }

    @Test
    void scalingIsAppliedWhenTheSlopeIsNonZero() throws IOException {
        HandMadeNifti f = new HandMadeNifti();
        f.order = ByteOrder.BIG_ENDIAN;
        f.slope = 0.5f;
        f.inter = 10f;
        float[] d = NiftiReader.read(f.values(4, TWELVE).write(dir.resolve("s.nii"))).data();
        assertEquals(10f, d[0]);
        assertEquals(10.5f, d[1]);
        assertEquals(15.5f, d[11]);
    }

    @Test
    void aZeroSlopeMeansNoScaling() throws IOException {
        HandMadeNifti f = new HandMadeNifti();
        f.slope = 0;
        f.inter = 100; // ignored: the standard says slope 0 means unscaled
        assertEquals(7f, NiftiReader.read(f.values(4, TWELVE).write(dir.resolve("s.nii"))).data()[7]);
    }

    @Test
    void headerExtensionsAreSkippedThroughVoxOffset() throws IOException {
        HandMadeNifti f = new HandMadeNifti();
        f.extensionBytes = 32;
        Volume v = NiftiReader.read(f.values(16, TWELVE).write(dir.resolve("ext.nii.gz")));
        assertEquals(0f, v.data()[0]);
        assertEquals(11f, v.data()[11]);
    }

    @Test
    void niftiTwoFourDimensionalVolumesAreReadVolumeAfterVolume() throws IOException {
        HandMadeNifti f = new HandMadeNifti();
        f.version = 2;
        f.dim = new long[] {4, 2, 3, 1, 2, 1, 1, 1};
        f.pixdim = new float[] {1, 0.5f, 2, 3, 1, 1, 1, 1};
        f.order = ByteOrder.BIG_ENDIAN;
        Volume v = NiftiReader.read(f.values(64, TWELVE).write(dir.resolve("v2.nii.gz")));
        assertEquals(2, v.header().version());
        assertEquals(2, v.volumes());
        assertArrayEquals(new double[] {0.5, 2, 3}, v.spacing(), 1e-12);
        assertArrayEquals(new float[] {6, 7, 8, 9, 10, 11}, v.volume(1).data());
    }

    // ---- bad input: an exception that names the file and the problem

    private static DataException refused(Path file) {
        DataException e = assertThrows(DataException.class, () -> NiftiReader.read(file));
        assertTrue(e.getMessage().contains(file.getFileName().toString()), "message names the file: " + e.getMessage());
        return e;
    }

    @Test
    void wrongMagicIsRefused() throws IOException {
        HandMadeNifti f = new HandMadeNifti();
        f.magic = "xx1\0";
        assertTrue(refused(f.values(16, TWELVE).write(dir.resolve("m.nii"))).getMessage().contains("magic"));
    }

    @Test
    void aFileThatIsNoNiftiAtAllIsRefused() throws IOException {
        Path p = Files.writeString(dir.resolve("text.nii"), "hello, this is not an image, just some text of some length.");
        assertTrue(refused(p).getMessage().contains("not a NIfTI file"));
    }

    @Test
    void unknownDatatypeIsRefused() throws IOException {
        HandMadeNifti f = new HandMadeNifti().values(16, TWELVE);
        f.datatype = 32; // complex64
        assertTrue(refused(f.write(dir.resolve("c.nii"))).getMessage().contains("datatype code 32"));
    }

    @Test
    void truncatedUncompressedFileIsRefusedBeforeReading() throws IOException {
        byte[] full = new HandMadeNifti().values(16, TWELVE).bytes();
        Path p = Files.write(dir.resolve("t.nii"), Arrays.copyOf(full, full.length - 5));
        assertTrue(refused(p).getMessage().contains("promise 48 bytes"));
    }

    @Test
    void truncatedGzipIsRefused() throws IOException {
        byte[] gz = HandMadeNifti.gzip(new HandMadeNifti().values(16, TWELVE).bytes());
        Path p = Files.write(dir.resolve("t.nii.gz"), Arrays.copyOf(gz, gz.length - 12));
        String msg = refused(p).getMessage();
        assertTrue(msg.contains("truncated"), msg);
    }

    @Test
    void corruptGzipTrailerIsRefused() throws IOException {
        byte[] gz = HandMadeNifti.gzip(new HandMadeNifti().values(16, TWELVE).bytes());
        gz[gz.length - 6] ^= 0x5a; // CRC-32 of the data
        assertTrue(refused(Files.write(dir.resolve("crc.nii.gz"), gz)).getMessage().contains("corrupt"));
    }

    @Test
    void dimsBeyondTheMemoryLimitAreRefusedBeforeAllocating() throws IOException {
        HandMadeNifti f = new HandMadeNifti().values(4, TWELVE);
        f.dim = new long[] {3, 30000, 30000, 30000, 1, 1, 1, 1};
        Path p = f.write(dir.resolve("huge.nii.gz"));
        DataException e = assertThrows(DataException.class, () -> new NiftiReader(1 << 20).load(p));
        assertTrue(e.getMessage().contains("memory limit"), e.getMessage());
        assertTrue(e.getMessage().contains("huge.nii.gz"), e.getMessage());
    }

    @Test
    void dimsBeyondTheFileSizeAreRefused() throws IOException {
        HandMadeNifti f = new HandMadeNifti().values(4, TWELVE);
        f.dim = new long[] {3, 100, 100, 100, 1, 1, 1, 1};
        assertTrue(refused(f.write(dir.resolve("big.nii"))).getMessage().contains("promise 2000000 bytes"));
        assertTrue(refused(f.write(dir.resolve("big.nii.gz"))).getMessage().contains("truncated"));
    }

    @Test
    void nonPositiveDimensionIsRefused() throws IOException {
        HandMadeNifti f = new HandMadeNifti().values(4, TWELVE);
        f.dim = new long[] {3, 2, 0, 2, 1, 1, 1, 1};
        assertTrue(refused(f.write(dir.resolve("zero.nii"))).getMessage().contains("dim[2] is 0"));
    }

    @Test
    void missingFileIsNamed() {
        assertTrue(refused(dir.resolve("absent.nii.gz")).getMessage().contains("no such file"));
    }

    @Test
    void nanVoxelsAreRejectedForImagesWithTheirPosition() throws IOException {
        double[] v = TWELVE.clone();
        v[7] = Double.NaN; // x=1, y=0, z=1
        Volume vol = NiftiReader.read(new HandMadeNifti().values(16, v).write(dir.resolve("nan.nii")));
        DataException e = assertThrows(DataException.class, vol::requireFinite);
        assertTrue(e.getMessage().contains("nan.nii") && e.getMessage().contains("(1, 0, 1)"), e.getMessage());
    }
}
