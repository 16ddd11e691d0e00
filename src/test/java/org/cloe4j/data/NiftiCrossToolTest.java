package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Checks against other tools: nibabel's own test files read by us and compared with what nibabel reads, files we
 * write read back by nibabel, and nifti_tool's header check. Skipped with a message when the tools are absent.
 */
class NiftiCrossToolTest {

    @TempDir Path dir;

    private static void assumeNibabel() {
        assumeTrue(ExternalTools.pythonWithNibabel() != null, "python3 with nibabel not found" + ExternalTools.SETUP_HINT);
    }

    /** nibabel's view of a file: shape, then the affine (12 numbers), then sum, min, max and 5 sample voxels. */
    private static double[] nibabelSummary(Path file) throws IOException {
        String out = ExternalTools.python("""
                import nibabel as nib, numpy as np, sys
                im = nib.load(%s)
                d = np.asarray(im.dataobj, dtype=np.float64).reshape(-1, order='F')
                idx = np.linspace(0, d.size - 1, 5).astype(int)
                vals = list(im.shape) + [0]*(4-len(im.shape)) + list(im.affine[:3].reshape(-1)) + [d.sum(), d.min(), d.max()] \
                    + list(idx) + list(d[idx])
                print(' '.join(repr(float(v)) for v in vals))
                """.formatted(pyString(file)));
        return Arrays.stream(out.trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
    }

    private static String pyString(Path p) {
        return "'" + p.toAbsolutePath().toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"anatomical.nii", "functional.nii", "example4d.nii.gz", "example_nifti2.nii.gz",
        "standard.nii.gz", "reoriented_anat_moved.nii"})
    void nibabelTestFilesReadAsNibabelReadsThem(String name) throws IOException {
        Path file = ExternalTools.NIBABEL_DATA.resolve(name);
        assumeTrue(Files.isRegularFile(file), file + " not found" + ExternalTools.SETUP_HINT);
        assumeNibabel();
        double[] ref = nibabelSummary(file);
        Volume v = NiftiReader.read(file);
        assertEquals((int) ref[0], v.nx());
        assertEquals((int) ref[1], v.ny());
        assertEquals((int) ref[2], v.nz());
        assertEquals(Math.max(1, (int) ref[3]), v.volumes());
        assertArrayEquals(Arrays.copyOfRange(ref, 4, 16), v.header().affine(), 1e-4, "affine");
        double sum = 0, min = Double.POSITIVE_INFINITY, max = Double.NEGATIVE_INFINITY;
        for (float x : v.data()) {
            sum += x;
            min = Math.min(min, x);
            max = Math.max(max, x);
        }
        // float32 values vs nibabel's float64: relative 1e-5 on each voxel, so the sum within 1e-5 of the sum of |x|
        assertEquals(ref[17], min, 1e-5 * Math.abs(ref[17]) + 1e-6, "min");
        assertEquals(ref[18], max, 1e-5 * Math.abs(ref[18]) + 1e-6, "max");
        assertEquals(ref[16], sum, 1e-5 * v.data().length * Math.max(Math.abs(ref[17]), Math.abs(ref[18])), "sum");
        for (int i = 0; i < 5; i++) {
            float got = v.data()[(int) ref[19 + i]];
            assertEquals(ref[24 + i], got, 1e-5 * Math.abs(ref[24 + i]) + 1e-6, "voxel " + (long) ref[19 + i]);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Nifti1Image >i2 0.5 -3 .nii", "Nifti2Image >f8 2 1 .nii.gz", "Nifti2Image <u2 1.5 0 .nii",
        "Nifti1Image <i1 1 0 .nii.gz", "Nifti1Image >i4 0.25 100 .nii.gz", "Nifti1Image <u1 1 0 .nii"})
    void filesNibabelWritesWithScalingAndEitherByteOrderReadTheSame(String spec) throws IOException {
        assumeNibabel();
        String[] f = spec.split(" "); // image class, numpy dtype (byte order first), slope, intercept, file ending
        Path p = dir.resolve("nib" + f[4]);
        // a 4D image (5 × 4 × 3 × 2) of small integers stored in the given type with the given scaling
        ExternalTools.python("""
                import nibabel as nib, numpy as np
                raw = (np.arange(120).reshape((5, 4, 3, 2), order='F') %% 50).astype('%1$s')
                aff = np.array([[0, -1.5, 0, 3], [2, 0, 0, -4], [0, 0, 2.5, 5], [0, 0, 0, 1]])
                hdr = nib.%2$s(raw, aff).header.as_byteswapped('%1$s'[0])
                img = nib.%2$s(raw, aff, header=hdr)
                img.header.set_data_dtype('%1$s')
                img.header.set_slope_inter(%3$s, %4$s)
                img.set_qform(aff, 1)
                img.set_sform(aff, 2)
                nib.save(img, %5$s)
                """.formatted(f[1], f[0], f[2], f[3], pyString(p)));
        double[] ref = nibabelSummary(p);
        Volume v = NiftiReader.read(p);
        assertEquals(f[0].equals("Nifti2Image") ? 2 : 1, v.header().version());
        assertEquals(2, v.volumes());
        assertEquals(f[1].charAt(0) == '>' ? java.nio.ByteOrder.BIG_ENDIAN : java.nio.ByteOrder.LITTLE_ENDIAN,
                v.header().byteOrder());
        assertArrayEquals(Arrays.copyOfRange(ref, 4, 16), v.header().affine(), 1e-6, "affine");
        double sum = 0;
        for (float x : v.data()) sum += x;
        assertEquals(ref[16], sum, 1e-3, "sum of the scaled values");
        for (int i = 0; i < 5; i++) assertEquals(ref[24 + i], v.data()[(int) ref[19 + i]], 1e-4, "voxel " + (long) ref[19 + i]);
    }

