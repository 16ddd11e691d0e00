package org.cloe4j.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.cloe4j.data.CropBox;
import org.cloe4j.data.LabelMaps;
import org.cloe4j.data.NiftiHeader;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.StudyGeometry;
import org.cloe4j.data.Volume;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.io.Charts;
import org.cloe4j.io.Progress;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.infer.Segmenter;

/**
 * The papers' evaluation: every test case under every one of the 2^M − 1 modality masks; per case and mask the Dice
 * of each region (BraTS: WT, TC, ET raw and ET after post-processing) and HD95 in mm; averages over cases per mask,
 * then over masks. Writes {@code cases.csv}, {@code table.csv}, {@code table.md} (with the published BraTS 2020
 * averages beside, labelled as such) and {@code dice_by_mask.png}. Scores are computed on each case's brain crop
 * (the whole tumour lies inside it); an HD95 with exactly one empty mask is the crop's diagonal in mm.
 */
public final class Evaluator {
    /** Published mean Dice (%) over the 15 masks on BraTS 2020 (docs/MODEL.md): WT, TC, ET. */
    static final Map<String, double[]> PUBLISHED = publishedTable();

    private static Map<String, double[]> publishedTable() {
        Map<String, double[]> m = new LinkedHashMap<>();
        m.put("CLoE", new double[]{88.09, 80.23, 65.06});
        m.put("DC-Seg", new double[]{87.54, 79.63, 65.00});
        m.put("M³AE", new double[]{86.90, 79.10, 61.70});
        m.put("RFNet", new double[]{86.98, 78.23, 61.47});
        return m;
    }

    private final CloeModel model;
    private final Segmenter segmenter;
    private final int minEnhancing;
    private final boolean removeSmallComponents;

    public Evaluator(CloeModel model, boolean gaussian, int minEnhancing) {
        this(model, gaussian, minEnhancing, true);
    }

    /**
     * {@code removeSmallComponents}: whether the scored map has the component post-processing
     * ({@link LabelMaps#removeSmallTumourComponents}, as {@code cloe predict} writes it); WT Dice and HD95 without it
     * are reported beside in either case.
     */
    public Evaluator(CloeModel model, boolean gaussian, int minEnhancing, boolean removeSmallComponents) {
        this(model, gaussian, minEnhancing, removeSmallComponents, 0);
    }

    /** As above, with the sliding window's edge ({@code 0}: {@link Segmenter#defaultWindow}). */
    public Evaluator(CloeModel model, boolean gaussian, int minEnhancing, boolean removeSmallComponents, int window) {
        this.model = model;
        this.segmenter = new Segmenter(model, gaussian, false, window);
        this.minEnhancing = minEnhancing;
        this.removeSmallComponents = removeSmallComponents;
    }

    /** Scores of one case under one mask. */
    /**
     * Scores of one case under one mask; {@code outsideHead} counts tumour voxels of the final map where every
     * available sequence of the case is background, {@code outsideHeadRaw} those of the network's raw map (before
     * {@link Segmenter#restrictToHead}) where every sequence of the mask is; {@code wtDiceAllComponents} and
     * {@code wtHd95AllComponents} score the whole tumour of the map before the component post-processing.
     */
    public record CaseScore(String caseId, ModalityMask mask, double[] dice, double etPostDice, double[] hd95,
                            double[] gateWeights, int outsideHead, int outsideHeadRaw, double wtDiceAllComponents,
                            double wtHd95AllComponents, double wtDiceLargestComponent, double wtHd95LargestComponent) {
    }

    /** Mean scores of one mask over the cases. */
    public record Row(ModalityMask mask, double[] dice, double etPostDice, double[] hd95) {
    }

    /** Everything an evaluation produced. */
    public record Report(List<String> regions, boolean brats, List<CaseScore> cases, List<Row> rows, Row mean) {
        /** Mean Dice of {@code region} over cases for {@code mask}. */
        public double dice(ModalityMask mask, String region) {
            for (Row r : rows) if (r.mask().equals(mask)) return r.dice()[regions.indexOf(region)];
            throw new IllegalArgumentException("no mask " + mask);
        }
    }

