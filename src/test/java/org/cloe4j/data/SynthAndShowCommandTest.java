package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.cloe4j.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code cloe synth} then {@code cloe show}, run in-process as a user would run them. */
class SynthAndShowCommandTest {

    @TempDir Path dir;

    private record Run(int exit, String out, String err) {}

    private static Run cloe(String... args) {
        CommandLine cl = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int exit = cl.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void synthWritesACohortThatShowDraws() throws IOException {
        Path cohort = dir.resolve("cohort");
        Run synth = cloe("synth", "--cases", "2", "--out", cohort.toString(), "--size", "40", "40", "32", "--seed", "9", "--quiet");
        assertEquals(0, synth.exit(), synth.err());
        assertTrue(Files.isRegularFile(cohort.resolve("Phantom_002/Phantom_002_t1ce.nii.gz")));
        assertTrue(Files.isRegularFile(cohort.resolve("split.json")));
        Volume flair = NiftiReader.read(cohort.resolve("Phantom_001/Phantom_001_flair.nii.gz"));
        assertEquals(40, flair.nx());
        assertEquals(32, flair.nz());

        Path png = dir.resolve("pictures/case.png");
        Run show = cloe("show", cohort.resolve("Phantom_001").toString(), "--out", png.toString());
        assertEquals(0, show.exit(), show.err());
        BufferedImage img = ImageIO.read(png.toFile());
        assertTrue(img.getWidth() > 500 && img.getHeight() > 900, img.getWidth() + "×" + img.getHeight());
        // the overlay row (last of five) shows oedema green and enhancing yellow
        int green = 0, yellow = 0;
        for (int y = img.getHeight() * 3 / 4; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y), r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
                if (g > r + 40 && g > b + 40) green++;
                if (r > b + 60 && g > b + 60) yellow++;
            }
        }
        assertTrue(green > 50 && yellow > 50, "overlay colours: green " + green + ", yellow " + yellow);
        try (Stream<Path> left = Files.list(png.getParent())) {
            assertEquals(1, left.count(), "only the PNG, no temporary file");
        }
    }

    @Test
    void showWithAnotherSegmentationOverlaysThatOne() throws IOException {
        Path cohort = dir.resolve("c");
        new PhantomGenerator(24, 24, 20, 1).writeCohort(cohort, 1, false);
        Path empty = dir.resolve("empty_seg.nii.gz");
        NiftiWriter.write(new Volume(TestVolumes.header(24, 24, 20).withDims(24, 24, 20, 1), new float[24 * 24 * 20], null),
                empty, NiftiDatatype.UINT8);
        Path png = dir.resolve("p.png");
        assertEquals(0, cloe("show", cohort.resolve("Phantom_001").toString(), "--seg", empty.toString(), "--out", png.toString()).exit());
        BufferedImage img = ImageIO.read(png.toFile());
        int coloured = 0;
        for (int y = 0; y < img.getHeight() - 50; y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int rgb = img.getRGB(x, y), r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
                if (Math.abs(r - g) > 30 || Math.abs(g - b) > 30) coloured++;
            }
        }
        assertEquals(0, coloured, "an empty segmentation colours nothing");
    }

    @Test
    void badInputGivesANonZeroExitAndAMessageNamingTheProblem() throws IOException {
        Files.createDirectories(dir.resolve("not-a-case"));
        Files.writeString(dir.resolve("not-a-case/x_flair.nii.gz"), "this is not gzip");
        Run show = cloe("show", dir.resolve("not-a-case").toString(), "--out", dir.resolve("x.png").toString());
        assertEquals(2, show.exit());
        assertTrue(show.err().contains("not-a-case") && show.err().contains("T1ce"), show.err());
        assertFalse(Files.exists(dir.resolve("x.png")));
        Run synth = cloe("synth", "--cases", "0", "--out", dir.resolve("o").toString());
        assertTrue(synth.exit() != 0, "zero cases is refused");
    }
}