    @Test
    void bigEndianAndScaledFilesAreAmongThoseChecked() throws IOException {
        Path anatomical = ExternalTools.NIBABEL_DATA.resolve("anatomical.nii");
        Path functional = ExternalTools.NIBABEL_DATA.resolve("functional.nii");
        assumeTrue(Files.isRegularFile(anatomical) && Files.isRegularFile(functional),
                "nibabel test files not found" + ExternalTools.SETUP_HINT);
        assertEquals(java.nio.ByteOrder.BIG_ENDIAN, NiftiReader.readHeader(anatomical).byteOrder());
        assertTrue(NiftiReader.readHeader(functional).hasScaling());
        assertEquals(2, NiftiReader.readHeader(ExternalTools.NIBABEL_DATA.resolve("example_nifti2.nii.gz")).version());
    }

    @Test
    void nibabelReadsWhatWeWriteWithTheSameValuesAndAffine() throws IOException {
        assumeNibabel();
        for (String name : List.of("ours.nii", "ours.nii.gz")) {
            Path p = dir.resolve(name);
            NiftiWriter.write(new Volume(NiftiWriterTest.obliqueHeader(), NiftiWriterTest.ramp(24), null), p,
                    NiftiDatatype.INT16);
            double[] ref = nibabelSummary(p);
            assertArrayEquals(new double[] {4, 3, 2, 0}, Arrays.copyOf(ref, 4));
            assertArrayEquals(NiftiWriterTest.obliqueHeader().affine(), Arrays.copyOfRange(ref, 4, 16), 1e-5);
            double sum = 0;
            for (float x : NiftiWriterTest.ramp(24)) sum += x;
            assertEquals(sum, ref[16], 0);
            // nibabel's qform affine too: the sform and qform we write must both be what the header said
            String q = ExternalTools.python(
                    "import nibabel as nib; print(' '.join(repr(float(x)) for x in nib.load(%s).get_qform()[:3].reshape(-1)))"
                            .formatted(pyString(p)));
            double[] qform = Arrays.stream(q.trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
            assertArrayEquals(new double[] {0, -2, 0, 10, 1.5, 0, 0, -20, 0, 0, -2.5, 30}, qform, 1e-5, "qform");
        }
    }

    @Test
    void niftiToolAcceptsTheHeadersWeWrite() throws IOException {
        assumeTrue(ExternalTools.hasNiftiTool(), "nifti_tool not found" + ExternalTools.SETUP_HINT);
        for (String name : List.of("ours.nii", "ours.nii.gz")) {
            Path p = dir.resolve(name);
            NiftiWriter.write(new Volume(NiftiWriterTest.obliqueHeader(), NiftiWriterTest.ramp(24), null), p,
                    NiftiDatatype.FLOAT32);
            ExternalTools.Result r = ExternalTools.run(List.of("nifti_tool", "-check_hdr", "-infiles", p.toString()));
            assertTrue(r.output().contains("header IS GOOD"), r.output());
        }
    }

    @Test
    void aNiftiTwoStudyWrittenBackAsNiftiOneKeepsItsGeometryAndValues() throws IOException {
        Path source = ExternalTools.NIBABEL_DATA.resolve("example_nifti2.nii.gz");
        assumeTrue(Files.isRegularFile(source), source + " not found" + ExternalTools.SETUP_HINT);
        Volume study = NiftiReader.read(source).volume(1);
        Path out = dir.resolve("from_nifti2.nii.gz");
        NiftiWriter.write(study, out, NiftiDatatype.FLOAT32);
        Volume back = NiftiReader.read(out);
        assertEquals(1, back.header().version());
        assertArrayEquals(study.header().affine(), back.header().affine(), 1e-5);
        assertArrayEquals(study.data(), back.data());
        if (ExternalTools.hasNiftiTool()) {
            ExternalTools.Result r = ExternalTools.run(List.of("nifti_tool", "-check_hdr", "-infiles", out.toString()));
            assertTrue(r.output().contains("header IS GOOD"), r.output());
        }
    }

    @Test
    void niftiToolRejectsABrokenHeaderSoItsVerdictMeansSomething() throws IOException {
        assumeTrue(ExternalTools.hasNiftiTool(), "nifti_tool not found" + ExternalTools.SETUP_HINT);
        HandMadeNifti f = new HandMadeNifti().values(16, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
        f.dim = new long[] {9, 2, 3, 2, 1, 1, 1, 1};
        Path p = Files.write(dir.resolve("broken.nii"), f.bytes());
        ExternalTools.Result r = ExternalTools.run(List.of("nifti_tool", "-check_hdr", "-infiles", p.toString()));
        assertTrue(!r.output().contains("header IS GOOD"), r.output());
    }
}
