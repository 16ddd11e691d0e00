package org.cloe4j.cuda;

import org.cloe4j.cli.Main;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.PhantomGenerator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code cloe train / eval / predict --backend cuda} end to end on a small phantom cohort (the CLI's own test runs the
 * same on the CPU): every step runs on the CUDA backend and writes its files. Skips without a GPU.
 */
class CudaCliTest {

    private static String[] run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CommandLine cl = Main.commandLine();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new String[]{Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void trainEvalAndPredictRunOnCuda(@TempDir Path tmp) throws Exception {
        GpuTest.cudaOrSkip();
        Path data = tmp.resolve("data"), runDir = tmp.resolve("run");
        Cohort cohort = new PhantomGenerator(40, 40, 32, 3).writeCohort(data, 5, false);
        String[] t = run("train", "--data", data.toString(), "--out", runDir.toString(), "--epochs", "1", "--iters", "2",
                "--quiet", "--backend", "cuda");
        assertEquals("0", t[0], "train --backend cuda: " + t[2]);
        assertTrue(Files.isRegularFile(runDir.resolve("checkpoints/epoch-0001/model.safetensors")));

        Path evalDir = tmp.resolve("eval");
        String[] e = run("eval", "--model", runDir.toString(), "--data", data.toString(), "--split", "test", "--out",
                evalDir.toString(), "--quiet", "--backend", "cuda");
        assertEquals("0", e[0], "eval --backend cuda: " + e[2]);
        assertTrue(Files.isRegularFile(evalDir.resolve("table.csv")));

        String id = cohort.ids().get(0);
        Path seg = tmp.resolve("pred/seg.nii.gz");
        String[] p = run("predict", "--model", runDir.toString(), "--flair",
                data.resolve(id).resolve(id + "_flair.nii.gz").toString(), "--out", seg.toString(), "--backend", "cuda");
        assertEquals("0", p[0], "predict --backend cuda: " + p[2]);
        assertTrue(Files.isRegularFile(seg));
    }
}
