package org.cloe4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A chart that cannot be drawn is a warning on stderr and no file, never an exception. */
public class ChartsTest {
    @TempDir
    Path tmp;

    /** Runs {@code body} with -Dcloe.charts.fail=true and stderr captured; returns what went to stderr. */
    public static String withChartsFailing(Runnable body) {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setProperty("cloe.charts.fail", "true");
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            body.run();
        } finally {
            System.setErr(old);
            System.clearProperty("cloe.charts.fail");
        }
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aDrawnChartIsAPng() throws Exception {
        Path png = tmp.resolve("ok.png");
        assertTrue(Charts.lines(png, "t", "x", "y", Map.of("a", new double[][] {{1, 2}, {3, 4}}), false));
        byte[] b = Files.readAllBytes(png);
        assertEquals((byte) 0x89, b[0]);
        assertEquals('P', b[1]);
    }

    @Test
    void aChartThatCannotBeDrawnWarnsAndWritesNothing() {
        Path lines = tmp.resolve("lines.png"), bars = tmp.resolve("bars.png");
        boolean[] drawn = new boolean[2];
        String err = withChartsFailing(() -> {
            try {
                drawn[0] = Charts.lines(lines, "t", "x", "y", Map.of("a", new double[][] {{1, 2}, {3, 4}}), true);
                drawn[1] = Charts.bars(bars, "t", "y", List.of("c"), Map.of("s", List.of(1.0)), 100);
            } catch (java.io.IOException e) {
                throw new AssertionError(e);
            }
        });
        assertFalse(drawn[0]);
        assertFalse(drawn[1]);
        assertFalse(Files.exists(lines));
        assertFalse(Files.exists(bars));
        assertTrue(err.contains("warning: chart " + lines) && err.contains("warning: chart " + bars), err);
        assertTrue(err.contains("cloe.charts.fail"), "the warning names the cause: " + err);
    }
}
