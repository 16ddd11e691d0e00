package org.cloe4j.spark;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

import org.cloe4j.io.AtomicFiles;
import org.cloe4j.data.Modality;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.ModelCheckpoint;

/**
 * The driver of {@code cloe segment-cohort}: lists the studies, skips those a previous run with the same output
 * folder finished, ships the checkpoint to the executors as a broadcast, segments one study per task, and writes the
 * cohort table ({@code cohort.csv} and {@code cohort.parquet}) over all studies, finished before or now.
 *
 * <p>Nothing lost, nothing twice: a study's failure is a row, not a failed task; outputs are keyed by study id and
 * written by atomic renames, so a retried task rewrites the same files; should Spark still give up on a task (an
 * executor that dies on one study again and again), the studies left are run one job each, and those whose job fails
 * become rows with Spark's error. Output paths must be visible to the driver and every executor under the same name
 * (one machine, or a shared file system), as must the input files.
 */
public final class CohortJob {

    /** The job's parameters; {@code master} null means spark.master from spark-submit, else local[*]. */
    public record Options(Path model, Path data, Path out, String master, boolean gaussian, int etMinVoxels,
                          Integer threads, Map<String, String> conf, int window) {
        /** Options with the model's default inference window. */
        public Options(Path model, Path data, Path out, String master, boolean gaussian, int etMinVoxels,
                       Integer threads, Map<String, String> conf) {
            this(model, data, out, master, gaussian, etMinVoxels, threads, conf, 0);
        }
    }

    /** What a run did. */
    public record Summary(int studies, int skipped, int segmented, int failed, Path csv, Path parquet, double seconds) {
    }

    private CohortJob() {
    }

    public static Summary run(Options o, PrintWriter log) throws IOException {
        long t0 = System.nanoTime();
        Path out = o.out().toAbsolutePath().normalize();
        Path ckpt = ModelCheckpoint.resolve(o.model());
        CloeConfig cfg = ModelCheckpoint.readConfig(ckpt);
        List<Study> studies = StudyLister.list(o.data(), cfg.modalities());

        Files.createDirectories(out);
        int stale = StudyProcessor.removeStaleTemporaries(out);
        if (stale > 0) log.println("removed " + stale + " temporary file(s) a killed run left");
        Map<String, StudyRow> rows = new LinkedHashMap<>();
        List<Study> todo = new ArrayList<>();
        for (Study s : studies) {
            StudyRow done = StudyProcessor.readRow(out, s.id());
            if (done != null && done.ok() && Files.isRegularFile(StudyProcessor.segFile(out, s.id()))
                    && Files.isRegularFile(StudyProcessor.reportFile(out, s.id()))) {
                rows.put(s.id(), done);
            } else {
                todo.add(s);
            }
        }
        int skipped = rows.size();
        log.printf("%d studies: %d finished by an earlier run (skipped), %d to segment%n", studies.size(), skipped, todo.size());
        log.flush();

        SparkConf conf = sparkConf(o);
        try (SparkSession spark = SparkSession.builder().config(conf).getOrCreate()) {
            JavaSparkContext sc = JavaSparkContext.fromSparkContext(spark.sparkContext());
            if (!todo.isEmpty()) {
                ModelBlob blob = ModelBlob.read(ckpt);
                Broadcast<ModelBlob> model = sc.broadcast(blob);
                StudyProcessor.Settings settings = new StudyProcessor.Settings(out.toString(), o.gaussian(), o.etMinVoxels(), o.window());
                for (StudyRow r : segment(sc, todo, model, settings, log)) rows.put(r.studyId(), r);
                model.destroy();
            }
            List<StudyRow> table = new ArrayList<>();
            for (Study s : studies) {
                StudyRow r = rows.get(s.id());
                table.add(r != null ? r : StudyRow.failed(s.id(), String.join("+", s.sequences().keySet()), 0,
                        "no outcome came back from the executors"));
            }
            table.sort(Comparator.comparing(StudyRow::studyId));
            Path csv = out.resolve("cohort.csv");
            writeCsv(csv, table, names(cfg));
            Path parquet = out.resolve("cohort.parquet");
            writeParquet(spark, parquet, table, names(cfg));
            int failed = (int) table.stream().filter(r -> !r.ok()).count();
            return new Summary(studies.size(), skipped, todo.size(), failed, csv, parquet, (System.nanoTime() - t0) / 1e9);
        }
    }

