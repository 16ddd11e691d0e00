package org.cloe4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.cloe4j.data.NiftiDatatype;
import org.cloe4j.data.NiftiHeader;
import org.cloe4j.data.NiftiWriter;
import org.cloe4j.data.Volume;

/**
 * A study's failure is a row, never an exception, and is recorded like a success (row.json, atomically); no Spark
 * needed. The checkpoint here is deliberately broken, so only failures that are found before the model is needed
 * succeed in naming their own cause — and a broken checkpoint is itself reported per study.
 */
class StudyProcessorTest {
    @TempDir Path tmp;

    @Test
    void failuresBecomeRowsNamingTheCause() throws Exception {
        Path ckpt = Files.createDirectories(tmp.resolve("ckpt"));
        for (String f : ModelBlob.FILES) Files.writeString(ckpt.resolve(f), "not a checkpoint");
        ModelBlob blob = ModelBlob.read(ckpt);
        Path out = tmp.resolve("out");
        StudyProcessor.Settings s = new StudyProcessor.Settings(out.toString(), false, 500);

        Path flair = tmp.resolve("in/s1_flair.nii.gz");
        Map<String, Study.Source> seq = new LinkedHashMap<>();
        seq.put("flair", new Study.Source(tmp.resolve("in/nowhere_flair.nii.gz").toString(), 0));
        StudyRow missing = StudyProcessor.process(Study.of("s1", seq), blob, s);
        assertEquals(StudyRow.FAILED, missing.status());
        assertTrue(missing.error().contains("missing sequence FLAIR") && missing.error().contains("nowhere_flair"), missing.error());
        assertEquals("flair", missing.sequences());
        assertEquals(missing, StudyProcessor.readRow(out, "s1"), "the row on disk is the row returned");

        StudyRow broken = StudyProcessor.process(Study.broken("s2", Map.of(), "manifest line 3 names no sequence file"), blob, s);
        assertEquals("manifest line 3 names no sequence file", broken.error());

        Files.createDirectories(flair.getParent());
        Files.writeString(flair, "not an image");
        StudyRow corrupt = StudyProcessor.process(Study.of("s4", Map.of("flair", new Study.Source(flair.toString(), 0))), blob, s);
        assertTrue(corrupt.error().contains("s1_flair.nii.gz") && corrupt.error().contains("not a NIfTI"), corrupt.error());

        NiftiWriter.write(Volume.of(NiftiHeader.of(4, 4, 4, new double[] {1, 1, 1}, new double[] {0, 0, 0}), 4, 4, 4,
                new float[64]), flair, NiftiDatatype.FLOAT32);
        StudyRow noModel = StudyProcessor.process(Study.of("s3", Map.of("flair", new Study.Source(flair.toString(), 0))), blob, s);
        assertTrue(noModel.error().contains("checkpoint"), noModel.error());
        assertNull(noModel.wtMl());

        // an unsafe id is reported but never used as a path
        StudyRow unsafe = StudyProcessor.process(Study.broken("../x", Map.of(), "study id '../x' cannot name an output folder"), blob, s);
        assertFalse(unsafe.ok());
        assertFalse(Files.exists(tmp.resolve("x")));
        try (Stream<Path> f = Files.walk(out)) {
            assertEquals(List.of(), f.filter(p -> p.getFileName().toString().endsWith(".tmp")).toList());
        }
        assertEquals(0, StudyProcessor.removeStaleTemporaries(out));
        Files.writeString(StudyProcessor.studyDir(out, "s1").resolve(".s1_seg.nii.gz123.tmp"), "half a file");
        assertEquals(1, StudyProcessor.removeStaleTemporaries(out));
    }
}
