package org.cloe4j.cuda;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Choosing kernel versions with -Dcloe.cuda.kernel.<op>: pure Java, no GPU needed. */
class KernelVersionTest {

    @Test
    void theNewestVersionIsTheDefault() {
        assertEquals(3, CudaBackend.version("instanceNorm"));
        assertEquals(3, CudaBackend.version("sumTo"));
        assertEquals(2, CudaBackend.version("pairwiseCosine"));
        assertEquals(2, CudaBackend.version("weightedSum"));
        assertEquals(2, CudaBackend.version("upsampleBackward"));
        assertEquals(3, CudaBackend.version("conv3d"));
    }

    @Test
    void convRunsOnOurKernelsInFp32UnlessPropertiesSayOtherwise() {
        assertEquals("kernels", CudaBackend.convPath());
        assertEquals("fp32", CudaBackend.convPrecision());
        assertEquals("kernels v3 fp32", CudaBackend.convDescription());
        new ConvVariant("kernels", 2, "bf16").run(() -> assertEquals("kernels v2 bf16", CudaBackend.convDescription()));
        new ConvVariant("cudnn", 0, "tf32").run(() -> assertEquals("cudnn tf32 (tensor-op math)", CudaBackend.convDescription()));
        assertEquals("kernels v3 fp32", CudaBackend.convDescription(), "the properties are restored");
        GpuTest.withProperty("cloe.cuda.conv.precision", "fp16", () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, CudaBackend::convPrecision);
            assertTrue(e.getMessage().contains("cloe.cuda.conv.precision"), e.getMessage());
        });
        GpuTest.withProperty("cloe.cuda.conv", "cublas", () -> assertThrows(IllegalArgumentException.class, CudaBackend::convPath));
    }

    @Test
    void aPropertyPicksAnEarlierVersion() {
        GpuTest.withVersion("pairwiseCosine", 1, () -> assertEquals(1, CudaBackend.version("pairwiseCosine")));
        assertEquals(2, CudaBackend.version("pairwiseCosine"), "the property is restored");
    }

    @Test
    void aVersionThatDoesNotExistIsRejectedNamingTheProperty() {
        GpuTest.withVersion("weightedSum", 3, () -> {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CudaBackend.version("weightedSum"));
            assertTrue(e.getMessage().contains("cloe.cuda.kernel.weightedSum"), e.getMessage());
        });
    }

    @Test
    void hostChecksAreOnUnlessSwitchedOff() {
        assertTrue(CudaBackend.hostChecks());
    }
}
