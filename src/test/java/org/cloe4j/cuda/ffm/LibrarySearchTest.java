package org.cloe4j.cuda.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The cuDNN search's path logic, on a fake pip layout: no library is opened. */
class LibrarySearchTest {
    @TempDir
    Path tmp;

    private Path fakeCudnn() throws Exception {
        Path lib = Files.createDirectories(tmp.resolve("site/nvidia/cudnn/lib"));
        for (String n : List.of("libcudnn.so.9", "libcudnn_adv.so.9", "libcudnn_cnn.so.9", "libcudnn_ops.so.9",
                "libcudnn_graph.so.9", "libcudnn_heuristic.so.9", "libcudnn_engines_precompiled.so.9",
                "libcudnn_engines_runtime_compiled.so.9", "libcudnn_zeta_future.so.9", "libcudnn_ops.so.8", "libcublas.so.13")) {
            Files.writeString(lib.resolve(n), "");
        }
        Files.writeString(tmp.resolve("site/nvidia/cudnn/__init__.py"), "");
        return lib.resolve("libcudnn.so.9");
    }

    @Test
    void cudnnsSiblingsArePreloadedInDependencyOrderAndOnlyTheSameVersion() throws Exception {
        Path front = fakeCudnn();
        List<String> got = LibrarySearch.siblings(front, LibrarySearch.CUDNN_ORDER).stream()
                .map(p -> p.getFileName().toString()).toList();
        assertEquals(List.of("libcudnn_graph.so.9", "libcudnn_engines_precompiled.so.9",
                "libcudnn_engines_runtime_compiled.so.9", "libcudnn_heuristic.so.9", "libcudnn_ops.so.9",
                "libcudnn_cnn.so.9", "libcudnn_adv.so.9", "libcudnn_zeta_future.so.9"), got,
                "graph first, the known ones in order, an unknown one last; not the .so.8 one, not the front itself");
        for (Path p : LibrarySearch.siblings(front, LibrarySearch.CUDNN_ORDER)) assertTrue(p.isAbsolute(), p + " is a full path");
    }

    @Test
    void aMissingFolderHasNoSiblings() {
        assertEquals(List.of(), LibrarySearch.siblings(tmp.resolve("nowhere/libcudnn.so.9"), LibrarySearch.CUDNN_ORDER));
    }

    @Test
    void theMachinesPythonSaysWhereItImportsThePackageFrom() throws Exception {
        Path front = fakeCudnn();
        Path python = fakePython(tmp.resolve("site"));
        assumeTrue(python != null, "no python3 here");
        List<Path> dirs = LibrarySearch.pythonPackageDirs(python.toString(), "nvidia.cudnn");
        assertEquals(List.of(tmp.resolve("site/nvidia/cudnn").toRealPath()), dirs.stream().map(d -> {
            try {
                return d.toRealPath();
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        }).toList());
        assertTrue(Files.isRegularFile(dirs.get(0).resolve("lib").resolve(front.getFileName())));
        assertEquals(List.of(), LibrarySearch.pythonPackageDirs(python.toString(), "nvidia.no_such_package"));
        assertEquals(List.of(), LibrarySearch.pythonPackageDirs(tmp.resolve("no-python").toString(), "nvidia.cudnn"));
    }

    /** A python3 wrapper that imports from {@code site} first (as a venv would), or null when there is no python3. */
    private Path fakePython(Path site) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "command -v python3").start();
        String real = new String(p.getInputStream().readAllBytes()).strip();
        if (p.waitFor() != 0 || real.isEmpty()) return null;
        Path w = tmp.resolve("python3");
        Files.writeString(w, "#!/bin/sh\nPYTHONPATH='" + site + "' exec '" + real + "' \"$@\"\n");
        w.toFile().setExecutable(true);
        return w;
    }
}
