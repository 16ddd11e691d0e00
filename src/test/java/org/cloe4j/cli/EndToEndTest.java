package org.cloe4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.cloe4j.api.Cloe;
import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiDatatype;
import org.cloe4j.data.NiftiHeader;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.NiftiWriter;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Volume;
import org.cloe4j.io.SafeTensors;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.ModelCheckpoint;
import org.cloe4j.train.Trainer;
import org.cloe4j.train.TrainingDivergedException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** The whole job on a small synthetic cohort: train, resume, evaluate, predict, and the bad inputs around them. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EndToEndTest {
    @TempDir
    static Path tmp;
    private Path data;
    private Path run;
    private Cohort cohort;

    /** Output of one in-process CLI call. */
    record Outcome(int code, String out, String err) {
    }

    static Outcome cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Outcome(code, out.toString(), err.toString());
    }

    @BeforeAll
    void cohortAndOneTrainedRun() {
        data = tmp.resolve("data");
        cohort = new PhantomGenerator(40, 40, 32, 3).writeCohort(data, 5, false);
        run = tmp.resolve("run");
        Outcome o = cli("train", "--data", data.toString(), "--out", run.toString(), "--epochs", "1", "--iters", "2",
                "--quiet", "--backend", "cpu");
        assertEquals(0, o.code(), o.err());
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/epoch-0001/model.safetensors")));
        assertTrue(Files.isRegularFile(run.resolve("train_log.csv")));
        assertTrue(Files.isRegularFile(run.resolve("loss_curves.png")));
    }

    private List<PreparedCase> trainCases() {
        return CaseLoader.load(cohort, CaseLoader.split(cohort, null).train(), tmp.resolve("cache"), false);
    }

    private static CloeConfig small(List<Modality> mods) {
        return CloeConfig.tiny(mods, 4).withArchitecture(4, 16).withTraining(2, 2, 3e-3f);
    }

    @Test
    void resumingFromACheckpointGivesTheSameWeightsAsAnUninterruptedRun() throws Exception {
        List<PreparedCase> cases = trainCases();
        CloeConfig cfg = small(CloeConfig.BRATS);
        Path straight = tmp.resolve("straight");
        Path resumed = tmp.resolve("resumed");
        PrintWriter quiet = new PrintWriter(new StringWriter());
        new Trainer(cfg, new CpuBackend(), cases, new Trainer.Options(straight, false, false, quiet)).run();
        new Trainer(cfg.withTraining(1, 2, 3e-3f), new CpuBackend(), cases, new Trainer.Options(resumed, false, false, quiet)).run();
        new Trainer(cfg, new CpuBackend(), cases, new Trainer.Options(resumed, true, false, quiet)).run();
        var a = SafeTensors.read(straight.resolve("checkpoints/epoch-0002/model.safetensors")).tensors();
        var b = SafeTensors.read(resumed.resolve("checkpoints/epoch-0002/model.safetensors")).tensors();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) assertArrayEquals(a.get(k).data(), b.get(k).data(), 0f, k + " differs after resume");
        var first = SafeTensors.read(resumed.resolve("checkpoints/epoch-0001/model.safetensors")).tensors();
        assertNotEquals(first.get("gate.fc1.weight").data()[0], b.get("gate.fc1.weight").data()[0],
                "the second epoch must have changed the weights");
    }

    @Test
    void aDivergingRunStopsNamingTheStepAndKeepsTheLastGoodCheckpoint() throws Exception {
        List<PreparedCase> cases = trainCases();
        Path dir = tmp.resolve("diverge");
        PrintWriter quiet = new PrintWriter(new StringWriter());
        CloeConfig cfg = small(CloeConfig.BRATS);
        new Trainer(cfg.withTraining(1, 2, 3e-3f), new CpuBackend(), cases, new Trainer.Options(dir, false, false, quiet)).run();
        byte[] before = Files.readAllBytes(dir.resolve("checkpoints/epoch-0001/model.safetensors"));
        // a NaN learning rate poisons every weight at the first update, so the next forward pass gives a NaN loss
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> new Trainer(
                cfg.withTraining(2, 2, Float.NaN), new CpuBackend(), cases, new Trainer.Options(dir, true, false, quiet)).run());
        assertTrue(e.getMessage().contains("step") && e.getMessage().contains("NaN"), e.getMessage());
        assertEquals("epoch-0001", ModelCheckpoint.latest(dir).getFileName().toString());
        assertArrayEquals(before, Files.readAllBytes(dir.resolve("checkpoints/epoch-0001/model.safetensors")));
    }

    @Test
    void aSecondTrainIntoTheSameRunFolderNeedsResume() {
        Outcome o = cli("train", "--data", data.toString(), "--out", run.toString(), "--epochs", "1", "--iters", "1", "--quiet");
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("--resume"), o.err());
    }

    /** A run folder holding a copy of the shared run's latest checkpoint, to resume with other settings. */
    private Path copyOfRun(String name) throws IOException {
        Path copy = tmp.resolve(name);
        Path ckpt = ModelCheckpoint.latest(run);
        Path dst = Files.createDirectories(copy.resolve("checkpoints").resolve(ckpt.getFileName()));
        try (var files = Files.list(ckpt)) {
            for (Path f : files.toList()) Files.copy(f, dst.resolve(f.getFileName()));
        }
        return copy;
    }

    @Test
    void resumingWithAnotherSegmentationLossIsRefusedNamingTheLossToResumeWith() throws Exception {
        Path copy = copyOfRun("loss-change");
        Outcome o = cli("train", "--data", data.toString(), "--out", copy.toString(), "--epochs", "2", "--iters", "1",
                "--quiet", "--resume", "--seg-loss", "rfnet", "--backend", "cpu");
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("--seg-loss ce-dice"), o.err());
        Outcome bad = cli("train", "--data", data.toString(), "--out", tmp.resolve("bad-loss").toString(), "--seg-loss", "dice");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--seg-loss"), bad.err());
    }

    @Test
    void resumingWithAnotherAugmentationIsRefusedNamingTheAugmentationToResumeWith() throws Exception {
        Path copy = copyOfRun("augmentation-change");
        Outcome o = cli("train", "--data", data.toString(), "--out", copy.toString(), "--epochs", "2", "--iters", "1",
                "--quiet", "--resume", "--augmentation", "rfnet", "--backend", "cpu");
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("--augmentation multisite"), o.err());
        Outcome bad = cli("train", "--data", data.toString(), "--out", tmp.resolve("bad-aug").toString(), "--augmentation", "heavy");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--augmentation"), bad.err());
    }

    @Test
    void resumingWithAnotherNormalisationIsRefusedNamingTheOneToResumeWith() throws Exception {
        Path copy = copyOfRun("normalisation-change");
        Outcome o = cli("train", "--data", data.toString(), "--out", copy.toString(), "--epochs", "2", "--iters", "1",
                "--quiet", "--resume", "--normalisation", "median", "--backend", "cpu");
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("--normalisation zscore"), o.err());
        Outcome bad = cli("train", "--data", data.toString(), "--out", tmp.resolve("bad-norm").toString(), "--normalisation", "minmax");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--normalisation") && bad.err().contains("minmax"), bad.err());
        // a median run reads median-normalised cases from their own cache sub-folder and records the choice
        Path medianRun = tmp.resolve("median-run");
        Outcome m = cli("train", "--data", data.toString(), "--out", medianRun.toString(), "--epochs", "1", "--iters", "1",
                "--quiet", "--normalisation", "median", "--flag-conditions", "none", "--backend", "cpu");
        assertEquals(0, m.code(), m.err());
        assertTrue(Files.isDirectory(data.resolve(".cloe4j-cache").resolve("median")), "median-normalised cache entries");
        assertEquals("median", ModelCheckpoint.readConfig(ModelCheckpoint.latest(medianRun)).normalisation());
    }

    @Test
    void evalWritesTheFifteenRowTableTheCsvAndTheChart() throws Exception {
        Path out = tmp.resolve("eval");
        Outcome o = cli("eval", "--model", run.toString(), "--data", data.toString(), "--split", "test", "--out",
                out.toString(), "--quiet", "--backend", "cpu");
        assertEquals(0, o.code(), o.err());
        List<String> csv = Files.readAllLines(out.resolve("table.csv"));
        assertEquals(1 + 15 + 1, csv.size(), "header, 15 masks, mean");
        assertTrue(csv.get(1).startsWith("T2,") && csv.get(15).startsWith("FLAIR+T1ce+T1+T2,") && csv.get(16).startsWith("mean,"));
        String md = Files.readString(out.resolve("table.md"));
        assertTrue(md.contains("Published results, BraTS 2020 (not comparable)") && md.contains("88.09"), md);
        byte[] png = Files.readAllBytes(out.resolve("dice_by_mask.png"));
        assertEquals((byte) 0x89, png[0]);
        assertEquals('P', png[1]);
        for (String line : csv.subList(1, csv.size())) {
            double wt = Double.parseDouble(line.split(",")[1]);
            assertTrue(wt >= 0 && wt <= 1, line);
        }
        // per case: the whole tumour also as nnU-Net's largest-component-only post-processing would leave it
        List<String> cases = Files.readAllLines(out.resolve("cases.csv"));
        assertTrue(cases.get(0).endsWith(",dice_WT_largest_component,hd95_WT_largest_component"), cases.get(0));
        for (String line : cases.subList(1, cases.size())) {
            String[] f = line.split(",");
            double largest = Double.parseDouble(f[f.length - 2]);
            assertTrue(largest >= 0 && largest <= 1, line);
        }
    }

    @Test
    void trainAndEvalSucceedWithAWarningWhenTheirChartCannotBeDrawn() {
        Path out = tmp.resolve("eval-nofonts"), runNoFonts = tmp.resolve("run-nofonts");
        Outcome[] o = new Outcome[2];
        String err = org.cloe4j.io.ChartsTest.withChartsFailing(() -> {
            o[0] = cli("train", "--data", data.toString(), "--out", runNoFonts.toString(), "--epochs", "1", "--iters", "1",
                    "--quiet", "--backend", "cpu");
            o[1] = cli("eval", "--model", run.toString(), "--data", data.toString(), "--split", "test", "--out",
                    out.toString(), "--quiet", "--backend", "cpu");
        });
        assertEquals(0, o[0].code(), o[0].err());
        assertEquals(0, o[1].code(), o[1].err());
        assertTrue(Files.isRegularFile(runNoFonts.resolve("train_log.csv")));
        assertTrue(Files.isRegularFile(out.resolve("table.csv")));
        assertTrue(!Files.exists(runNoFonts.resolve("loss_curves.png")) && !Files.exists(out.resolve("dice_by_mask.png")));
        assertTrue(err.contains("warning: chart") && err.contains("loss_curves.png") && err.contains("dice_by_mask.png"), err);
    }

    private Path caseFile(String id, String mod) {
        return data.resolve(id).resolve(id + "_" + mod + ".nii.gz");
    }

    @Test
    void predictWithTwoSequencesWritesALabelMapInTheInputGeometryAndAReport() throws Exception {
        String id = cohort.ids().get(0);
        Path seg = tmp.resolve("pred/seg.nii.gz");
        Path report = tmp.resolve("pred/r.json");
        Outcome o = cli("predict", "--model", run.toString(), "--flair", caseFile(id, "flair").toString(), "--t1ce",
                caseFile(id, "t1ce").toString(), "--out", seg.toString(), "--report", report.toString());
        assertEquals(0, o.code(), o.err());
        Volume in = NiftiReader.read(caseFile(id, "flair"));
        Volume out = NiftiReader.read(seg);
        assertEquals(List.of(in.nx(), in.ny(), in.nz()), List.of(out.nx(), out.ny(), out.nz()));
        assertArrayEquals(in.header().srow(), out.header().srow(), 1e-6, "label map must overlay its study");
        for (float v : out.data()) assertTrue(v == 0 || v == 1 || v == 2 || v == 4, "label " + v);
        JsonNode r = new ObjectMapper().readTree(report.toFile());
        assertEquals("FLAIR+T1ce", r.get("sequences").asText());
        assertEquals(2, r.get("modalities").size());
        double w = r.get("modalities").get(0).get("w").asDouble() + r.get("modalities").get(1).get("w").asDouble();
        assertEquals(1.0, w, 1e-5);
    }

    @Test
    void predictAndEvalRefuseAWindowThatIsNotAMultipleOf8NamingTheOption() {
        String id = cohort.ids().get(0);
        Path seg = tmp.resolve("badwindow/seg.nii.gz");
        Outcome o = cli("predict", "--model", run.toString(), "--flair", caseFile(id, "flair").toString(), "--window", "20",
                "--out", seg.toString());
        assertEquals(2, o.code(), o.err());
        assertTrue(o.err().contains("--window") && o.err().contains("20"), o.err());
        assertTrue(Files.notExists(seg), "no output may be left behind");
        Outcome e = cli("eval", "--model", run.toString(), "--data", data.toString(), "--window", "0x", "--out",
                tmp.resolve("badwindow/eval").toString());
        assertEquals(2, e.code(), e.err());
        assertTrue(e.err().contains("--window"), e.err());
    }

    @Test
    void predictWithoutAnySequenceFailsClearly() {
        Outcome o = cli("predict", "--model", run.toString(), "--out", tmp.resolve("x.nii.gz").toString());
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("no sequence given"), o.err());
    }

    @Test
    void predictWithSequencesOfDifferentShapesFailsNamingTheFile() throws Exception {
        String id = cohort.ids().get(0);
        Path odd = tmp.resolve("odd_t2.nii.gz");
        NiftiWriter.write(Volume.of(NiftiHeader.of(30, 40, 32, new double[]{1, 1, 1}, new double[]{0, 0, 0}), 30, 40, 32,
                new float[30 * 40 * 32]), odd, NiftiDatatype.INT16);
        Outcome o = cli("predict", "--model", run.toString(), "--flair", caseFile(id, "flair").toString(), "--t2",
                odd.toString(), "--out", tmp.resolve("y.nii.gz").toString());
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("odd_t2.nii.gz"), o.err());
        assertTrue(Files.notExists(tmp.resolve("y.nii.gz")), "no output may be left behind");
    }

    @Test
    void aTruncatedCheckpointIsRejectedNamingTheFile() throws Exception {
        Path copy = tmp.resolve("broken");
        Path src = run.resolve("checkpoints/epoch-0001");
        Files.createDirectories(copy);
        for (String f : List.of("config.json", "state.json", "optimizer.safetensors")) Files.copy(src.resolve(f), copy.resolve(f));
        byte[] model = Files.readAllBytes(src.resolve("model.safetensors"));
        Files.write(copy.resolve("model.safetensors"), java.util.Arrays.copyOf(model, model.length / 2));
        String id = cohort.ids().get(0);
        Outcome o = cli("predict", "--model", copy.toString(), "--flair", caseFile(id, "flair").toString(), "--out",
                tmp.resolve("z.nii.gz").toString());
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("model.safetensors") && o.err().contains("truncated"), o.err());
    }

    @Test
    void anUnwritableOutputFailsWithoutLeavingFiles() throws Exception {
        String id = cohort.ids().get(0);
        Path blocker = tmp.resolve("iamafile");
        Files.writeString(blocker, "x");
        Outcome o = cli("predict", "--model", run.toString(), "--flair", caseFile(id, "flair").toString(), "--out",
                blocker.resolve("seg.nii.gz").toString());
        assertNotEquals(0, o.code());
        assertTrue(o.err().contains("iamafile"), o.err());
    }

    @Test
    void theApiGivesTheSameResultFromManyThreadsAsSequentially() throws Exception {
        String id = cohort.ids().get(1);
        Map<Modality, Volume> study = new HashMap<>();
        for (Modality m : List.of(Modality.FLAIR, Modality.T1CE, Modality.T2)) study.put(m, NiftiReader.read(caseFile(id, m.name())));
        try (Cloe cloe = Cloe.load(run, new CpuBackend(), false)) {
            float[] sequential = cloe.segment(study).labels().data();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> fs = new ArrayList<>();
                for (int i = 0; i < 4; i++) fs.add(pool.submit(() -> cloe.segment(study).labels().data()));
                for (Future<float[]> f : fs) assertArrayEquals(sequential, f.get(), 0f);
            } finally {
                pool.shutdown();
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> cloe.segment(Map.of(Modality.ADC, study.get(Modality.T2))));
            assertTrue(e.getMessage().contains("adc"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> cloe.segment(Map.of()));
        }
    }
}
