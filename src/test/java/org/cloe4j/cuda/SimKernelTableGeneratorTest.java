package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.gen.SimKernelTableGenerator;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CUDA simulator's kernel table names every kernel of native/cloe_kernels.h, once, and only kernels. */
class SimKernelTableGeneratorTest {

    @Test
    void everyKernelOfTheHeaderGetsOneEntry() throws Exception {
        String header = Files.readString(Path.of("native/cloe_kernels.h"), StandardCharsets.UTF_8);
        String table = SimKernelTableGenerator.generate("native/cloe_kernels.h", header);
        List<String> kernels = SimulatedKernelCoverageTest.kernelsOfTheHeader();
        assertTrue(kernels.size() >= 80, "kernels parsed: " + kernels.size());
        for (String k : kernels) assertTrue(table.contains("CLOE_SIM_ENTRY(" + k + "),\n"), k);
        assertEquals(kernels.size(), table.split("CLOE_SIM_ENTRY\\(", -1).length - 1);
        assertTrue(table.contains("cloe_sim_table_size = " + kernels.size() + ";"));
    }

    @Test
    void aLibraryHeaderIsRefused() {
        String lib = "/* cloe4j-bind: class=x_h library=cuda */\ntypedef int CUresult;\nCUresult cuInit(unsigned int Flags);\n";
        assertThrows(IllegalArgumentException.class, () -> SimKernelTableGenerator.generate("native/x.h", lib));
    }
}
