package org.cloe4j.cuda;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Without a GPU, the index arithmetic of kernels/conv3d.cu still runs: scripts/check-conv-indexing compiles
 * kernels/check/conv3d_host_check.cu (the kernels' __host__ __device__ element functions and GEMM operand functors
 * against a padded-copy reference, zero and reflect padding, stride 1 and 2) and runs it on the CPU. Needs nvcc.
 */
class ConvIndexingHostCheckTest {

    @Test
    void conv3dIndexingMatchesAPaddedCopyReferenceOnTheHost() throws Exception {
        Path nvcc = KernelBuildTest.nvcc();
        assumeTrue(nvcc != null, "no nvcc here");
        ProcessBuilder pb = new ProcessBuilder("bash", "scripts/check-conv-indexing").redirectErrorStream(true);
        pb.environment().put("PATH", nvcc.getParent() + ":" + System.getenv().getOrDefault("PATH", ""));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("check-conv-indexing did not finish in 120 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> "check-conv-indexing failed:\n" + text);
    }
}