    /**
     * A test case on its own grid, scored there, and — when the model was trained on another grid — the same case
     * brought to the model's grid ({@code onModelGrid}, through {@code geometry}), which the model segments, as
     * {@code cloe predict} does; the labels go back to the case's grid before scoring. Both null: segmented as it is.
     */
    public record TestCase(PreparedCase own, PreparedCase onModelGrid, StudyGeometry geometry) {
        public static TestCase asIs(PreparedCase c) {
            return new TestCase(c, null, null);
        }
    }

    public Report evaluate(List<PreparedCase> cases, boolean progress) {
        return evaluateTests(cases.stream().map(TestCase::asIs).toList(), progress);
    }

    public Report evaluateTests(List<TestCase> cases, boolean progress) {
        if (cases.isEmpty()) throw new IllegalArgumentException("no test cases to evaluate");
        List<ModalityMask> masks = ModalityMask.all(model.config().modalities());
        EvalRegions regions = EvalRegions.of(cases.get(0).own().scheme());
        List<CaseScore> scores = new ArrayList<>();
        try (Progress bar = Progress.start("eval", cases.size(), "case", progress)) {
            for (TestCase t : cases) {
                PreparedCase c = t.own();
                if (!c.hasLabels()) throw new IllegalArgumentException("test case " + c.id() + " has no label map");
                if (t.onModelGrid() == null) {
                    for (Segmenter.Segmentation s : segmenter.segmentAll(c, masks)) scores.add(score(c, s, regions));
                } else {
                    for (Segmenter.Segmentation s : segmenter.segmentAll(t.onModelGrid(), masks)) {
                        byte[] own = toOwnGrid(s.classes(), t.onModelGrid(), t.geometry(), c);
                        Segmenter.restrictToHead(own, c, s.mask()); // interpolation may carry a label over the edge
                        scores.add(score(c, new Segmenter.Segmentation(s.mask(), own, s.reliability(), s.outsideHead()), regions));
                    }
                }
                bar.step(c.id());
            }
        }
        List<Row> rows = new ArrayList<>();
        for (ModalityMask m : masks) {
            rows.add(meanRow(m, scores.stream().filter(s -> s.mask().equals(m)).toList(), regions.names().size()));
        }
        Row mean = meanOfRows(rows, regions.names().size());
        return new Report(regions.names(), regions.brats(), scores, rows, mean);
    }

    private CaseScore score(PreparedCase c, Segmenter.Segmentation s, EvalRegions regions) {
        NiftiHeader g = c.geometry();
        double[] pd = g.pixdim();
        double[] spacing = {Math.abs(pd[1]), Math.abs(pd[2]), Math.abs(pd[3])};
        byte[] unfiltered = s.classes();
        byte[] pred = unfiltered;
        if (removeSmallComponents) {
            pred = unfiltered.clone();
            LabelMaps.removeSmallTumourComponents(pred, c.width(), c.height(), c.depth(), LabelMaps.DEFAULT_MIN_COMPONENT_FRACTION);
        }
        byte[] ref = c.labels();
        int n = regions.names().size();
        double[] dice = new double[n];
        double[] hd = new double[n];
        byte[] post = pred;
        if (regions.brats()) {
            post = pred.clone();
            LabelMaps.suppressSmallEnhancing(post, minEnhancing);
        }
        for (int r = 0; r < n; r++) {
            boolean[] pm = regions.mask(pred, r);
            boolean[] rm = regions.mask(ref, r);
            dice[r] = RegionDice.dice(pm, rm);
            // HD95 on the post-processed map: the map a user is given
            boolean[] pp = regions.mask(post, r);
            hd[r] = SurfaceDistance.hd95(pp, rm, c.width(), c.height(), c.depth(), spacing);
        }
        double etPost = regions.brats() ? RegionDice.dice(regions.mask(post, 2), regions.mask(ref, 2)) : Double.NaN;
        boolean[] wtAll = regions.mask(unfiltered, 0), wtRef = regions.mask(ref, 0);
        byte[] largest = unfiltered.clone();
        LabelMaps.removeSmallTumourComponents(largest, c.width(), c.height(), c.depth(), 1.0);
        boolean[] wtLargest = regions.mask(largest, 0);
        return new CaseScore(c.id(), s.mask(), dice, etPost, hd, s.reliability().w(), outsideHead(pred, c),
                s.outsideHead(), RegionDice.dice(wtAll, wtRef),
                SurfaceDistance.hd95(wtAll, wtRef, c.width(), c.height(), c.depth(), spacing),
                RegionDice.dice(wtLargest, wtRef), SurfaceDistance.hd95(wtLargest, wtRef, c.width(), c.height(), c.depth(), spacing));
    }

