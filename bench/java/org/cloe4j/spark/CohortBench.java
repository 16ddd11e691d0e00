package org.cloe4j.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

import org.cloe4j.cli.Main;
import org.cloe4j.data.PhantomGenerator;

/**
 * Throughput of cohort segmentation, end to end (JVM and Spark start-up included), in studies per hour:
 * {@code cloe predict} once per study in a loop (a fresh JVM each, as a shell loop runs it) against
 * {@code cloe segment-cohort} in local mode, and on a loopback standalone cluster with one and with two one-core
 * workers. Run by scripts/bench-cohort; arguments: STUDIES PRESET SIZE_X SIZE_Y SIZE_Z WORKDIR.
 */
public final class CohortBench {
    private CohortBench() {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        String preset = args[1];
        String[] size = {args[2], args[3], args[4]};
        Path work = Path.of(args[5]).toAbsolutePath();
        Path root = Path.of("").toAbsolutePath();
        Path cloe = root.resolve("scripts/cloe");
        Path jar = root.resolve("target/cloe4j-spark.jar");
        Files.createDirectories(work);
        Path cohort = work.resolve("cohort");
        Path run = work.resolve("run");
        if (!Files.isDirectory(cohort)) {
            cli("synth", "--cases", Integer.toString(n), "--out", cohort.toString(), "--size", size[0], size[1], size[2], "--quiet");
        }
        if (!Files.isDirectory(run)) {
            // a checkpoint of the chosen architecture, written by the trainer (one short epoch: speed does not depend
            // on the weights)
            cli("train", "--data", cohort.toString(), "--preset", preset, "--epochs", "1", "--iters", "1",
                    "--out", run.toString(), "--quiet", "--backend", "cpu");
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) ids.add(PhantomGenerator.caseId(i));
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "cohort: %d studies of %sx%sx%s voxels, preset %s, %d cores, load average at start %.1f",
                n, size[0], size[1], size[2], preset, Runtime.getRuntime().availableProcessors(),
                java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage()));

        // 1. cloe predict per study
        long t0 = System.nanoTime();
        for (String id : ids) {
            Path d = cohort.resolve(id);
            exec(work.resolve("predict.log"), cloe.toString(), "predict", "--model", run.toString(), "--backend", "cpu",
                    "--flair", d.resolve(id + "_flair.nii.gz").toString(), "--t1ce", d.resolve(id + "_t1ce.nii.gz").toString(),
                    "--t1", d.resolve(id + "_t1.nii.gz").toString(), "--t2", d.resolve(id + "_t2.nii.gz").toString(),
                    "--out", work.resolve("predict").resolve(id + ".nii.gz").toString());
        }
        lines.add(row("cloe predict loop (one JVM per study)", n, t0));

        // 2. local mode, one task per core, one backend thread per task
        t0 = System.nanoTime();
        exec(work.resolve("local.log"), cloe.toString(), "segment-cohort", "--model", run.toString(), "--data", cohort.toString(),
                "--out", work.resolve("out-local").toString(), "--master", "local[*]", "--threads", "1");
        lines.add(row("segment-cohort --master local[*] --threads 1", n, t0));

        // 3. standalone cluster: one, then two one-core workers
        try (LocalSparkCluster cluster = new LocalSparkCluster(work.resolve("spark"), root.resolve("target/spark.classpath"),
                root.resolve("target/lib"))) {
            cluster.startMaster();
            cluster.startWorker(1, "1g");
            for (int workers = 1; workers <= 2; workers++) {
                if (workers == 2) cluster.startWorker(1, "1g");
                Path out = work.resolve("out-standalone-" + workers);
                t0 = System.nanoTime();
                Process p = cluster.submit("driver-" + workers, jar, "org.cloe4j.cli.Main",
                        List.of("spark.ui.enabled=false", "spark.executor.memory=768m", "spark.executor.cores=1",
                                "spark.driver.host=127.0.0.1", "spark.driver.bindAddress=127.0.0.1"),
                        List.of("segment-cohort", "--model", run.toString(), "--data", cohort.toString(), "--out", out.toString(),
                                "--threads", "1"));
                if (!p.waitFor(3, TimeUnit.HOURS) || p.exitValue() != 0) throw new IllegalStateException("standalone run failed: see " + cluster.log("driver-" + workers));
                lines.add(row("segment-cohort on standalone, " + workers + " one-core worker(s)", n, t0));
            }
        }
        String text = String.join("\n", lines) + "\n";
        System.out.print(text);
        Files.writeString(work.resolve("results.txt"), text);
    }

    private static String row(String what, int n, long t0) {
        double s = (System.nanoTime() - t0) / 1e9;
        return String.format(Locale.ROOT, "%-50s %8.1f s  %8.1f studies/hour", what, s, n * 3600 / s);
    }

    private static void exec(Path log, String... cmd) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("CLOE_JAVA_OPTS", "-Dcloe.backend=cpu");
        int rc = pb.start().waitFor();
        if (rc != 0) throw new IllegalStateException(String.join(" ", cmd) + " failed (" + rc + "): see " + log);
    }

    private static void cli(String... args) {
        StringWriter err = new StringWriter();
        var cl = Main.commandLine();
        cl.setErr(new PrintWriter(err));
        if (cl.execute(args) != 0) throw new IllegalStateException("cloe " + String.join(" ", args) + ": " + err);
    }
}
