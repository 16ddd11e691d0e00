package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.NativeLibraries;
import org.cloe4j.cuda.ffm.gen.HeaderParser;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Which kernels of native/cloe_kernels.h the CUDA tests executed on the CUDA simulator, counted by the simulated
 * driver per kernel name. Runs last in the simulator's surefire execution (classes in name order); prints the table
 * (also written to target/sim/kernel-coverage.md) and fails when a kernel of the header never ran, except the
 * exemptions named below with their reason.
 */
class SimulatedKernelCoverageTest {
    /** Kernels the CUDA tests do not launch on the simulator, and why. */
    private static final Map<String, String> EXEMPT = Map.of(
            "cloe_pad_reflect1_fwd", "cuDNN conv path only (-Dcloe.cuda.conv=cudnn), needs cuDNN",
            "cloe_pad_reflect1_bwd", "cuDNN conv path only (-Dcloe.cuda.conv=cudnn), needs cuDNN",
            "cloe_bias_add_channels", "cuDNN conv path only (-Dcloe.cuda.conv=cudnn), needs cuDNN");

    @Test
    @SuppressWarnings("restricted")
    void everyKernelOfTheHeaderRanOnTheSimulator() throws Throwable {
        assumeTrue(GpuTest.simulated(), "runs in the simulator's test execution (-Dcloe.cuda.driver=sim)");
        GpuTest.cudaOrSkip();
        MethodHandle count = Linker.nativeLinker().downcallHandle(
                NativeLibraries.find(NativeLibraries.Library.CUDA, "cloe_sim_launch_count"),
                FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
        List<String> kernels = kernelsOfTheHeader();
        Map<String, Long> launches = new TreeMap<>();
        try (Arena a = Arena.ofConfined()) {
            for (String k : kernels) launches.put(k, (long) count.invokeExact(a.allocateFrom(k)));
        }
        List<String> missing = new ArrayList<>();
        long total = 0;
        StringBuilder table = new StringBuilder("| kernel | launches (simulated) |\n|---|---|\n");
        for (Map.Entry<String, Long> e : launches.entrySet()) {
            table.append("| `").append(e.getKey()).append("` | ").append(e.getValue()).append(" |\n");
            total += e.getValue();
            if (e.getValue() == 0 && !EXEMPT.containsKey(e.getKey())) missing.add(e.getKey());
        }
        long ran = launches.values().stream().filter(v -> v > 0).count();
        String summary = String.format("CUDA simulator: %d of %d kernels of native/cloe_kernels.h executed (%d launches, "
                + "simulated device); by version: %s; exempt: %s", ran, kernels.size(), total, byVersion(launches), EXEMPT);
        System.out.println(summary);
        System.out.print(table);
        Files.createDirectories(Path.of("target/sim"));
        Files.writeString(Path.of("target/sim/kernel-coverage.md"), summary + "\n\n" + table, StandardCharsets.UTF_8);
        assertTrue(missing.isEmpty(), "kernels never launched on the simulator: " + missing + "\n" + summary);
    }

    static List<String> kernelsOfTheHeader() throws IOException {
        String text = Files.readString(Path.of("native/cloe_kernels.h"), StandardCharsets.UTF_8);
        return HeaderParser.parse("native/cloe_kernels.h", text).functions().stream().map(HeaderParser.Function::name).toList();
    }

    /** "v1 5/5, v2 ..." over the kernels whose name carries a version. */
    private static String byVersion(Map<String, Long> launches) {
        StringBuilder sb = new StringBuilder();
        for (String v : List.of("_v1", "_v2", "_v3")) {
            long all = launches.keySet().stream().filter(k -> k.contains(v)).count();
            long ran = launches.entrySet().stream().filter(e -> e.getKey().contains(v) && e.getValue() > 0).count();
            sb.append(v.substring(1)).append(' ').append(ran).append('/').append(all).append(", ");
        }
        long un = launches.keySet().stream().filter(k -> !k.matches(".*_v[123].*")).count();
        long unRan = launches.entrySet().stream().filter(e -> !e.getKey().matches(".*_v[123].*") && e.getValue() > 0).count();
        return sb.append("unversioned ").append(unRan).append('/').append(un).toString();
    }
}