    /** One task per study; when Spark aborts the job, the studies left run one job each. */
    private static List<StudyRow> segment(JavaSparkContext sc, List<Study> todo, Broadcast<ModelBlob> model,
                                          StudyProcessor.Settings settings, PrintWriter log) {
        try {
            JavaRDD<Study> rdd = sc.parallelize(todo, todo.size());
            return rdd.map(s -> StudyProcessor.process(s, model.value(), settings)).collect();
        } catch (RuntimeException e) {
            log.println("the job failed (" + StudyProcessor.describe(e) + "); running the unfinished studies one job each");
            log.flush();
        }
        Path out = Path.of(settings.out());
        List<StudyRow> rows = new ArrayList<>();
        List<Study> left = new ArrayList<>();
        for (Study s : todo) {
            StudyRow r = StudyProcessor.readRow(out, s.id());
            if (r != null) rows.add(r); else left.add(s);
        }
        List<JavaFutureAction<List<StudyRow>>> jobs = new ArrayList<>();
        for (Study s : left) {
            jobs.add(sc.parallelize(List.of(s), 1).map(x -> StudyProcessor.process(x, model.value(), settings)).collectAsync());
        }
        for (int i = 0; i < left.size(); i++) {
            Study s = left.get(i);
            try {
                rows.addAll(jobs.get(i).get());
            } catch (Exception e) {
                StudyRow r = StudyRow.failed(s.id(), String.join("+", s.sequences().keySet()), 0,
                        "Spark gave up on this study: " + StudyProcessor.describe(e));
                try {
                    StudyProcessor.writeRow(out, r);
                } catch (IOException ignored) {
                    // the row is still in the table
                }
                rows.add(r);
            }
        }
        return rows;
    }

    static SparkConf sparkConf(Options o) {
        SparkConf conf = new SparkConf().setAppName("cloe segment-cohort");
        o.conf().forEach(conf::set);
        if (o.master() != null) conf.setMaster(o.master());
        else if (!conf.contains("spark.master")) conf.setMaster("local[*]");
        String master = conf.get("spark.master");
        if (master.startsWith("local")) {
            // one machine: keep the driver (and with it the executor threads) on the loopback interface
            conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
            conf.setIfMissing("spark.driver.host", "127.0.0.1");
            if (o.threads() != null) System.setProperty("cloe.cpu.threads", Integer.toString(o.threads()));
        }
        // executor JVMs: the Vector API module the CPU backend uses, the stack depth of the graph runtime, the threads
        String opts = conf.get("spark.executor.extraJavaOptions", "");
        if (!opts.contains("jdk.incubator.vector")) opts = (opts + " --add-modules jdk.incubator.vector").strip();
        if (!opts.contains("-Xss")) opts += " -Xss4m";
        if (!opts.contains("enable-native-access")) opts += " --enable-native-access=ALL-UNNAMED";
        if (o.threads() != null && !opts.contains("cloe.cpu.threads")) opts += " -Dcloe.cpu.threads=" + o.threads();
        conf.set("spark.executor.extraJavaOptions", opts);
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        return conf;
    }

    /** The model's sequence names: the table's column stems. */
    private static List<String> names(CloeConfig cfg) {
        return cfg.modalities().stream().map(Modality::name).toList();
    }

    static void writeCsv(Path csv, List<StudyRow> rows, List<String> seqs) {
        StringBuilder sb = new StringBuilder(String.join(",", StudyRow.columns(seqs))).append('\n');
        for (StudyRow r : rows) sb.append(r.csv(seqs)).append('\n');
        AtomicFiles.writeString(csv, sb.toString());
    }

    /** Writes the table through Spark into a temporary folder beside the target, then swaps it in. */
    static void writeParquet(SparkSession spark, Path target, List<StudyRow> rows, List<String> seqs) throws IOException {
        List<StructField> fields = new ArrayList<>();
        for (String c : StudyRow.columns(seqs)) {
            DataType t = c.equals("study_id") || c.equals("status") || c.equals("sequences") || c.equals("flags")
                    || c.equals("error") ? DataTypes.StringType : DataTypes.DoubleType;
            fields.add(DataTypes.createStructField(c, t, !c.equals("study_id") && !c.equals("status")));
        }
        List<Row> data = new ArrayList<>();
        for (StudyRow r : rows) data.add(RowFactory.create(r.values(seqs).toArray()));
        Dataset<Row> df = spark.createDataFrame(data, DataTypes.createStructType(fields.toArray(new StructField[0])));
        Path tmp = target.resolveSibling("." + target.getFileName() + "-" + UUID.randomUUID() + ".tmp");
        df.coalesce(1).write().parquet(tmp.toUri().toString());
        Path old = target.resolveSibling("." + target.getFileName() + "-" + UUID.randomUUID() + ".old");
        if (Files.exists(target)) Files.move(target, old);
        Files.move(tmp, target);
        deleteTree(old);
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }
}
