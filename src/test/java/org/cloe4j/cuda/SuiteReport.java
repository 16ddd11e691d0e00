package org.cloe4j.cuda;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/**
 * The GPU suite's Markdown report, written as it goes: every line is appended to the file and flushed to the disk
 * the moment it is known (one row per test), so a run cut short (a time box, a killed machine) still leaves what it
 * learned. Failures are also printed on the console as they happen. One report takes the rows of every stage (each
 * stage runs in its own JVM and appends its own section).
 */
final class SuiteReport {
    /** A row's result. */
    enum Result { PASSED, FAILED, SKIPPED, NOT_RUN }

    private final Path file;
    private final PrintStream console;
    private int passed, failed, skipped, notRun;

    SuiteReport(Path file, PrintStream console) {
        this.file = file;
        this.console = console;
        try {
            if (file.getParent() != null) Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("gpu-suite: cannot create the report's folder " + file.getParent(), e);
        }
    }

    Path file() {
        return file;
    }

    /** Appends {@code text} (a line break added when missing) and forces it to the disk. */
    synchronized void append(String text) {
        String t = text.endsWith("\n") ? text : text + "\n";
        try (var ch = java.nio.channels.FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ch.write(java.nio.ByteBuffer.wrap(t.getBytes(StandardCharsets.UTF_8)));
            ch.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException("gpu-suite: cannot append to " + file, e);
        }
    }

    /** A stage's heading and its table's header; the counts start again. */
    void stage(String name, String what, int timeBoxSeconds) {
        passed = failed = skipped = notRun = 0;
        append(String.format(Locale.ROOT, "%n## Stage %s: %s (time box %d s)%n%n| test | result | ms | note |%n|---|---|---|---|",
                name, what, timeBoxSeconds));
        console.printf(Locale.ROOT, "gpu-suite: stage %s: %s (time box %d s)%n", name, what, timeBoxSeconds);
    }

    /** One row; a failure is printed on the console at once. */
    void row(String test, Result result, long ms, String note) {
        switch (result) {
            case PASSED -> passed++;
            case FAILED -> failed++;
            case SKIPPED -> skipped++;
            case NOT_RUN -> notRun++;
        }
        String shown = switch (result) {
            case PASSED -> "passed";
            case FAILED -> "**FAILED**";
            case SKIPPED -> "skipped";
            case NOT_RUN -> "not run";
        };
        append("| " + cell(test) + " | " + shown + " | " + ms + " | " + cell(note) + " |");
        if (result == Result.FAILED) console.println("gpu-suite: FAILED " + test + ": " + oneLine(note));
    }

    /** The stage's closing line (the counts since {@link #stage}). */
    void stageSummary(String name, double seconds) {
        String s = String.format(Locale.ROOT, "%nStage %s: %d passed, %d failed, %d skipped, %d not run, %.1f s.", name, passed,
                failed, skipped, notRun, seconds);
        append(s);
        console.println("gpu-suite:" + s.strip().substring("Stage".length()));
    }

    int failed() {
        return failed;
    }

    static String oneLine(String s) {
        return s == null ? "" : s.replace('\r', ' ').replace('\n', ' ');
    }

    /** A table cell: one line, no pipe, at most 400 characters. */
    static String cell(String s) {
        String one = oneLine(s).replace('|', '/');
        return one.length() > 400 ? one.substring(0, 400) + "…" : one;
    }
}
