package org.cloe4j.cuda;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Choosing kernel versions and the conv engine with {@link CudaOptions}: pure Java, no GPU needed. */
class KernelVersionTest {

    private static CudaOptions from(Map<String, String> properties) {
        return CudaOptions.from(properties::get);
    }

    @Test
    void theNewestVersionIsTheDefault() {
        CudaOptions o = from(Map.of());
        assertEquals(3, o.version("instanceNorm"));
        assertEquals(3, o.version("sumTo"));
        assertEquals(2, o.version("pairwiseCosine"));
        assertEquals(2, o.version("weightedSum"));
        assertEquals(2, o.version("upsampleBackward"));
        assertEquals(3, o.version("conv3d"));
        assertEquals(CudaOptions.defaults(), o);
    }

    @Test
    void convRunsOnOurKernelsInFp32UnlessPropertiesSayOtherwise() {
        CudaOptions o = from(Map.of());
        assertEquals("kernels", o.conv());
        assertEquals("fp32", o.precision());
        assertEquals("kernels v3 fp32", o.convDescription());
        assertEquals("kernels v2 bf16", new ConvVariant("kernels", 2, "bf16").applyTo(o).convDescription());
        assertEquals("cudnn tf32 (tensor-op math)", new ConvVariant("cudnn", 0, "tf32").applyTo(o).convDescription());
        assertEquals("kernels v2 bf16", from(Map.of("cloe.cuda.kernel.conv3d", "2", "cloe.cuda.conv.precision", " bf16"))
                .convDescription());
        assertEquals("kernels v3 fp32", o.convDescription(), "the options are immutable");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> from(Map.of("cloe.cuda.conv.precision", "fp16")));
        assertTrue(e.getMessage().contains("cloe.cuda.conv.precision"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> from(Map.of("cloe.cuda.conv", "cublas")));
        assertTrue(e.getMessage().contains("cloe.cuda.conv"), e.getMessage());
    }

    @Test
    void aPropertyPicksAnEarlierVersion() {
        assertEquals(1, from(Map.of("cloe.cuda.kernel.pairwiseCosine", "1")).version("pairwiseCosine"));
        assertEquals(1, CudaOptions.defaults().withVersion("pairwiseCosine", 1).version("pairwiseCosine"));
        assertEquals(2, CudaOptions.defaults().version("pairwiseCosine"), "withVersion makes a new value");
    }

    @Test
    void aVersionThatDoesNotExistIsRejectedNamingTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> from(Map.of("cloe.cuda.kernel.weightedSum", "3")));
        assertTrue(e.getMessage().contains("cloe.cuda.kernel.weightedSum"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> from(Map.of("cloe.cuda.kernel.sumTo", "two")));
        assertTrue(e.getMessage().contains("cloe.cuda.kernel.sumTo"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> CudaOptions.defaults().withVersion("weightedSum", 3));
        assertThrows(IllegalArgumentException.class, () -> CudaOptions.defaults().withVersion("relu", 1));
    }

    @Test
    void hostChecksAreOnUnlessSwitchedOff() {
        assertTrue(from(Map.of()).hostChecks());
        assertFalse(from(Map.of("cloe.cuda.hostChecks", "false")).hostChecks());
    }

    /** Runs {@code body} with system property {@code key} set to {@code value}, then restores it. */
    private static void withProperty(String key, String value, Runnable body) {
        String old = System.getProperty(key);
        System.setProperty(key, value);
        try {
            body.run();
        } finally {
            if (old == null) System.clearProperty(key);
            else System.setProperty(key, old);
        }
    }

    /** Options are read when the backend is built: a property set afterwards changes nothing (no GPU needed). */
    @Test
    void aBackendKeepsTheOptionsItWasBuiltWith() {
        String key = "cloe.cuda.kernel.weightedSum";
        withProperty(key, "1", () -> {
            CudaBackend be = new CudaBackend(0);
            assertEquals(1, be.options().version("weightedSum"));
            System.setProperty(key, "2");
            assertEquals(1, be.options().version("weightedSum"), "read once, at construction");
            CudaBackend other = be.withOptions(be.options().withVersion("weightedSum", 2));
            assertEquals(2, other.options().version("weightedSum"));
            assertEquals(1, be.options().version("weightedSum"));
            assertThrows(IllegalArgumentException.class, () -> be.withOptions(be.options().withLauncher("jcuda", false)),
                    "the launch path belongs to the device runtime");
        });
    }

    /** A bad property leaves the backend unavailable, saying which property (the CPU keeps working). */
    @Test
    void aBadPropertyMakesTheBackendUnavailableNamingIt() {
        String key = "cloe.cuda.conv.precision";
        withProperty(key, "fp16", () -> {
            CudaBackend be = new CudaBackend(0);
            assertFalse(be.isAvailable());
            assertTrue(be.unavailableReason().contains(key), be.unavailableReason());
            assertTrue(be.misconfigured());
        });
    }

    /**
     * With no backend named, a misconfigured CUDA backend is not skipped in silence: the CPU runs and a warning names
     * the bad property. A CUDA backend that is merely absent (no driver here) is skipped without a warning.
     */
    @Test
    void autoWarnsWhenABadPropertyMovesTheWorkToTheCpu() {
        String key = "cloe.cuda.kernel.sumTo";
        withProperty(key, "banana", () -> {
            var err = new java.io.ByteArrayOutputStream();
            org.cloe4j.backend.Backend cpu = new org.cloe4j.backend.cpu.CpuBackend();
            org.cloe4j.backend.Backend picked = org.cloe4j.backend.Backends.best(
                    java.util.List.of(new CudaBackend(0), cpu), new java.io.PrintStream(err, true));
            assertEquals("cpu", picked.name());
            String warning = err.toString(java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(warning.contains("backend 'cuda' skipped") && warning.contains(key), warning);
        });
        CudaBackend plain = new CudaBackend(0);
        assertFalse(plain.misconfigured(), "no property set: not misconfigured");
    }
}
