package org.cloe4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.cloe4j.io.AtomicFiles;
import org.cloe4j.io.Charts;

/** The per-step CSV log of a run ({@code train_log.csv}) and its picture ({@code loss_curves.png}, epoch means). */
final class TrainingLog {
    static final List<String> TERMS = List.of("seg", "experts", "mec", "rec", "region");
    private static final String HEADER = "epoch,step,lr,loss," + String.join(",", TERMS);

    private final Path csv;
    private final Path png;
    private final List<String> rows = new ArrayList<>();

    TrainingLog(Path runDir) {
        this.csv = runDir.resolve("train_log.csv");
        this.png = runDir.resolve("loss_curves.png");
    }

    Path csv() {
        return csv;
    }

    Path png() {
        return png;
    }

    /** On resume: keep the rows of the epochs the checkpoint holds, drop those of an interrupted epoch. */
    void keepEpochsBefore(int epoch) throws IOException {
        rows.clear();
        if (!Files.isRegularFile(csv)) return;
        for (String line : Files.readAllLines(csv)) {
            if (line.startsWith("epoch") || line.isBlank()) continue;
            if (Integer.parseInt(line.substring(0, line.indexOf(','))) < epoch) rows.add(line);
        }
    }

    void add(int epoch, int step, float lr, double loss, Map<String, Double> terms) {
        StringBuilder sb = new StringBuilder();
        sb.append(epoch).append(',').append(step).append(',').append(String.format(Locale.ROOT, "%.6g", lr)).append(',')
                .append(String.format(Locale.ROOT, "%.6f", loss));
        for (String t : TERMS) {
            Double v = terms.get(t);
            sb.append(',').append(v == null ? "" : String.format(Locale.ROOT, "%.6f", v));
        }
        rows.add(sb.toString());
    }

    /** Rewrites the CSV and the PNG (both atomically). */
    void flush() throws IOException {
        AtomicFiles.writeString(csv, HEADER + "\n" + String.join("\n", rows) + "\n");
        Map<String, TreeMap<Integer, double[]>> means = new LinkedHashMap<>();
        List<String> series = new ArrayList<>(List.of("loss"));
        series.addAll(TERMS);
        for (String s : series) means.put(s, new TreeMap<>());
        for (String row : rows) {
            String[] f = row.split(",", -1);
            int epoch = Integer.parseInt(f[0]);
            for (int i = 0; i < series.size(); i++) {
                String v = f[3 + i];
                if (v.isEmpty()) continue;
                double[] acc = means.get(series.get(i)).computeIfAbsent(epoch + 1, k -> new double[2]);
                acc[0] += Double.parseDouble(v);
                acc[1]++;
            }
        }
        Map<String, double[][]> lines = new LinkedHashMap<>();
        means.forEach((name, m) -> {
            if (m.isEmpty()) return;
            double[][] xy = new double[2][m.size()];
            int i = 0;
            for (Map.Entry<Integer, double[]> e : m.entrySet()) {
                xy[0][i] = e.getKey();
                xy[1][i++] = e.getValue()[0] / e.getValue()[1];
            }
            lines.put(name, xy);
        });
        Charts.lines(png, "Training loss (epoch means)", "epoch", "loss", lines, true);
    }
}
