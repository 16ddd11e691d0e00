package org.cloe4j.cuda;

import org.cloe4j.backend.Backend;
import org.cloe4j.backend.Backends;
import org.cloe4j.cuda.ffm.NativeLibraries;
import org.cloe4j.cuda.ffm.cloe_kernels_h;
import org.cloe4j.cuda.ffm.cuda_h;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/** On a machine without a GPU (CI), the CUDA backend is present, says why it cannot run, and never throws. */
class CudaUnavailableTest {

    @Test
    void bindingClassesLoadWithoutADriver() {
        // touching the class and its constants must not open libcuda
        assertDoesNotThrow(() -> cuda_h.CUDA_ERROR_OUT_OF_MEMORY());
        assertEquals(2, cuda_h.CUDA_ERROR_OUT_OF_MEMORY());
        assertTrue(cloe_kernels_h.KERNELS.contains("cloe_pairwise_dots_v2_m4"));
    }

    @Test
    void backendIsRegisteredWithPriorityAboveCpu() {
        Backend cuda = Backends.all().stream().filter(b -> b.name().equals("cuda")).findFirst().orElseThrow();
        Backend cpu = Backends.all().stream().filter(b -> b.name().equals("cpu")).findFirst().orElseThrow();
        assertTrue(cuda.priority() > cpu.priority());
    }

    @Test
    void withoutADriverTheBackendIsUnavailableWithAReason() {
        assumeFalse(CudaDriver.get().isAvailable(), "a CUDA driver is present here");
        CudaBackend b = new CudaBackend();
        assertFalse(assertDoesNotThrow(b::isAvailable));
        String why = b.unavailableReason();
        assertTrue(why.contains("libcuda") || why.contains("GPU") || why.contains("cuInit"), why);
        assertFalse(NativeLibraries.isAvailable(NativeLibraries.Library.CUDA) && CudaDriver.get().devices().size() > 0);
    }

    @Test
    void withoutADriverPickGivesCpu() {
        assumeFalse(CudaDriver.get().isAvailable(), "a CUDA driver is present here");
        assertEquals("cpu", Backends.pick().name());
    }

    @Test
    void usingTheUnavailableBackendFailsNamingTheReason() {
        assumeFalse(CudaDriver.get().isAvailable(), "a CUDA driver is present here");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new CudaBackend().allocate(org.cloe4j.tensor.Shape.of(4)));
        assertTrue(e.getMessage().contains("unavailable"), e.getMessage());
    }

    @Test
    void aMissingDriverFunctionFailsWhenCalledNotBefore() {
        assumeFalse(NativeLibraries.isAvailable(NativeLibraries.Library.CUDA), "libcuda is present here");
        Throwable t = assertThrows(Throwable.class, () -> cuda_h.cuInit(0));
        Throwable root = t;
        while (root.getCause() != null) root = root.getCause();
        assertTrue(root.getMessage() != null && root.getMessage().contains("libcuda.so.1"), String.valueOf(root));
    }

    @Test
    void describeSaysWhatWasTriedForCudnn() {
        String d = NativeLibraries.describe(NativeLibraries.Library.CUDNN);
        assertTrue(d.startsWith("loaded ") || d.contains("libcudnn.so.9"), d);
    }
}
