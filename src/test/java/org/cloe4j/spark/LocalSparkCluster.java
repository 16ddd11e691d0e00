package org.cloe4j.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * A real Spark standalone cluster on the loopback interface, started from the Spark jars Maven resolved: a master and
 * workers are separate JVMs ({@code org.apache.spark.deploy.master.Master}, {@code ...worker.Worker}), and jobs go in
 * through {@code org.apache.spark.deploy.SparkSubmit} with the project's shaded jar, as on a user's cluster.
 *
 * <p>The workers launch executors from {@code SPARK_HOME/jars}; here SPARK_HOME is a folder of links to the resolved
 * jars. {@link #close} kills every process it started, their children (the executors), and any process whose
 * command line names this cluster's private folder (an executor whose worker was killed).
 */
final class LocalSparkCluster implements AutoCloseable {
    private final Path dir;
    private final Path sparkHome;
    private final int masterPort;
    private final List<Process> started = new ArrayList<>();
    private final Set<ProcessHandle> orphans = new LinkedHashSet<>();
    private final List<Process> workers = new ArrayList<>();

    /** Prepares SPARK_HOME under {@code dir} from the class path file the build wrote (Spark's jars, one per entry). */
    LocalSparkCluster(Path dir, Path sparkClasspath, Path projectLib) throws IOException {
        this.dir = dir;
        this.sparkHome = dir.resolve("spark-home");
        Path jars = Files.createDirectories(sparkHome.resolve("jars"));
        List<Path> entries = new ArrayList<>();
        for (String e : Files.readString(sparkClasspath).strip().split(java.io.File.pathSeparator)) entries.add(Path.of(e));
        // the project's Jackson (Spark needs jackson-databind/core too; the project pins their version)
        try (var s = Files.list(projectLib)) {
            s.filter(p -> p.getFileName().toString().startsWith("jackson-")).forEach(entries::add);
        }
        for (Path p : entries) {
            Path link = jars.resolve(p.getFileName());
            if (!Files.exists(link)) Files.createSymbolicLink(link, p.toAbsolutePath());
        }
        this.masterPort = freePort();
    }

    String masterUrl() {
        return "spark://127.0.0.1:" + masterPort;
    }

    Path sparkHome() {
        return sparkHome;
    }

    /** Starts the master and waits until it accepts connections. */
    void startMaster() throws IOException, InterruptedException {
        Process p = launch("master", List.of("-Xmx256m"), "org.apache.spark.deploy.master.Master",
                "--host", "127.0.0.1", "--port", Integer.toString(masterPort), "--webui-port", Integer.toString(freePort()));
        waitFor(Duration.ofSeconds(90), () -> accepts(masterPort), p, "the Spark master to listen on " + masterPort);
    }

    /** Starts a worker with {@code cores} cores and {@code memory} (e.g. "1g"); waits until the master knows it. */
    Process startWorker(int cores, String memory) throws IOException, InterruptedException {
        int n = workers.size();
        Path log = dir.resolve("worker-" + n + ".log");
        Process p = launch("worker-" + n, List.of("-Xmx256m"), "org.apache.spark.deploy.worker.Worker",
                "--host", "127.0.0.1", "--cores", Integer.toString(cores), "--memory", memory,
                "--work-dir", Files.createDirectories(dir.resolve("work-" + n)).toString(),
                "--webui-port", Integer.toString(freePort()), masterUrl());
        workers.add(p);
        waitFor(Duration.ofSeconds(90), () -> logContains(log, "Successfully registered with master"), p,
                "worker " + n + " to register with the master (see " + log + ")");
        return p;
    }

    /** SIGKILLs a worker JVM, as a machine failure would; its executors are remembered for {@link #close}. */
    void kill9(Process worker) throws InterruptedException {
        worker.descendants().forEach(orphans::add);
        worker.destroyForcibly();
        worker.waitFor();
    }

    /** Starts {@code SparkSubmit} (client mode) with {@code jar} and the application's arguments. */
    Process submit(String name, Path jar, String mainClass, List<String> sparkConf, List<String> appArgs) throws IOException {
        List<String> args = new ArrayList<>(List.of("--master", masterUrl(), "--deploy-mode", "client", "--class", mainClass));
        for (String c : sparkConf) {
            args.add("--conf");
            args.add(c);
        }
        args.add(jar.toString());
        args.addAll(appArgs);
        return launch(name, List.of("-Xmx768m"), "org.apache.spark.deploy.SparkSubmit", args.toArray(String[]::new));
    }

    Path log(String name) {
        return dir.resolve(name + ".log");
    }

    private Process launch(String name, List<String> jvm, String main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvm);
        cmd.addAll(Arrays.asList(org.apache.spark.launcher.JavaModuleOptions.defaultModuleOptionArray()));
        cmd.addAll(List.of("-cp", sparkHome.resolve("jars") + "/*", main));
        cmd.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(dir.resolve(name + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("SPARK_HOME", sparkHome.toString());
        env.put("SPARK_SCALA_VERSION", "2.13");
        env.put("SPARK_LOCAL_IP", "127.0.0.1");
        env.put("SPARK_LOCAL_HOSTNAME", "localhost");
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("SPARK_CONF_DIR");
        Process p = pb.start();
        started.add(p);
        return p;
    }

    @Override
    public void close() {
        List<ProcessHandle> all = new ArrayList<>();
        for (Process p : started) {
            p.descendants().forEach(all::add);
            all.add(p.toHandle());
        }
        all.addAll(orphans);
        String marker = sparkHome.toString();
        ProcessHandle.allProcesses()
                .filter(h -> h.info().commandLine().map(c -> c.contains(marker)).orElse(false))
                .forEach(all::add);
        for (ProcessHandle h : all) h.destroyForcibly();
        for (ProcessHandle h : all) {
            try {
                h.onExit().get(20, java.util.concurrent.TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // best effort; reported by the caller's own checks
            }
        }
        // the links to the jars (a temporary folder's cleaner would only warn about them)
        try (var s = Files.list(sparkHome.resolve("jars"))) {
            for (Path p : s.toList()) Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // left for the caller's temporary folder
        }
    }

    static void waitFor(Duration limit, BooleanSupplier done, Process owner, String what) throws InterruptedException {
        long end = System.nanoTime() + limit.toNanos();
        while (!done.getAsBoolean()) {
            if (owner != null && !owner.isAlive()) throw new IllegalStateException("gave up waiting for " + what + ": the process exited with " + owner.exitValue());
            if (System.nanoTime() > end) throw new IllegalStateException("gave up waiting for " + what + " after " + limit);
            Thread.sleep(100);
        }
    }

    static boolean logContains(Path log, String text) {
        try {
            return Files.isRegularFile(log) && Files.readString(log).contains(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
