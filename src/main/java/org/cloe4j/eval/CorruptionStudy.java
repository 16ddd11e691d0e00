package org.cloe4j.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.cloe4j.infer.Segmenter;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.Corruption;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.Volume;
import org.cloe4j.io.Charts;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;

/**
 * CLoE's reliability claim, measured: one sequence of each test case corrupted (kind and strength), the case segmented
 * with every sequence given; per condition the corrupted sequence's gate weight w and agreement u, and Dice WT/TC/ET
 * (means over the cases), beside the same sequence left out altogether. Run it with a full model and with its
 * {@code no-gate} and {@code no-weighted-fusion} ablations to compare how much a bad sequence hurts each.
 */
public final class CorruptionStudy {

    /** One corruption: kind and strength (strength unused by wrong-sequence). */
    public record Condition(Corruption kind, double strength) {
        public static Condition parse(String s) {
            String[] p = s.split(":");
            return new Condition(Corruption.parse(p[0].trim()), p.length > 1 ? Double.parseDouble(p[1].trim()) : 0);
        }

        public String label() {
            return kind == Corruption.WRONG_SEQUENCE ? "wrong-sequence" : kind.cliName() + " " + strength;
        }
    }

    /** Means over the cases for one condition ("clean", a corruption, or "left out"). */
    public record Row(String condition, double w, double u, double[] dice) {}

    private CorruptionStudy() {}

    public static List<Row> run(CloeModel model, List<CaseRecord> cases, Modality target, List<Condition> conditions,
                                boolean gaussian) {
        Segmenter seg = new Segmenter(model, gaussian);
        ModalityMask full = ModalityMask.full(model.config().modalities());
        ModalityMask without = full.without(target);
        EvalRegions regions = EvalRegions.of(cases.get(0).scheme());
        Preprocessor pre = new Preprocessor(Preprocessor.DEFAULT_MIN_CROP, Preprocessor.DEFAULT_AFFINE_TOLERANCE,
                model.config().inputNormalisation());
        List<String> labels = new ArrayList<>(List.of("clean"));
        for (Condition c : conditions) labels.add(c.label());
        labels.add(target.name() + " left out");
        double[][] sums = new double[labels.size()][2 + regions.names().size()];
        for (int k = 0; k < cases.size(); k++) {
            CaseRecord r = cases.get(k);
            Map<Modality, Volume> raw = new LinkedHashMap<>();
            for (var e : r.images().entrySet()) raw.put(e.getKey(), NiftiReader.read(e.getValue().file()));
            Volume label = NiftiReader.read(r.label());
            for (int j = 0; j < labels.size(); j++) {
                Map<Modality, Volume> in = new LinkedHashMap<>(raw);
                if (j >= 1 && j <= conditions.size()) {
                    Condition c = conditions.get(j - 1);
                    in.put(target, c.kind().apply(raw, target, c.strength(), 1_000_003L * k + j));
                }
                PreparedCase p = pre.prepare(r.id(), List.copyOf(raw.keySet()), in, label, r.scheme());
                boolean leftOut = j == labels.size() - 1;
                Segmenter.Segmentation s = seg.segment(p, leftOut ? without : full);
                int t = s.reliability().modalities().indexOf(target);
                sums[j][0] += t < 0 ? 0 : s.reliability().w()[t];
                sums[j][1] += t < 0 ? Double.NaN : s.reliability().u()[t];
                for (int g = 0; g < regions.names().size(); g++) {
                    sums[j][2 + g] += RegionDice.dice(regions.mask(s.classes(), g), regions.mask(p.labels(), g));
                }
            }
        }
        List<Row> rows = new ArrayList<>();
        for (int j = 0; j < labels.size(); j++) {
            double[] dice = new double[regions.names().size()];
            for (int g = 0; g < dice.length; g++) dice[g] = sums[j][2 + g] / cases.size();
            rows.add(new Row(labels.get(j), sums[j][0] / cases.size(), sums[j][1] / cases.size(), dice));
        }
        return rows;
    }

