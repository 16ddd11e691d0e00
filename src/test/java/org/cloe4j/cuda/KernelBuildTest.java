package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cloe_kernels_h;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Where nvcc exists (CI, the dev machines), the kernels compile without warnings and the fatbin is on the class path. */
class KernelBuildTest {

    static Path nvcc() {
        List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
        String home = System.getenv("CUDA_HOME");
        if (home != null) dirs.add(home + "/bin");
        dirs.add("/usr/local/cuda/bin");
        dirs.add("/usr/local/bin");
        for (String d : dirs) {
            Path p = Path.of(d.isEmpty() ? "." : d, "nvcc");
            if (Files.isExecutable(p)) return p;
        }
        return null;
    }

    @Test
    void fatbinIsPackedWhenNvccExists() throws Exception {
        assumeTrue(nvcc() != null, "no nvcc here: the build skips the kernels");
        assertTrue(KernelImage.present(), "org/cloe4j/cuda/cloe_kernels.fatbin missing from the class path");
        byte[] fatbin = KernelImage.load();
        String asText = new String(fatbin, StandardCharsets.ISO_8859_1);
        for (String k : cloe_kernels_h.KERNELS) assertTrue(asText.contains(k), "kernel " + k + " not in the fatbin");
    }

    @Test
    void everyKernelFileCompilesWithoutWarningsAndDefinesExactlyTheHeader(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path nvcc = nvcc();
        assumeTrue(nvcc != null, "no nvcc here");
        List<Path> sources;
        try (Stream<Path> s = Files.list(Path.of("kernels"))) {
            sources = s.filter(p -> p.toString().endsWith(".cu")).sorted().toList();
        }
        Set<String> defined = new TreeSet<>();
        Pattern entry = Pattern.compile("\\.entry\\s+(\\w+)");
        // PTX only (no ptxas): enough to catch C++ errors and warnings, and fast; the fatbin build runs ptxas.
        List<Process> running = new ArrayList<>();
        for (Path cu : sources) {
            Path out = tmp.resolve(cu.getFileName() + ".ptx");
            running.add(new ProcessBuilder(nvcc.toString(), "-std=c++17", "-O3", "--Werror", "all-warnings",
                    "-Xcompiler", "-Wall", "-ptx", "-arch=compute_90", "-o", out.toString(), cu.toString())
                    .redirectErrorStream(true).start());
        }
        for (int i = 0; i < sources.size(); i++) {
            Process p = running.get(i);
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "nvcc timed out on " + sources.get(i));
            String log = new String(p.getInputStream().readAllBytes());
            assertEquals(0, p.exitValue(), sources.get(i) + " failed to compile:\n" + log);
            assertTrue(log.isBlank(), sources.get(i) + " compiled with output:\n" + log);
            Matcher m = entry.matcher(Files.readString(tmp.resolve(sources.get(i).getFileName() + ".ptx")));
            while (m.find()) defined.add(m.group(1));
        }
        assertEquals(new TreeSet<>(cloe_kernels_h.KERNELS), defined, "kernels defined in kernels/ vs declared in native/cloe_kernels.h");
    }
}
