package org.cloe4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.cloe4j.model.ModelCheckpoint;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.Modality;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.eval.ReliabilityThresholds;
import org.cloe4j.spark.ModelBlob;
import org.cloe4j.spark.Study;
import org.cloe4j.spark.StudyProcessor;
import org.cloe4j.spark.StudyRow;
import org.cloe4j.train.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/**
 * Training stores each sequence's validation agreement with the checkpoint; {@code cloe predict} flags a sequence below
 * it on stderr and in the report; {@code cloe corrupt} writes the corrupted case.
 */
class ReliabilityFlagTest {
    record Outcome(int code, String out, String err) {}

    static Outcome cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new Outcome(cl.execute(args), out.toString(), err.toString());
    }

    @Test
    void aSequenceBelowTheStoredLevelsIsFlagged(@TempDir Path tmp) throws Exception {
        Path data = tmp.resolve("data"), run = tmp.resolve("run");
        Cohort cohort = new PhantomGenerator(40, 40, 32, 3).writeCohort(data, 8, false); // 5 train, 2 val, 1 test
        Outcome t = cli("train", "--data", data.toString(), "--out", run.toString(), "--epochs", "1", "--iters", "1",
                "--quiet", "--backend", "cpu", "--flag-conditions", "bias:1.5,wrong-sequence"); // two to keep it short
        assertEquals(0, t.code(), t.err());
        Path ckpt = ModelCheckpoint.latest(run);
        ReliabilityThresholds calibrated = ReliabilityThresholds.read(ckpt);
        assertEquals(Modality.BRATS, calibrated.modalities(), "train calibrates on its validation case");
        assertEquals(2, calibrated.cases());
        for (double u : calibrated.meanU()) assertTrue(Double.isFinite(u) && u >= -1 && u <= 1, "u " + u);
        // and the relative rule, on the validation cases clean and with each default corruption on each sequence
        assertFalse(calibrated.needsRecalibration());
        assertEquals(java.util.List.of("bias 1.5", "wrong-sequence"), calibrated.relative().conditions());
        assertEquals(2, calibrated.relative().inSample().cleanStudies());
        assertEquals(2 * 2 * 4, calibrated.relative().inSample().corruptedStudies());
        assertEquals(0, calibrated.relative().inSample().cleanFlagged(), "no clean validation case is flagged in-sample");
        assertEquals(2, calibrated.relative().leaveOneOut().cleanStudies());
        assertTrue(Double.isFinite(calibrated.relative().thresholdU()) && Double.isFinite(calibrated.relative().thresholdW()));

        // the test case with T2 replaced by its FLAIR (the wrong sequence under T2's name)
        Path bad = tmp.resolve("bad");
        Outcome c = cli("corrupt", "--data", data.toString(), "--out", bad.toString(), "--sequence", "t2", "--kind",
                "wrong-sequence");
        assertEquals(0, c.code(), c.err());
        String id = CaseLoader.split(cohort, null).test().get(0);
        Path dir = bad.resolve(id);

        // absolute levels only (as an older reliability.json has them), set explicitly (a one-step model's agreements say nothing): T2 must agree at 0.9 ± 0.02, which a
        // cosine agreement of a wrong sequence cannot reach here; the others may go down to −1
        new ReliabilityThresholds(calibrated.modalities(), new double[] {-0.5, -0.5, -0.5, 2.0}, new double[4],
                new double[] {-1, -1, -1, -1}, new double[4], 1, 3, 0.02).write(ckpt);
        Path report = tmp.resolve("report.json");
        Outcome p = cli("predict", "--model", run.toString(), "--flair", dir.resolve(id + "_flair.nii.gz").toString(),
                "--t1ce", dir.resolve(id + "_t1ce.nii.gz").toString(), "--t1", dir.resolve(id + "_t1.nii.gz").toString(),
                "--t2", dir.resolve(id + "_t2.nii.gz").toString(), "--out", tmp.resolve("seg.nii.gz").toString(),
                "--report", report.toString(), "--backend", "cpu");
        assertEquals(0, p.code(), p.err());
        assertTrue(p.err().contains("WARNING") && p.err().contains("sequence t2 looks unreliable"), p.err());
        assertTrue(p.err().contains("has no relative reliability levels"), "levels without the relative rule: " + p.err());
        assertFalse(p.err().contains("sequence flair looks"), p.err());
        JsonNode r = new ObjectMapper().readTree(report.toFile());
        assertTrue(r.get("flag_rule").get("rule").asText().contains("has no relative levels"), r.get("flag_rule").toString());
        for (JsonNode m : r.get("modalities")) {
            assertEquals(m.get("name").asText().equals("t2"), m.get("flagged").asBoolean(), m.toString());
        }
        assertTrue(Files.isRegularFile(tmp.resolve("seg.nii.gz")), "the label map is still written");
        // the image checks: this file has no levels for them, yet FLAIR given as T2 is the same image under two names
        assertTrue(p.err().contains("WARNING: sequences flair and t2 look like the same image")
                && p.err().contains("r = 1.000"), p.err());
        assertTrue(p.err().contains("has no image-check levels"), p.err());
        assertFalse(r.get("image_check_rule").get("calibrated").asBoolean());
        for (JsonNode m : r.get("modalities")) {
            String name = m.get("name").asText();
            boolean twin = name.equals("flair") || name.equals("t2");
            assertEquals(twin, m.get("image_checks").get("flagged").asBoolean(), m.toString());
            if (twin) assertEquals("duplicate", m.get("image_checks").get("fired").get(0).asText(), m.toString());
        }

        // with the levels `cloe train` calibrated on its 2 validation and 5 training cases' images: T2 also correlates
        // unlike a T2 with T1ce and T1 (FLAIR's positive correlations where a T2's are negative); the sound T1 and T1ce
        // stay unflagged
        assertNotNull(calibrated.images(), "train calibrates the image checks");
        assertEquals(7, calibrated.images().cases(), "validation and training cases");
        calibrated.write(ckpt);
        Outcome q = predict(run, dir, id, tmp, report);
        assertEquals(0, q.code(), q.err());
        assertTrue(q.err().contains("WARNING: sequences flair and t2 look like the same image"), q.err());
        assertTrue(q.err().contains("WARNING: sequence t2 does not correlate with the others as t2 did on 7 clean cases of the cohort"), q.err());
        assertFalse(q.err().contains("has no image-check levels"), q.err());
        r = new ObjectMapper().readTree(report.toFile());
        assertTrue(r.get("image_check_rule").get("calibrated").asBoolean());
        for (JsonNode m : r.get("modalities")) {
            String name = m.get("name").asText();
            JsonNode ic = m.get("image_checks");
            assertEquals(name.equals("flair") || name.equals("t2"), ic.get("flagged").asBoolean(), m.toString());
            if (name.equals("t2")) assertEquals("[\"duplicate\",\"correlation\"]", ic.get("fired").toString());
            assertEquals(3, ic.get("correlation").size(), "one entry per other sequence");
        }

        // FLAIR under noise of σ = the mean head intensity: the noise check names it
        Path noisy = tmp.resolve("noisy");
        assertEquals(0, cli("corrupt", "--data", data.toString(), "--out", noisy.toString(), "--sequence", "flair",
                "--kind", "noise", "--strength", "1.0").code());
        Outcome n = predict(run, noisy.resolve(id), id, tmp, report);
        assertEquals(0, n.code(), n.err());
        assertTrue(n.err().contains("WARNING: sequence flair looks noisy"), n.err());
        assertFalse(n.err().contains("sequence t1 looks noisy") || n.err().contains("sequence t2 looks noisy")
                || n.err().contains("sequence t1ce looks noisy"), n.err());
        r = new ObjectMapper().readTree(report.toFile());
        for (JsonNode m : r.get("modalities")) {
            boolean isFlair = m.get("name").asText().equals("flair");
            assertEquals(isFlair, m.get("image_checks").get("fired").toString().contains("noise"), m.toString());
            if (isFlair) assertTrue(m.get("image_checks").get("noise").asDouble() > m.get("image_checks").get("noise_level").asDouble());
        }
        // restore the absolute-only levels for the row below
        new ReliabilityThresholds(calibrated.modalities(), new double[] {-0.5, -0.5, -0.5, 2.0}, new double[4],
                new double[] {-1, -1, -1, -1}, new double[4], 1, 3, 0.02).write(ckpt);

        // segment-cohort's row flags the same sequence
        java.util.LinkedHashMap<String, Study.Source> seqs = new java.util.LinkedHashMap<>();
        for (String m : new String[] {"flair", "t1ce", "t1", "t2"}) seqs.put(m, new Study.Source(dir.resolve(id + "_" + m + ".nii.gz").toString(), 0));
        StudyRow row = StudyProcessor.process(new Study(id, seqs, null), ModelBlob.read(ckpt),
                new StudyProcessor.Settings(tmp.resolve("cohort").toString(), false, 0));
        assertTrue(row.ok(), row.error());
        assertTrue(row.flags().contains("unreliable:t2") && !row.flags().contains("unreliable:flair"), row.flags());
        assertTrue(row.flags().contains("duplicate:flair+t2"), row.flags());

        // calibrate --image-checks-only adds the image checks to the file there is and keeps its agreement levels
        Outcome ic = cli("calibrate", "--model", run.toString(), "--data", data.toString(), "--image-checks-only");
        assertEquals(0, ic.code(), ic.err());
        ReliabilityThresholds added = ReliabilityThresholds.read(ckpt);
        assertEquals(7, added.images().cases());
        assertEquals(2.0, added.meanU()[3], 0, "the agreement levels written above are kept");
        assertTrue(ic.out().contains("image-check levels from 7 clean cases"), ic.out());
        // and refuses a checkpoint without a reliability.json, naming it, with exit code 2
        Path bare = tmp.resolve("bare");
        Files.createDirectories(bare);
        try (var files = Files.list(ckpt)) {
            for (Path f : files.toList()) {
                if (!f.getFileName().toString().equals(ReliabilityThresholds.FILE)) Files.copy(f, bare.resolve(f.getFileName()));
            }
        }
        Outcome none = cli("calibrate", "--model", bare.toString(), "--data", data.toString(), "--image-checks-only");
        assertEquals(2, none.code(), none.out());
        assertTrue(none.err().contains("has no " + ReliabilityThresholds.FILE + " to add the image checks to"), none.err());
    }

    private static Outcome predict(Path run, Path dir, String id, Path tmp, Path report) {
        return cli("predict", "--model", run.toString(), "--flair", dir.resolve(id + "_flair.nii.gz").toString(),
                "--t1ce", dir.resolve(id + "_t1ce.nii.gz").toString(), "--t1", dir.resolve(id + "_t1.nii.gz").toString(),
                "--t2", dir.resolve(id + "_t2.nii.gz").toString(), "--out", tmp.resolve("seg.nii.gz").toString(),
                "--report", report.toString(), "--backend", "cpu");
    }
}
