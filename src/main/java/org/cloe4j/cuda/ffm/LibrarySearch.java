package org.cloe4j.cuda.ffm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Where a pip-installed NVIDIA library lives, without opening anything (so it is testable on any machine): the
 * folders the machine's Python reports for a package ({@code nvidia.cudnn} → {@code .../nvidia/cudnn}), and the
 * sibling sub-libraries a front library opens by name at run time (cuDNN 9's {@code libcudnn.so.9} dlopens
 * {@code libcudnn_graph.so.9}, {@code libcudnn_ops.so.9}, ... by soname, which the loader finds only when their folder
 * is on its path; opening them first by full path makes the later by-name opens find them already loaded).
 */
public final class LibrarySearch {
    private LibrarySearch() {
    }

    /**
     * The folders of Python package {@code module} as {@code python} imports it (its {@code __path__}; a namespace
     * package may have several), or none when there is no such Python or package. Never throws; 10 s at most.
     */
    public static List<Path> pythonPackageDirs(String python, String module) {
        List<Path> out = new ArrayList<>();
        try {
            Process p = new ProcessBuilder(python, "-c",
                    "import importlib, sys\n"
                            + "try:\n    m = importlib.import_module(sys.argv[1])\nexcept Exception:\n    sys.exit(0)\n"
                            + "print('\\n'.join(list(getattr(m, '__path__', []))))", module)
                    .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return out;
            }
            for (String s : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!s.isBlank() && Files.isDirectory(Path.of(s.strip()))) out.add(Path.of(s.strip()));
            }
        } catch (IOException | RuntimeException e) {
            // no such Python here
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return out;
    }

    /**
     * The sub-libraries beside {@code front} that share its name and version ({@code libcudnn_*.so.9} beside
     * {@code libcudnn.so.9}), in the order they depend on each other: the ones named in {@code firstOrder} first (in
     * that order), then the rest by name. Empty when the folder cannot be read.
     */
    public static List<Path> siblings(Path front, List<String> firstOrder) {
        String name = front.getFileName().toString();
        int so = name.indexOf(".so");
        if (so < 0) return List.of();
        String stem = name.substring(0, so), suffix = name.substring(so);
        List<Path> found = new ArrayList<>();
        Path dir = front.toAbsolutePath().getParent();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, stem + "_*" + suffix)) {
            for (Path p : ds) if (Files.isRegularFile(p)) found.add(p);
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        found.sort(Comparator.<Path>comparingInt(p -> {
            String n = p.getFileName().toString();
            String part = n.substring(stem.length() + 1, n.length() - suffix.length());
            int i = firstOrder.indexOf(part);
            return i < 0 ? firstOrder.size() : i;
        }).thenComparing(p -> p.getFileName().toString()));
        return found;
    }

    /** cuDNN 9's sub-libraries in dependency order (graph first, the engines and heuristics, then the op sets). */
    public static final List<String> CUDNN_ORDER = List.of("graph", "engines_precompiled", "engines_runtime_compiled",
            "heuristic", "ops", "cnn", "adv");
}
