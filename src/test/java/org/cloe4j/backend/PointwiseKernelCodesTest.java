package org.cloe4j.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The op codes {@link Pointwise} passes and the cases the CUDA kernels switch on are one numbering: each of the two
 * switches in {@code kernels/activation.cu} ({@code cloe_pointwise_f}, {@code cloe_pointwise_df}) has exactly one
 * {@code case CODE: / * NAME * /} per constant, with the constant's code and name, and nothing else. Without a GPU
 * (read from the source); the parity tests then run every constant through the kernels on the simulator.
 */
class PointwiseKernelCodesTest {
    static final Path KERNEL = Path.of("kernels/activation.cu");
    static final List<String> SWITCHES = List.of("cloe_pointwise_f", "cloe_pointwise_df");
    private static final Pattern CASE = Pattern.compile("case\\s+(\\d+)\\s*:\\s*/\\*\\s*([A-Za-z0-9_]+)\\s*\\*/");

    /** The {@code case} labels of device function {@code fn}'s body in {@code source}: code to the name in its comment. */
    static Map<Integer, String> cases(String source, String fn) {
        Matcher def = Pattern.compile("float\\s+" + fn + "\\s*\\(").matcher(source);
        if (!def.find()) throw new AssertionError(KERNEL + " has no device function " + fn);
        int open = source.indexOf('{', def.end());
        int depth = 0, end = open;
        for (; end < source.length(); end++) {
            char ch = source.charAt(end);
            if (ch == '{') depth++;
            if (ch == '}' && --depth == 0) break;
        }
        String body = source.substring(open, end);
        Map<Integer, String> out = new TreeMap<>();
        Matcher m = CASE.matcher(body);
        while (m.find()) {
            String prev = out.put(Integer.parseInt(m.group(1)), m.group(2));
            if (prev != null) throw new AssertionError(fn + ": case " + m.group(1) + " twice (" + prev + ", " + m.group(2) + ")");
        }
        Matcher labels = Pattern.compile("\\bcase\\s+\\w+\\s*:").matcher(body);
        int n = 0;
        while (labels.find()) n++;
        if (n != out.size()) throw new AssertionError(fn + ": a case without its /* NAME */ comment");
        return out;
    }

    /** What disagrees between {@code source}'s switches and the enum; empty when they are one numbering. */
    static List<String> mismatches(String source) {
        Map<Integer, String> java = new TreeMap<>();
        for (Pointwise f : Pointwise.values()) java.put(f.code(), f.name());
        List<String> problems = new ArrayList<>();
        for (String fn : SWITCHES) {
            Map<Integer, String> cu = cases(source, fn);
            if (!cu.equals(java)) problems.add(fn + " switches on " + cu + ", the Java codes are " + java);
        }
        return problems;
    }

    @Test
    void everyConstantHasItsCodeInBothKernelSwitchesAndNothingElseIsThere() throws IOException {
        assertEquals(List.of(), mismatches(Files.readString(KERNEL)),
                "kernels/activation.cu and org.cloe4j.backend.Pointwise disagree");
    }

    @Test
    void theCheckCatchesAMissingCaseAWrongLabelAndAStrayCase() throws IOException {
        String real = Files.readString(KERNEL);
        String sigmoid = "case " + Pointwise.SIGMOID.code() + ": /* SIGMOID */";
        assertTrue(real.contains(sigmoid), "the kernel's sigmoid case looks like " + sigmoid);
        // the backward switch loses its sigmoid case (a new constant whose derivative was forgotten)
        int bwd = real.indexOf("cloe_pointwise_df");
        int at = real.indexOf(sigmoid, bwd);
        String missing = real.substring(0, at) + "/* removed */" + real.substring(at + sigmoid.length());
        assertFalse(mismatches(missing).isEmpty(), "a switch without a constant's case must be reported");
        // a label that is not the constant's code
        assertFalse(mismatches(real.replace(sigmoid, "case 7: /* SIGMOID */")).isEmpty(), "a wrong label must be reported");
        // a case no constant has
        String stray = real.replace(sigmoid, sigmoid + " return 0.f;\n    case 99: /* SOFTSIGN */");
        assertFalse(mismatches(stray).isEmpty(), "a case without a constant must be reported");
    }

    @Test
    void codesAreDistinctAndEveryConstantHasTestCases() {
        Map<Integer, Pointwise> seen = new TreeMap<>();
        for (Pointwise f : Pointwise.values()) {
            Pointwise prev = seen.put(f.code(), f);
            assertEquals(null, prev, "code " + f.code() + " is used by " + prev + " and " + f);
            assertFalse(PointwiseCases.cases(f).isEmpty(), f + " has no case in PointwiseCases");
            assertTrue(f.readsInput() || f.readsOutput(), f + ": its derivative reads neither x nor y");
        }
    }
}
