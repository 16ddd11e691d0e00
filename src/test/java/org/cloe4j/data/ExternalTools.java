package org.cloe4j.data;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Finds the independent tools some tests check against (installed by {@code scripts/setup-test-deps}): nibabel's
 * test files, a python3 that can import nibabel, nifti_tool, and Colin27 from mricron-data.
 */
final class ExternalTools {
    static final Path NIBABEL_DATA = Path.of("/usr/lib/python3/dist-packages/nibabel/tests/data");
    static final Path COLIN27 = Path.of("/usr/share/mricron/templates/ch2bet.nii.gz");
    static final String SETUP_HINT = " (run scripts/setup-test-deps as root to install it)";

    private static String python;
    private static boolean pythonProbed;

    private ExternalTools() {}

    /** A python3 executable that can import nibabel, or null. */
    static synchronized String pythonWithNibabel() {
        if (!pythonProbed) {
            pythonProbed = true;
            for (String candidate : List.of("/usr/bin/python3", "python3")) {
                try {
                    if (run(List.of(candidate, "-c", "import nibabel")).exitCode == 0) {
                        python = candidate;
                        break;
                    }
                } catch (IOException e) {
                    // not there: try the next one
                }
            }
        }
        return python;
    }

    static boolean hasNiftiTool() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "nifti_tool"))) return true;
        }
        return false;
    }

    record Result(int exitCode, String output) {}

    static Result run(List<String> command) throws IOException {
        Path log = Files.createTempFile("cloe4j-tool", ".log");
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("timed out: " + command);
            }
            return new Result(p.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    /** Runs a python script with nibabel and returns its standard output; fails the test when it fails. */
    static String python(String script) throws IOException {
        Result r = run(List.of(pythonWithNibabel(), "-c", script));
        if (r.exitCode != 0) throw new AssertionError("python failed:\n" + r.output);
        return r.output;
    }
}
