package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.cloe4j.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code cloe synth --anatomy}: phantoms on the anatomy's own grid and affine, or on the grid {@code --size} asks for. */
class SynthOnAnatomyGridTest {

    @TempDir Path dir;

    private static int synth(String... args) {
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(new StringWriter(), true));
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        assertEquals(0, code, err.toString());
        return code;
    }

    @Test
    void phantomsOfAnAnatomyLieOnItsGridUnlessSizeAsksForAnother() throws IOException {
        assumeTrue(Files.isRegularFile(ExternalTools.COLIN27), ExternalTools.COLIN27 + " not found" + ExternalTools.SETUP_HINT);
        Path own = dir.resolve("own");
        synth("synth", "--cases", "1", "--out", own.toString(), "--anatomy", ExternalTools.COLIN27.toString(), "--quiet");
        Path flair = own.resolve("Phantom_001/Phantom_001_flair.nii.gz");
        Path seg = own.resolve("Phantom_001/Phantom_001_seg.nii.gz");
        NiftiHeader colin = NiftiReader.readHeader(ExternalTools.COLIN27);
        for (Path p : List.of(flair, seg)) {
            NiftiHeader h = NiftiReader.readHeader(p);
            assertEquals(List.of(colin.nx(), colin.ny(), colin.nz()), List.of(h.nx(), h.ny(), h.nz()), p.toString());
            assertArrayEquals(colin.affine(), h.affine(), 1e-5, p + ": affine");
        }
        // the phantom's brain is Colin's brain, voxel for voxel: every non-zero FLAIR voxel is inside Colin's brain
        Volume anatomy = NiftiReader.read(ExternalTools.COLIN27), image = NiftiReader.read(flair);
        int inside = 0, brain = 0;
        for (int i = 0; i < anatomy.voxels(); i++) {
            if (anatomy.data()[i] > 0) brain++;
            if (image.data()[i] != 0) {
                assertTrue(anatomy.data()[i] > 0, "phantom voxel " + i + " lies outside the anatomy's brain");
                inside++;
            }
        }
        assertTrue(inside > 0.9 * brain, inside + " of " + brain + " brain voxels have signal");
        if (ExternalTools.pythonWithNibabel() != null) { // and nibabel agrees on the geometry
            String out = ExternalTools.python("""
                    import nibabel as nib, numpy as np
                    a, b = nib.load('%s'), nib.load('%s')
                    print(int(a.shape == b.shape and np.allclose(a.affine, b.affine, atol=1e-5)))
                    """.formatted(ExternalTools.COLIN27, flair.toAbsolutePath()));
            assertEquals("1", out.strip());
        }

        Path sized = dir.resolve("sized");
        synth("synth", "--cases", "1", "--out", sized.toString(), "--anatomy", ExternalTools.COLIN27.toString(),
                "--size", "48", "56", "40", "--quiet");
        NiftiHeader h = NiftiReader.readHeader(sized.resolve("Phantom_001/Phantom_001_t1.nii.gz"));
        assertEquals(List.of(48, 56, 40), List.of(h.nx(), h.ny(), h.nz()));
        assertArrayEquals(new double[] {1, 1, 1}, h.spacing(), 0);
        assertTrue(Arrays.equals(new double[] {1, 0, 0}, Arrays.copyOfRange(h.affine(), 0, 3)));
    }
}
