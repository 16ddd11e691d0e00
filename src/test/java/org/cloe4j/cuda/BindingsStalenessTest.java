package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.gen.BindingGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The committed bindings are exactly what the generator makes of native/*.h today. */
class BindingsStalenessTest {
    private static final Path COMMITTED = Path.of("src/main/java/org/cloe4j/cuda/ffm");

    @Test
    void committedBindingsMatchAFreshGeneration(@TempDir Path tmp) throws Exception {
        BindingGenerator.main(new String[]{"native", tmp.toString()});
        Path fresh = tmp.resolve("org/cloe4j/cuda/ffm");
        Map<String, String> expected = BindingGenerator.generateAll(Path.of("native"));
        assertEquals(3, expected.size(), "one header class per header (CUDA driver, cuDNN, our kernels): " + expected.keySet());
        try (var files = Files.list(COMMITTED)) {
            assertEquals(new java.util.TreeSet<>(expected.keySet()), files.map(f -> f.getFileName().toString())
                    .filter(n -> n.endsWith("_h.java")).collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new)),
                    "a committed header class no header generates any more (remove it)");
        }
        for (String file : expected.keySet()) {
            Path committed = COMMITTED.resolve(file);
            assertTrue(Files.exists(committed), file + " is not committed: run scripts/gen-bindings");
            String c = Files.readString(committed);
            assumeTrue(c.startsWith(BindingGenerator.BANNER),
                    file + " was produced by jextract, not the project's generator; nothing to compare");
            assertEquals(Files.readString(fresh.resolve(file)), c, file + " is stale: run scripts/gen-bindings and commit");
        }
    }

    @Test
    void committedTypedLaunchersMatchAFreshGeneration(@TempDir Path tmp) throws Exception {
        BindingGenerator.main(new String[]{"native", tmp.toString()});
        Path rel = Path.of(BindingGenerator.LAUNCHERS_PACKAGE.replace('.', '/'), BindingGenerator.LAUNCHERS_CLASS + ".java");
        String fresh = Files.readString(tmp.resolve(rel));
        assertEquals(fresh, Files.readString(Path.of("src/main/java").resolve(rel)),
                rel + " is stale: run scripts/gen-bindings and commit");
        // one typed method per kernel of the header, with the C types: pointers long, ints int, floats float
        for (String k : org.cloe4j.cuda.ffm.cloe_kernels_h.KERNELS) assertTrue(fresh.contains("    void " + k + "(Grid grid"), k);
        assertTrue(fresh.contains("void cloe_scale(Grid grid, long x, float s, long y, int n)"), "the C signature's types");
    }

    @Test
    void everyGeneratedFunctionHasTheJextractAccessors() throws Exception {
        String cuda = Files.readString(COMMITTED.resolve("cuda_h.java"));
        for (String suffix : new String[]{"$descriptor()", "$handle()", "$address()"}) {
            assertTrue(cuda.contains("cuMemAlloc_v2" + suffix), "cuMemAlloc_v2" + suffix + " missing");
        }
        assertTrue(cuda.contains("private static class cuLaunchKernel {"), "one holder class per function");
        assertTrue(cuda.contains("CUresult cuMemcpyDtoHAsync_v2(void *dstHost, CUdeviceptr srcDevice, size_t ByteCount, CUstream hStream);"),
                "the C prototype in the Javadoc");
    }
}
