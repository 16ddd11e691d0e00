package org.cloe4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.cloe4j.cli.Main;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.data.Volume;

/**
 * The cohort job on a real standalone cluster (a master and two workers, loopback only), submitted with the shaded
 * jar: twelve synthetic studies of which two are corrupt; a worker is SIGKILLed mid-job and the job re-run with the
 * same output. Expected: the ten good label maps equal {@code cloe predict}'s voxel for voxel (same CPU code, same
 * inputs: no tolerance), two failed rows naming their files, one row per study, no temporary file left, and the
 * re-run skipping what was finished. Runs in {@code verify} (failsafe), after the shaded jar is built.
 */
class SegmentCohortClusterIT {
    private static final int STUDIES = 12;

    @TempDir Path tmp;

    @Test
    void clusterRunKilledWorkerAndRerun() throws Exception {
        long t0 = System.nanoTime();
        Path cohort = tmp.resolve("cohort");
        assertEquals(0, cli("synth", "--cases", Integer.toString(STUDIES), "--out", cohort.toString(), "--size", "48", "48", "32", "--quiet"));
        // a throwaway checkpoint written by the real trainer: two steps of the tiny preset
        Path run = tmp.resolve("run");
        assertEquals(0, cli("train", "--data", cohort.toString(), "--cache", tmp.resolve("cache").toString(), "--preset", "tiny",
                "--epochs", "1", "--iters", "2", "--out", run.toString(), "--quiet", "--backend", "cpu"));

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < STUDIES; i++) ids.add(PhantomGenerator.caseId(i));
        String truncated = ids.get(3), garbage = ids.get(8);
        Path flair = cohort.resolve(truncated).resolve(truncated + "_flair.nii.gz");
        byte[] b = Files.readAllBytes(flair);
        Files.write(flair, java.util.Arrays.copyOf(b, b.length / 2));
        Path t1ce = cohort.resolve(garbage).resolve(garbage + "_t1ce.nii.gz");
        Files.writeString(t1ce, "this is not an image\n");

        // the reference: cloe predict, in this JVM, for each good study
        Map<String, Path> expected = new HashMap<>();
        for (String id : ids) {
            if (id.equals(truncated) || id.equals(garbage)) continue;
            Path d = cohort.resolve(id);
            Path seg = tmp.resolve("expected").resolve(id + ".nii.gz");
            assertEquals(0, cli("predict", "--model", run.toString(), "--backend", "cpu",
                    "--flair", d.resolve(id + "_flair.nii.gz").toString(), "--t1ce", d.resolve(id + "_t1ce.nii.gz").toString(),
                    "--t1", d.resolve(id + "_t1.nii.gz").toString(), "--t2", d.resolve(id + "_t2.nii.gz").toString(),
                    "--out", seg.toString()));
            expected.put(id, seg);
        }

        // the comparison below means something only if the model predicts tumour somewhere
        boolean anyTumour = false;
        for (Path seg : expected.values()) {
            for (float v : NiftiReader.read(seg).data()) anyTumour |= v != 0;
        }
        assertTrue(anyTumour, "the throwaway model predicts no tumour at all; the label comparison would be vacuous");
        phase("cohort, checkpoint and 10 reference predictions", t0);

        Path out = tmp.resolve("out");
        Path jar = Path.of(System.getProperty("cloe.spark.jar", "target/cloe4j-spark.jar"));
        Path cp = Path.of(System.getProperty("cloe.spark.classpath", "target/spark.classpath"));
        assertTrue(Files.isRegularFile(jar), "the shaded jar " + jar + " (built by mvn package)");
        List<String> conf = List.of("spark.ui.enabled=false", "spark.executor.memory=768m", "spark.executor.cores=1",
                "spark.driver.host=127.0.0.1", "spark.driver.bindAddress=127.0.0.1",
                "spark.executor.extraJavaOptions=-Dcloe.backend=cpu");
        List<String> app = List.of("segment-cohort", "--model", run.toString(), "--data", cohort.toString(),
                "--out", out.toString(), "--threads", "1");
        try (LocalSparkCluster cluster = new LocalSparkCluster(tmp.resolve("spark"), cp, jar.getParent().resolve("lib"))) {
            cluster.startMaster();
            Process w0 = cluster.startWorker(1, "1g");
            cluster.startWorker(1, "1g");
            phase("master and two workers up", t0);

            // run 1: SIGKILL worker 0 once two studies are finished
            Process d1 = cluster.submit("driver-1", jar, "org.cloe4j.cli.Main", conf, app);
            LocalSparkCluster.waitFor(Duration.ofSeconds(240), () -> rows(out) >= 2, d1, "two finished studies (see driver-1.log)");
            int doneAtKill = rows(out);
            cluster.kill9(w0);
            assertTrue(doneAtKill < STUDIES, "the worker was killed mid-job");
            assertTrue(d1.waitFor(300, TimeUnit.SECONDS), "run 1 ends after the worker's death");
            phase("run 1 ended (exit " + d1.exitValue() + "; " + doneAtKill + " studies finished at the kill)", t0);
            Map<String, FileTime> before = rowTimes(out);
            assertTrue(before.size() >= doneAtKill);

            // run 2: same --out, a fresh worker in place of the dead one
            cluster.startWorker(1, "1g");
            Process d2 = cluster.submit("driver-2", jar, "org.cloe4j.cli.Main", conf, app);
            assertTrue(d2.waitFor(300, TimeUnit.SECONDS), "run 2 finishes");
            String log2 = Files.readString(cluster.log("driver-2"));
            assertEquals(0, d2.exitValue(), "run 2's exit code; its log:\n" + log2);
            phase("run 2 finished", t0);

            // finished studies were skipped, not redone: their row files are untouched
            int okBefore = 0;
            for (var e : before.entrySet()) {
                StudyRow r = StudyProcessor.readRow(out, e.getKey());
                if (r.ok()) {
                    okBefore++;
                    assertEquals(e.getValue(), Files.getLastModifiedTime(StudyProcessor.rowFile(out, e.getKey())), e.getKey() + " redone");
                }
            }
            assertTrue(log2.contains(okBefore + " finished by an earlier run (skipped)"), log2);
        }

