package org.cloe4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cloe segment-cohort}: segments every study of a cohort as an Apache Spark job (org.cloe4j.spark). Spark is
 * not on the plain CLI's class path; scripts/cloe adds it for this command, and spark-submit brings its own.
 */
@Command(name = "segment-cohort", mixinStandardHelpOptions = true,
        description = {"Segments every study of a cohort on Apache Spark (local mode by default, or any cluster):",
            "per study a label map in the input's geometry and a reliability report under OUT/studies/ID/, and one",
            "table OUT/cohort.csv + OUT/cohort.parquet (volumes, reliability, flags, time, error). A failing study",
            "is a row with its error; a re-run with the same --out skips finished studies."})
public final class SegmentCohortCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--model", required = true, description = "checkpoint folder, run folder or model.safetensors (read by the driver, shipped to the executors)")
    Path model;

    @Option(names = "--data", required = true, description = "BraTS-layout or MSD cohort folder, or a manifest .csv (study_id,flair,t1ce,t1,t2; empty cell = sequence absent)")
    Path data;

    @Option(names = "--out", required = true, description = "output folder (the same path on every executor); a re-run skips finished studies")
    Path out;

    @Option(names = "--master", description = "Spark master: local[*], local[N], spark://HOST:PORT, yarn, k8s://... (default: spark-submit's, else local[*])")
    String master;

    @Option(names = "--threads", description = "CPU backend threads per executor (sets cloe.cpu.threads; default: all the executor machine's cores)")
    Integer threads;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "a Spark setting, e.g. spark.executor.memory=4g")
    Map<String, String> conf = new LinkedHashMap<>();

    @Mixin SegmentationOptions segmentation;

    @Override
    public Integer call() throws Exception {
        if (threads != null && threads < 1) throw new IllegalArgumentException("--threads must be at least 1, not " + threads);
        try {
            Class.forName("org.apache.spark.SparkConf");
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("Apache Spark is not on the class path: run this through scripts/cloe "
                    + "(which adds it) or spark-submit with target/cloe4j-spark.jar");
        }
        if (System.getProperty("log4j2.configurationFile") == null && System.getenv("SPARK_CONF_DIR") == null) {
            System.setProperty("log4j2.configurationFile", "org/cloe4j/spark/log4j2-cohort.properties");
        }
        PrintWriter log = spec.commandLine().getOut();
        var o = new org.cloe4j.spark.CohortJob.Options(model, data, out, master, segmentation.gaussian, segmentation.etMinVoxels, threads, conf, segmentation.window);
        var s = org.cloe4j.spark.CohortJob.run(o, log);
        log.println(String.format(Locale.ROOT, "%d studies: %d skipped (finished earlier), %d segmented now, %d failed; "
                + "%.1f s%nwrote %s and %s", s.studies(), s.skipped(), s.segmented(), s.failed(), s.seconds(), s.csv(), s.parquet()));
        log.flush();
        return 0;
    }
}