    /** A class map of {@code onGrid}'s crop (the model's grid) as a class map of {@code own}'s crop (the case's grid). */
    static byte[] toOwnGrid(byte[] classes, PreparedCase onGrid, StudyGeometry g, PreparedCase own) {
        Volume back = g.labelsToInput(LabelMaps.restore(classes, onGrid));
        byte[] all = own.scheme().toClasses(back);
        CropBox b = own.crop();
        int nx = back.nx(), ny = back.ny();
        byte[] out = new byte[b.voxels()];
        int i = 0;
        for (int z = 0; z < b.nz(); z++) {
            for (int y = 0; y < b.ny(); y++) {
                int o = ((z + b.z0()) * ny + y + b.y0()) * nx + b.x0();
                for (int x = 0; x < b.nx(); x++) out[i++] = all[o + x];
            }
        }
        return out;
    }

    /** Tumour voxels of {@code classes} where every available channel of {@code c} is 0 (outside the head). */
    public static int outsideHead(byte[] classes, PreparedCase c) {
        int n = c.voxels(), count = 0;
        float[] img = c.image();
        for (int i = 0; i < n; i++) {
            if (classes[i] == 0) continue;
            boolean head = false;
            for (int ch = 0; ch < c.channels() && !head; ch++) head = c.available()[ch] && img[ch * n + i] != 0;
            if (!head) count++;
        }
        return count;
    }

    private static Row meanRow(ModalityMask m, List<CaseScore> s, int n) {
        double[] dice = new double[n];
        double[] hd = new double[n];
        double et = 0;
        for (CaseScore c : s) {
            for (int r = 0; r < n; r++) {
                dice[r] += c.dice()[r] / s.size();
                hd[r] += c.hd95()[r] / s.size();
            }
            et += c.etPostDice() / s.size();
        }
        return new Row(m, dice, et, hd);
    }

