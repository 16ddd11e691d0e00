package org.cloe4j.cuda;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The CUDA simulator catches what it claims to: {@code target/sim/sim-selftest} (kernels/sim/broken/sim_selftest.cpp,
 * built by scripts/build-sim) launches deliberately broken copies of real kernels through the simulated driver beside
 * the real ones, in its own process (a memcheck fault leaves a context sticky, as on a GPU). An index off by one at
 * a tile edge and a wrong wmma layout must fail parity against the real kernel, a missing __syncthreads must be
 * reported by racecheck, a write past the end and a use after free by memcheck with kernel, block, thread and
 * address; the real kernels must pass the same checks without a report.
 */
class SimulatorSelfTest {

    @Test
    void everyDeliberatelyBrokenKernelIsCaughtAndNoRealOneIsFlagged() throws IOException, InterruptedException {
        Path exe = Path.of("target/sim/sim-selftest");
        assumeTrue(Files.isExecutable(exe), "the CUDA simulator is not built (scripts/build-sim needs g++ or clang++)");
        Process p = new ProcessBuilder(exe.toAbsolutePath().toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "sim-selftest did not finish");
        System.out.println(out);
        for (String line : out.split("\n")) {
            assertTrue(!line.startsWith("MISSED") && !line.startsWith("FALSE ALARM"), line);
        }
        for (String expected : List.of(
                "caught cloe_broken_conv3d_fwd_tile_edge: parity failure",
                "caught cloe_broken_conv3d_fwd_no_sync: racecheck: kernel cloe_broken_conv3d_fwd_no_sync",
                "caught cloe_broken_conv3d_fwd_wmma_layout: parity failure",
                "caught cloe_broken_scale_past_end: CUDA_ERROR_ILLEGAL_ADDRESS, memcheck: kernel cloe_broken_scale_past_end, block (3,0,0) thread (232,0,0): invalid access at 0x",
                "caught use after free",
                "caught read of unwritten memory",
                "caught launch limits",
                "clean cloe_conv3d_fwd_v2_fp32")) {
            assertTrue(out.contains(expected), "sim-selftest output lacks '" + expected + "':\n" + out);
        }
        assertEquals(0, p.exitValue(), out);
    }
}
