package org.cloe4j.io;

import java.io.PrintStream;
import java.time.Duration;
import java.time.temporal.ChronoUnit;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar with rate and ETA for long jobs: an in-place bar on a terminal, a line every few seconds when the
 * output is a log file, nothing when disabled (tests).
 */
public final class Progress implements AutoCloseable {
    private final ProgressBar bar;

    private Progress(ProgressBar bar) {
        this.bar = bar;
    }

    public static Progress start(String task, long total, String unit, boolean enabled) {
        return start(task, total, unit, enabled, System.err);
    }

    public static Progress start(String task, long total, String unit, boolean enabled, PrintStream out) {
        if (!enabled) return new Progress(null);
        boolean terminal = System.console() != null && out == System.err;
        ProgressBarBuilder b = new ProgressBarBuilder().setTaskName(task).setInitialMax(total)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" " + unit, 1).showSpeed()
                .setSpeedUnit(ChronoUnit.SECONDS);
        if (terminal) {
            b.setUpdateIntervalMillis(300).setConsumer(new ConsoleProgressBarConsumer(out));
        } else {
            b.setUpdateIntervalMillis(5000).setConsumer(new DelegatingProgressBarConsumer(out::println, 100));
        }
        return new Progress(b.build());
    }

    public void step(String message) {
        if (bar == null) return;
        bar.step();
        if (message != null) bar.setExtraMessage(message);
    }

    public static String duration(Duration d) {
        long s = d.toSeconds();
        return s >= 3600 ? String.format("%dh%02dm", s / 3600, s / 60 % 60) : String.format("%dm%02ds", s / 60, s % 60);
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