    /**
     * Writes comparison.md, comparison.csv and comparison.png into {@code dir}: per condition, each model's w and u of
     * the corrupted sequence and Dice WT/TC/ET side by side ({@code byModel}: label → rows of the same conditions, in
     * the same order). Returns the Markdown table.
     */
    public static String writeComparison(Map<String, List<Row>> byModel, Path dir, String title, Modality target)
            throws IOException {
        List<String> models = List.copyOf(byModel.keySet());
        List<Row> first = byModel.get(models.get(0));
        for (String m : models) {
            List<String> c = byModel.get(m).stream().map(Row::condition).toList();
            if (!c.equals(first.stream().map(Row::condition).toList())) {
                throw new IllegalArgumentException("model " + m + " was studied under other conditions: " + c);
            }
        }
        String t = target.name();
        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n| condition of ").append(t).append(" | model | w (")
                .append(t).append(") | u (").append(t).append(") | Dice WT | Dice TC | Dice ET |\n|---|---|---:|---:|---:|---:|---:|\n");
        StringBuilder csv = new StringBuilder("condition,model,w,u,dice_WT,dice_TC,dice_ET\n");
        for (int j = 0; j < first.size(); j++) {
            for (String m : models) {
                Row r = byModel.get(m).get(j);
                md.append(String.format(Locale.ROOT, "| %s | %s | %.3f | %.3f | %.2f | %.2f | %.2f |%n", r.condition(), m,
                        r.w(), r.u(), 100 * r.dice()[0], 100 * r.dice()[1], 100 * r.dice()[2]));
                csv.append(String.format(Locale.ROOT, "%s,%s,%.4f,%.4f,%.4f,%.4f,%.4f%n", r.condition(), m, r.w(), r.u(),
                        r.dice()[0], r.dice()[1], r.dice()[2]));
            }
        }
        AtomicFiles.writeString(dir.resolve("comparison.md"), md.toString());
        AtomicFiles.writeString(dir.resolve("comparison.csv"), csv.toString());
        List<String> cats = first.stream().map(Row::condition).toList();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        for (String m : models) series.put("Dice WT % " + m, byModel.get(m).stream().map(r -> 100 * r.dice()[0]).toList());
        for (String m : models) series.put("Dice TC % " + m, byModel.get(m).stream().map(r -> 100 * r.dice()[1]).toList());
        for (String m : models) {
            series.put("w of " + t + " × 100, " + m, byModel.get(m).stream().map(r -> 100 * r.w()).toList());
        }
        Charts.bars(dir.resolve("comparison.png"), title, "%", cats, series, 100);
        return md.toString();
    }

    /**
     * The rows of a corruption.csv written by {@link #write}, or null when the file is missing or lists other
     * conditions than clean, {@code conditions} and the sequence left out, in that order.
     */
    public static List<Row> read(Path csv, List<Condition> conditions, Modality target) throws IOException {
        if (!java.nio.file.Files.isRegularFile(csv)) return null;
        List<String> lines = java.nio.file.Files.readAllLines(csv);
        List<String> want = new ArrayList<>(List.of("clean"));
        for (Condition c : conditions) want.add(c.label());
        want.add(target.name() + " left out");
        if (lines.size() != want.size() + 1) return null;
        List<Row> rows = new ArrayList<>();
        for (int j = 0; j < want.size(); j++) {
            String[] f = lines.get(j + 1).split(",");
            if (f.length != 6 || !f[0].equals(want.get(j))) return null;
            rows.add(new Row(f[0], Double.parseDouble(f[1]), Double.parseDouble(f[2]),
                    new double[]{Double.parseDouble(f[3]), Double.parseDouble(f[4]), Double.parseDouble(f[5])}));
        }
        return rows;
    }

    /** Writes corruption.md, corruption.csv and corruption.png into {@code dir}; returns the Markdown table. */
    public static String write(List<Row> rows, Path dir, String title, Modality target) throws IOException {
        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n| condition of ").append(target.name())
                .append(" | w (").append(target.name()).append(") | u (").append(target.name())
                .append(") | Dice WT | Dice TC | Dice ET |\n|---|---:|---:|---:|---:|---:|\n");
        StringBuilder csv = new StringBuilder("condition,w,u,dice_WT,dice_TC,dice_ET\n");
        for (Row r : rows) {
            md.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %.2f | %.2f | %.2f |%n", r.condition(), r.w(), r.u(),
                    100 * r.dice()[0], 100 * r.dice()[1], 100 * r.dice()[2]));
            csv.append(String.format(Locale.ROOT, "%s,%.4f,%.4f,%.4f,%.4f,%.4f%n", r.condition(), r.w(), r.u(),
                    r.dice()[0], r.dice()[1], r.dice()[2]));
        }
        AtomicFiles.writeString(dir.resolve("corruption.md"), md.toString());
        AtomicFiles.writeString(dir.resolve("corruption.csv"), csv.toString());
        List<String> cats = rows.stream().map(Row::condition).toList();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("Dice WT %", rows.stream().map(r -> 100 * r.dice()[0]).toList());
        series.put("Dice TC %", rows.stream().map(r -> 100 * r.dice()[1]).toList());
        series.put("Dice ET %", rows.stream().map(r -> 100 * r.dice()[2]).toList());
        series.put("gate weight w of " + target.name() + " × 100", rows.stream().map(r -> 100 * r.w()).toList());
        Charts.bars(dir.resolve("corruption.png"), title, "%", cats, series, 100);
        return md.toString();
    }
}
