package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs as they come from elsewhere, written by nibabel: header/image pairs (NIfTI-1 and Analyze 7.5, plain and
 * gzip-compressed) and a cohort named the BraTS 2023–2024 way. Skipped with a message when nibabel is missing.
 */
class RealWorldInputsTest {

    @TempDir Path dir;

    private static void assumeNibabel() {
        assumeTrue(ExternalTools.pythonWithNibabel() != null, "python3 with nibabel not found" + ExternalTools.SETUP_HINT);
    }

    private static String py(Path p) {
        return "'" + p.toAbsolutePath().toString().replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    /** nibabel's affine of a file (12 numbers). */
    private static double[] nibabelAffine(Path file) throws IOException {
        String out = ExternalTools.python("import nibabel as nib; print(' '.join(repr(float(x)) for x in nib.load(%s).affine[:3].reshape(-1)))"
                .formatted(py(file)));
        return Arrays.stream(out.trim().split("\\s+")).mapToDouble(Double::parseDouble).toArray();
    }

    @Test
    void headerImagePairsReadEqualToTheNiftiFileOfTheSameImage() throws IOException {
        assumeNibabel();
        // one int16 image (7 × 5 × 4, values no formula of ours produces) saved five ways; the Analyze files get an
        // affine Analyze can hold (x flipped, SPM origin), the NIfTI ones an oblique permuted one
        ExternalTools.python("""
                import nibabel as nib, numpy as np
                rng = np.random.default_rng(7)
                raw = rng.integers(-300, 3000, size=(7, 5, 4)).astype('<i2')
                aff = np.array([[0, -1.5, 0, 3], [2, 0, 0, -4], [0, 0, 2.5, 5], [0, 0, 0, 1]])
                d = %s
                nib.save(nib.Nifti1Image(raw, aff), d + '/ref.nii')
                nib.save(nib.Nifti1Pair(raw, aff), d + '/pair.hdr')
                nib.save(nib.Nifti1Pair(raw.astype('>i2'), aff), d + '/zipped.img.gz')
                hdr = nib.Spm2AnalyzeHeader(); hdr.set_data_shape(raw.shape); hdr.set_zooms((2, 2, 3))
                origin = hdr['origin']; origin[:3] = [4, 3, 2]; hdr['origin'] = origin  # SPM's voxel at world 0, 1-based
                nib.save(nib.Spm2AnalyzeImage(raw, None, header=hdr), d + '/spm.hdr')
                big = nib.AnalyzeImage(raw, np.diag([-1.5, 1.5, 2, 1])).header.as_byteswapped('>')
                nib.save(nib.AnalyzeImage(raw, np.diag([-1.5, 1.5, 2, 1]), header=big), d + '/plain.img')
                """.formatted(py(dir)));
        Volume ref = NiftiReader.read(dir.resolve("ref.nii"));
        for (String name : List.of("pair.hdr", "pair.img", "zipped.hdr.gz", "zipped.img.gz", "spm.hdr", "plain.hdr", "plain.img")) {
            Path p = dir.resolve(name);
            Volume v = NiftiReader.read(p);
            assertEquals(List.of(7, 5, 4), List.of(v.nx(), v.ny(), v.nz()), name);
            assertArrayEquals(ref.data(), v.data(), 0, name + ": voxel values");
            // the affine nibabel gives the same file (for Analyze: its SPM reading, origin field or centre)
            assertArrayEquals(nibabelAffine(p), v.header().affine(), 1e-5, name + ": affine");
        }
        assertArrayEquals(ref.header().affine(), NiftiReader.read(dir.resolve("pair.hdr")).header().affine(), 1e-6);
        assertEquals(java.nio.ByteOrder.BIG_ENDIAN, NiftiReader.readHeader(dir.resolve("plain.hdr")).byteOrder());
        // SPM's origin (4, 3, 2) puts voxel (3, 2, 1) at world 0: x flipped, 2 × 2 × 3 mm
        assertArrayEquals(new double[] {-2, 0, 0, 6, 0, 2, 0, -4, 0, 0, 3, -3}, NiftiReader.read(dir.resolve("spm.hdr")).header().affine(), 0);
    }

    @Test
    void aHeaderWithoutItsImageOrAPairHeaderPassedAsNiiFailsNamingTheProblem() throws IOException {
        assumeNibabel();
        ExternalTools.python("""
                import nibabel as nib, numpy as np
                nib.save(nib.Nifti1Pair(np.ones((4, 4, 4), np.float32), np.eye(4)), %s)
                """.formatted(py(dir.resolve("lonely.hdr"))));
        Files.delete(dir.resolve("lonely.img"));
        DataException e = assertThrows(DataException.class, () -> NiftiReader.read(dir.resolve("lonely.hdr")));
        assertTrue(e.getMessage().contains("lonely.hdr") && e.getMessage().contains("lonely.img"), e.getMessage());
        // the header alone renamed to .nii: it says it is half of a pair
        Files.copy(dir.resolve("lonely.hdr"), dir.resolve("renamed.nii"));
        e = assertThrows(DataException.class, () -> NiftiReader.read(dir.resolve("renamed.nii")));
        assertTrue(e.getMessage().contains("ni1") && e.getMessage().contains("pair"), e.getMessage());
        // an image whose header is missing
        Files.write(dir.resolve("orphan.img"), new byte[256]);
        e = assertThrows(DataException.class, () -> NiftiReader.read(dir.resolve("orphan.img")));
        assertTrue(e.getMessage().contains("orphan.hdr"), e.getMessage());
    }

    /** Writes a BraTS 2023-named case with nibabel: each sequence a distinct constant inside a cube, seg 0..3. */
    private void brats2023Case(Path root, String id, boolean withT1c) throws IOException {
        ExternalTools.python("""
                import nibabel as nib, numpy as np, os
                d = os.path.join(%s, '%s'); os.makedirs(d, exist_ok=True)
                aff = np.array([[-1, 0, 0, 0], [0, -1, 0, 15], [0, 0, 1, 0], [0, 0, 0, 1]], float)
                for k, suffix in enumerate(['t2f', 't1c', 't1n', 't2w']):
                    if suffix == 't1c' and not %s: continue
                    img = np.zeros((16, 16, 12), np.int16); img[2:14, 2:14, 2:10] = 100 * (k + 1)
                    nib.save(nib.Nifti1Image(img, aff), os.path.join(d, '%s-' + suffix + '.nii.gz'))
                seg = np.zeros((16, 16, 12), np.uint8)
                seg[4:12, 4:12, 4:8] = 2; seg[6:10, 6:10, 5:7] = 1; seg[7, 7, 6] = 3
                nib.save(nib.Nifti1Image(seg, aff), os.path.join(d, '%s-seg.nii.gz'))
                """.formatted(py(root), id, withT1c ? "True" : "False", id, id));
    }

    @Test
    void aBrats2023NamedCohortReadsWithItsLabelConvention() throws IOException {
        assumeNibabel();
        Path root = dir.resolve("brats23");
        brats2023Case(root, "BraTS-GLI-00001-000", true);
        brats2023Case(root, "BraTS-GLI-00002-000", true);
        Cohort c = Cohort.open(root);
        assertEquals(Cohort.Layout.BRATS, c.layout());
        assertEquals(LabelScheme.BRATS_2023, c.labelScheme());
        assertEquals(Modality.BRATS, c.modalities());
        assertEquals(List.of("BraTS-GLI-00001-000", "BraTS-GLI-00002-000"), c.ids());
        CaseRecord r = c.get("BraTS-GLI-00001-000");
        assertTrue(r.images().get(Modality.FLAIR).file().getFileName().toString().endsWith("-t2f.nii.gz"));
        assertTrue(r.label().getFileName().toString().endsWith("-seg.nii.gz"));
        PreparedCase p = new Preprocessor(8, 1e-3).prepare(r);
        // the channels in BraTS order hold the files' constants 100 (t2f), 200 (t1c), 300 (t1n), 400 (t2w): after
        // z-scoring over the same mask they are equal, so check the raw order through the file each channel names
        assertEquals(Modality.T1CE, Cohort.brats2023Modality(r.images().get(Modality.T1CE).file()));
        assertEquals(Modality.T1, Cohort.brats2023Modality(r.images().get(Modality.T1).file()));
        assertEquals(Modality.T2, Cohort.brats2023Modality(r.images().get(Modality.T2).file()));
        assertEquals(400f, NiftiReader.read(r.images().get(Modality.T2).file()).at(7, 7, 6));
        // labels: 1 NETC, 2 SNFH, 3 ET are classes 1, 2, 3 (ET is 3 in the file, not 4)
        int[] count = new int[4];
        for (byte b : p.labels()) count[b]++;
        assertEquals(1, count[3]);
        assertEquals(4 * 4 * 2 - 1, count[1]);
        assertEquals(8 * 8 * 4 - 4 * 4 * 2, count[2]);
        // and written back in the 2023 convention
        assertEquals(3, LabelScheme.BRATS_2023.outputLabel(3));
        Volume back = LabelMaps.restore(p.labels(), p);
        assertEquals(3f, back.at(7, 7, 6));
    }

    @Test
    void bothNamingsMixInOneCohortAndAMissingSequenceIsNamedTheWayTheCaseIsNamed() throws IOException {
        assumeNibabel();
        Path root = dir.resolve("mixed");
        brats2023Case(root, "BraTS-GLI-00003-000", true);
        new PhantomGenerator(16, 16, 16, 1).writeCohort(dir.resolve("old"), 1, false);
        Files.move(dir.resolve("old/Phantom_001"), root.resolve("Phantom_001"));
        // its FLAIR as a header/image pair instead
        Path flair = root.resolve("Phantom_001/Phantom_001_flair.nii.gz");
        ExternalTools.python("import nibabel as nib; im = nib.load(%s); nib.save(nib.Nifti1Pair(im.dataobj, im.affine), %s)"
                .formatted(py(flair), py(root.resolve("Phantom_001/Phantom_001_flair.hdr"))));
        Volume flairVolume = NiftiReader.read(flair);
        Files.delete(flair);
        Cohort c = Cohort.open(root);
        assertTrue(c.get("Phantom_001").images().get(Modality.FLAIR).file().toString().endsWith("_flair.hdr"));
        assertArrayEquals(flairVolume.data(), NiftiReader.read(c.get("Phantom_001").images().get(Modality.FLAIR).file()).data(), 0);
        new Preprocessor(8, 1e-3).prepare(c.get("Phantom_001"));
        assertEquals(LabelScheme.BRATS, c.labelScheme());
        assertEquals(LabelScheme.BRATS_2023, c.get("BraTS-GLI-00003-000").scheme());
        assertEquals(LabelScheme.BRATS, c.get("Phantom_001").scheme());

        Path broken = dir.resolve("broken");
        brats2023Case(broken, "BraTS-GLI-00004-000", false);
        DataException e = assertThrows(DataException.class, () -> Cohort.open(broken));
        assertTrue(e.getMessage().contains("T1ce") && e.getMessage().contains("-t1c"), e.getMessage());
        assertNull(Cohort.brats2023Modality(Path.of("x_t1.nii.gz")));
    }
}
