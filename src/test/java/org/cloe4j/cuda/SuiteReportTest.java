package org.cloe4j.cuda;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The GPU suite's report and stage logic, on the CPU: rows reach the file one by one (a run cut short keeps them),
 * failures reach the console at once, a sticky CUDA error stops the stage, the time box stops it too, and without a
 * GPU every stage reports one clean "no GPU" row.
 */
class SuiteReportTest {
    @TempDir
    Path tmp;

    private final ByteArrayOutputStream console = new ByteArrayOutputStream();

    private SuiteReport report() {
        return new SuiteReport(tmp.resolve("out/gpu-report.md"), new PrintStream(console, true, StandardCharsets.UTF_8));
    }

    private String consoleText() {
        return console.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyRowIsInTheFileAsSoonAsItIsWrittenAndFailuresReachTheConsoleAtOnce() throws Exception {
        SuiteReport r = report();
        r.stage("kernels", "parity", 150);
        r.row("A.first", SuiteReport.Result.PASSED, 12, "");
        List<String> lines = Files.readAllLines(r.file());
        assertEquals("| A.first | passed | 12 |  |", lines.get(lines.size() - 1));
        assertFalse(consoleText().contains("FAILED"));
        r.row("A.second", SuiteReport.Result.FAILED, 3, "expected 1\nbut | was 2");
        lines = Files.readAllLines(r.file());
        assertEquals("| A.second | **FAILED** | 3 | expected 1 but / was 2 |", lines.get(lines.size() - 1),
                "one line per row, no pipe inside a cell");
        assertTrue(consoleText().contains("gpu-suite: FAILED A.second: expected 1 but | was 2"), consoleText());
        r.stageSummary("kernels", 1.5);
        assertTrue(Files.readString(r.file()).contains("Stage kernels: 1 passed, 1 failed, 0 skipped, 0 not run"));
    }

    @Test
    void aStickyCudaErrorStopsTheStageAndNamesIt() throws Exception {
        SuiteReport r = report();
        GpuSuite suite = new GpuSuite(r, "kernels", 60);
        AtomicBoolean laterRan = new AtomicBoolean();
        int code = suite.runUnits(List.of(
                GpuSuite.Unit.code("faulting", () -> {
                    throw new IllegalStateException("wrapped", new CudaException("cuStreamSynchronize", 700,
                            "CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"));
                }),
                GpuSuite.Unit.code("later", () -> laterRan.set(true))));
        assertEquals(1, code);
        assertFalse(laterRan.get(), "nothing runs after a sticky error");
        String text = Files.readString(r.file());
        assertTrue(text.contains("| faulting | **FAILED**"), text);
        assertTrue(text.contains("| later | not run | 0 | stage stopped after a sticky CUDA error: CUDA_ERROR_ILLEGAL_ADDRESS"
                + " from cuStreamSynchronize (in faulting) |"), text);
    }

    @Test
    void onlyContextPoisoningErrorsAreSticky() {
        assertNotNull(GpuSuite.stickyIn(new RuntimeException(new CudaException("k", 719, "CUDA_ERROR_LAUNCH_FAILED", ""))));
        assertNull(GpuSuite.stickyIn(new CudaException("cuMemAlloc", 2, "CUDA_ERROR_OUT_OF_MEMORY", "")),
                "out of memory leaves the context usable");
        assertNull(GpuSuite.stickyIn(new AssertionError("values differ")));
    }

    @Test
    void theTimeBoxStopsTheStage() throws Exception {
        SuiteReport r = report();
        GpuSuite suite = new GpuSuite(r, "model", 1);
        int code = suite.runUnits(List.of(GpuSuite.Unit.code("slow", () -> {
            try {
                Thread.sleep(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }), GpuSuite.Unit.code("after", () -> {
        })));
        assertEquals(3, code);
        String text = Files.readString(r.file());
        assertTrue(text.contains("| slow | **FAILED**") && text.contains("TIMED OUT"), text);
        assertTrue(text.contains("| after | not run | 0 | stage time box (1 s) ran out |"), text);
    }

    @Test
    void withoutAGpuEveryStageReportsOneCleanNoGpuRow() throws Exception {
        assumeFalse(CudaDriver.get().isAvailable(), "a GPU (or a simulated driver) is here");
        SuiteReport r = report();
        GpuSuite.header(r);
        for (String stage : GpuSuite.STAGES) assertEquals(0, new GpuSuite(r, stage, 5).run(), stage);
        String text = Files.readString(r.file());
        for (String stage : GpuSuite.STAGES) {
            assertTrue(text.contains("## Stage " + stage + ":"), stage);
            assertTrue(text.contains("| " + stage + " | skipped | 0 | no GPU here: "), text);
            assertTrue(text.contains("Stage " + stage + ": 0 passed, 0 failed, 1 skipped, 0 not run"), text);
        }
    }

    @Test
    void everyKernelFileHasASmokeOpThatRunsOnTheCpu() throws Exception {
        List<String> files;
        try (var s = Files.list(Path.of("kernels"))) {
            files = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".cu")).sorted().toList();
        }
        assertEquals(files, GpuSuite.smokeOps().stream().map(GpuSuite.SmokeOp::file).sorted().toList());
        org.cloe4j.backend.cpu.CpuBackend cpu = new org.cloe4j.backend.cpu.CpuBackend();
        for (GpuSuite.SmokeOp op : GpuSuite.smokeOps()) {
            float[] v = op.run().apply(cpu);
            assertNull(GpuSuite.compare(v, v.clone()), op.op());
            for (float x : v) assertTrue(Float.isFinite(x), op.op());
        }
        assertNotNull(GpuSuite.compare(new float[]{1f}, new float[]{1.1f}), "the smoke comparison catches a wrong value");
    }
}