        // ten label maps equal to cloe predict's
        for (var e : expected.entrySet()) {
            Volume ours = NiftiReader.read(StudyProcessor.segFile(out, e.getKey()));
            Volume ref = NiftiReader.read(e.getValue());
            assertArrayEquals(ref.header().affine(), ours.header().affine(), 0.0, e.getKey() + " geometry");
            assertArrayEquals(ref.data(), ours.data(), 0f, e.getKey() + " labels");
        }
        // the table: one row per study, the two corrupt ones failed with their file named
        List<String> csv = Files.readAllLines(out.resolve("cohort.csv"));
        assertEquals(STUDIES + 1, csv.size(), String.join("\n", csv));
        Set<String> seen = new HashSet<>();
        int failed = 0;
        for (String line : csv.subList(1, csv.size())) {
            String id = line.substring(0, line.indexOf(','));
            assertTrue(seen.add(id), "duplicate row " + id);
            if (line.contains(",failed,")) {
                failed++;
                assertTrue(id.equals(truncated) || id.equals(garbage), "unexpected failure: " + line);
                assertTrue(line.contains(id + "_" + (id.equals(truncated) ? "flair" : "t1ce")), "the error names the file: " + line);
            }
        }
        assertEquals(Set.copyOf(ids), seen);
        assertEquals(2, failed);
        assertTrue(Files.isRegularFile(out.resolve("cohort.parquet").resolve("_SUCCESS")));
        List<Path> parts;
        try (Stream<Path> s = Files.list(out.resolve("cohort.parquet"))) {
            parts = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).toList();
        }
        assertEquals(1, parts.size(), "one Parquet part");
        byte[] pq = Files.readAllBytes(parts.get(0));
        String magic = new String(pq, 0, 4, java.nio.charset.StandardCharsets.ISO_8859_1)
                + new String(pq, pq.length - 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
        assertEquals("PAR1PAR1", magic, "a Parquet file");
        String footer = new String(pq, java.nio.charset.StandardCharsets.ISO_8859_1);
        for (String col : List.of("study_id", "wt_ml", "u_flair", "w_t2", "error")) assertTrue(footer.contains(col), "column " + col);
        // nothing partial, nothing twice
        try (Stream<Path> s = Files.walk(out)) {
            List<Path> stray = s.filter(p -> p.getFileName().toString().endsWith(".tmp")
                    || p.getFileName().toString().startsWith(".cohort")).toList();
            assertTrue(stray.isEmpty(), "left behind: " + stray);
        }
        for (String id : ids) {
            try (Stream<Path> s = Files.list(StudyProcessor.studyDir(out, id))) {
                List<String> names = s.map(p -> p.getFileName().toString()).sorted().toList();
                List<String> want = id.equals(truncated) || id.equals(garbage) ? List.of("row.json")
                        : List.of(id + "_reliability.json", id + "_seg.nii.gz", "row.json");
                assertEquals(want, names, id);
            }
        }
        assertFalse(sparkProcessesLeft(tmp.resolve("spark").toString()), "Spark processes left running");
    }

    private static void phase(String what, long t0) {
        System.out.printf("[%6.1f s] %s%n", (System.nanoTime() - t0) / 1e9, what);
    }

    private static int rows(Path out) {
        Path studies = out.resolve("studies");
        if (!Files.isDirectory(studies)) return 0;
        try (Stream<Path> s = Files.list(studies)) {
            return (int) s.filter(d -> Files.isRegularFile(d.resolve("row.json"))).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private static Map<String, FileTime> rowTimes(Path out) throws IOException {
        Map<String, FileTime> m = new HashMap<>();
        try (Stream<Path> s = Files.list(out.resolve("studies"))) {
            for (Path d : s.toList()) {
                Path r = d.resolve("row.json");
                if (Files.isRegularFile(r)) m.put(d.getFileName().toString(), Files.getLastModifiedTime(r));
            }
        }
        return m;
    }

    private static boolean sparkProcessesLeft(String marker) {
        return ProcessHandle.allProcesses().anyMatch(h -> h.info().commandLine().map(c -> c.contains(marker)).orElse(false));
    }

    private static int cli(String... args) {
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        if (rc != 0) System.err.println(err);
        return rc;
    }
}
