package org.cloe4j.io;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * PNG charts (XChart) for results a person would rather look at, written atomically.
 *
 * <p>A chart is a convenience, never the result: when it cannot be drawn (a machine without fonts, a headless AWT
 * failure, a missing native library: common in CUDA containers) the method prints a warning on stderr, writes no file
 * and returns {@code false}; the command that asked for it carries on. Failing to <em>write</em> the drawn bytes (an
 * unwritable folder) is still an {@link IOException}, as for every other output. {@code -Dcloe.charts.fail=true}
 * forces the drawing failure, to check that path without breaking the machine's fonts.
 */
public final class Charts {
    private Charts() {
    }

    /** A line chart: series name → {x[], y[]}. Returns whether it was drawn (see the class comment). */
    public static boolean lines(Path png, String title, String xLabel, String yLabel, Map<String, double[][]> series,
                             boolean logY) throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(520).title(title).xAxisTitle(xLabel).yAxisTitle(yLabel).build();
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setMarkerSize(4);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        series.forEach((name, xy) -> {
            double[] y = xy[1];
            if (logY) {
                y = y.clone();
                for (int i = 0; i < y.length; i++) y[i] = Math.max(y[i], 1e-6);
            }
            chart.addSeries(name, xy[0], y);
        });
        return write(png, chart);
    }

    /** A grouped bar chart: categories on x, one bar per series. Returns whether it was drawn. */
    public static boolean bars(Path png, String title, String yLabel, List<String> categories,
                            Map<String, List<Double>> series, double yMax) throws IOException {
        CategoryChart chart = new CategoryChartBuilder().width(1400).height(600).title(title).yAxisTitle(yLabel).build();
        chart.getStyler().setAvailableSpaceFill(0.8);
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(yMax);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        series.forEach((name, values) -> chart.addSeries(name, categories, values));
        return write(png, chart);
    }

    private static boolean write(Path png, org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) throws IOException {
        byte[] bytes;
        try {
            if (Boolean.getBoolean("cloe.charts.fail")) throw new java.awt.AWTError("drawing failure forced by -Dcloe.charts.fail");
            bytes = BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (Exception | LinkageError | java.awt.AWTError | InternalError e) {
            // fonts and AWT fail in many ways (AWTError, UnsatisfiedLinkError, NoClassDefFoundError, InternalError
            // from fontconfig, NullPointerException inside the font manager): all of them mean "no chart here"
            System.err.println("warning: chart " + png + " not drawn (" + e + "); the results are in the text files");
            return false;
        }
        AtomicFiles.write(png, out -> out.write(bytes));
        return true;
    }
}
