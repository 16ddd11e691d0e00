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

/** PNG charts (XChart) for results a person would rather look at, written atomically. */
public final class Charts {
    private Charts() {
    }

    /** A line chart: series name → {x[], y[]}. */
    public static void lines(Path png, String title, String xLabel, String yLabel, Map<String, double[][]> series,
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
        write(png, chart);
    }

    /** A grouped bar chart: categories on x, one bar per series. */
    public static void bars(Path png, String title, String yLabel, List<String> categories,
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
        write(png, chart);
    }

    private static void write(Path png, org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) throws IOException {
        AtomicFiles.write(png, out -> BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG));
    }
}