    private static Row meanOfRows(List<Row> rows, int n) {
        double[] dice = new double[n];
        double[] hd = new double[n];
        double et = 0;
        for (Row r : rows) {
            for (int i = 0; i < n; i++) {
                dice[i] += r.dice()[i] / rows.size();
                hd[i] += r.hd95()[i] / rows.size();
            }
            et += r.etPostDice() / rows.size();
        }
        return new Row(null, dice, et, hd);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // reports

    /** Writes cases.csv, table.csv, table.md and dice_by_mask.png into {@code dir}; returns the Markdown table. */
    public static String write(Report r, Path dir, String title) throws IOException {
        StringBuilder cases = new StringBuilder("case,mask");
        for (String n : r.regions()) cases.append(",dice_").append(n);
        if (r.brats()) cases.append(",dice_ET_post");
        for (String n : r.regions()) cases.append(",hd95_").append(n);
        cases.append(",gate_weights,outside_head,outside_head_raw,dice_WT_all_components,hd95_WT_all_components,dice_WT_largest_component,hd95_WT_largest_component\n");
        for (CaseScore c : r.cases()) {
            cases.append(c.caseId()).append(',').append(c.mask().label());
            for (double d : c.dice()) cases.append(',').append(f4(d));
            if (r.brats()) cases.append(',').append(f4(c.etPostDice()));
            for (double d : c.hd95()) cases.append(',').append(f2(d));
            cases.append(',');
            for (int i = 0; i < c.gateWeights().length; i++) {
                cases.append(i > 0 ? " " : "").append(f4(c.gateWeights()[i]));
            }
            cases.append(',').append(c.outsideHead()).append(',').append(c.outsideHeadRaw());
            cases.append(',').append(f4(c.wtDiceAllComponents())).append(',').append(f2(c.wtHd95AllComponents()));
            cases.append(',').append(f4(c.wtDiceLargestComponent())).append(',').append(f2(c.wtHd95LargestComponent()));
            cases.append('\n');
        }
        AtomicFiles.writeString(dir.resolve("cases.csv"), cases.toString());

        StringBuilder csv = new StringBuilder("mask");
        for (String n : r.regions()) csv.append(",dice_").append(n);
        if (r.brats()) csv.append(",dice_ET_post");
        for (String n : r.regions()) csv.append(",hd95_").append(n);
        csv.append('\n');
        List<Row> all = new ArrayList<>(r.rows());
        all.add(r.mean());
        for (Row row : all) {
            csv.append(row.mask() == null ? "mean" : row.mask().label());
            for (double d : row.dice()) csv.append(',').append(f4(d));
            if (r.brats()) csv.append(',').append(f4(row.etPostDice()));
            for (double d : row.hd95()) csv.append(',').append(f2(d));
            csv.append('\n');
        }
        AtomicFiles.writeString(dir.resolve("table.csv"), csv.toString());

        String md = markdown(r, title);
        AtomicFiles.writeString(dir.resolve("table.md"), md);

        List<String> cats = new ArrayList<>();
        for (Row row : r.rows()) cats.add(row.mask().label());
        cats.add("mean");
        Map<String, List<Double>> series = new LinkedHashMap<>();
        for (int i = 0; i < r.regions().size(); i++) {
            List<Double> v = new ArrayList<>();
            for (Row row : all) v.add(100 * row.dice()[i]);
            series.put("Dice " + r.regions().get(i) + " (this run)", v);
        }
        Charts.bars(dir.resolve("dice_by_mask.png"), title + " — Dice (%) per available-sequence set", "Dice %",
                cats, series, 100);
        return md;
    }

    static String markdown(Report r, String title) {
        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n");
        md.append("Dice (%) and HD95 (mm) averaged over the test cases, for each set of available sequences.\n\n| sequences |");
        for (String n : r.regions()) md.append(" Dice ").append(n).append(" |");
        if (r.brats()) md.append(" Dice ET (post) |");
        for (String n : r.regions()) md.append(" HD95 ").append(n).append(" |");
        md.append("\n|---|");
        int cols = r.regions().size() * 2 + (r.brats() ? 1 : 0);
        md.append("---:|".repeat(cols)).append('\n');
        List<Row> all = new ArrayList<>(r.rows());
        all.add(r.mean());
        for (Row row : all) {
            md.append("| ").append(row.mask() == null ? "**mean**" : row.mask().label()).append(" |");
            for (double d : row.dice()) md.append(' ').append(String.format(Locale.ROOT, "%.2f", 100 * d)).append(" |");
            if (r.brats()) md.append(' ').append(String.format(Locale.ROOT, "%.2f", 100 * row.etPostDice())).append(" |");
            for (double d : row.hd95()) md.append(' ').append(f2(d)).append(" |");
            md.append('\n');
        }
        long outside = r.cases().stream().mapToLong(CaseScore::outsideHead).sum();
        long raw = r.cases().stream().mapToLong(CaseScore::outsideHeadRaw).sum();
        md.append("\nPredicted tumour voxels outside the head (every sequence background), over all cases and sets: ")
                .append(outside).append(" (the network's raw output had ").append(raw)
                .append(" there, set to background by the head restriction).\n");
        double allDice = r.cases().stream().mapToDouble(CaseScore::wtDiceAllComponents).average().orElse(Double.NaN);
        double allHd = r.cases().stream().mapToDouble(CaseScore::wtHd95AllComponents).average().orElse(Double.NaN);
        md.append("\nWhole tumour before the component post-processing (tumour components under a tenth of the largest ")
                .append("removed), mean over all cases and sets: Dice ").append(String.format(Locale.ROOT, "%.2f", 100 * allDice))
                .append(" %, HD95 ").append(f2(allHd)).append(" mm.\n");
        if (r.brats()) {
            md.append("\n## Published results, BraTS 2020 (not comparable)\n\n")
                    .append("Mean Dice (%) over the 15 combinations on the BraTS 2020 test split, as published (CLoE, arXiv 2603.09316). ")
                    .append("They were measured on real scans; the numbers above come from whatever cohort this evaluation ran on ")
                    .append("(a synthetic one in the demo), so the two are not comparable.\n\n| method | WT | TC | ET |\n|---|---:|---:|---:|\n");
            PUBLISHED.forEach((k, v) -> md.append("| ").append(k).append(" | ").append(v[0]).append(" | ").append(v[1])
                    .append(" | ").append(v[2]).append(" |\n"));
        }
        return md.toString();
    }

    private static String f4(double d) {
        return String.format(Locale.ROOT, "%.4f", d);
    }

    private static String f2(double d) {
        return String.format(Locale.ROOT, "%.2f", d);
    }
}
