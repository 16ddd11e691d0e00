package org.cloe4j.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.cloe4j.data.Modality;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.infer.Reliability;
import org.cloe4j.infer.Segmenter;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.model.ModalityMask;

/**
 * What agreement each sequence's expert showed on the validation cases at the end of training, and the level below
 * which a new case's sequence is flagged as unreliable: per sequence, the mean and standard deviation of the global
 * agreement u (all sequences given) and the threshold {@code mean − k·max(sd, minSd)}; the gate weight w likewise.
 * Stored beside the weights as {@value #FILE}, so a checkpoint carries its own calibration.
 *
 * @param modalities the sequences, in the model's order
 * @param meanU      mean u per sequence over the validation cases
 * @param sdU        its standard deviation
 * @param meanW      mean gate weight w
 * @param sdW        its standard deviation
 * @param cases      number of validation cases
 * @param k          how many standard deviations below the mean flag a sequence
 * @param minSd      floor on the standard deviations (a handful of validation cases underestimates them)
 */
public record ReliabilityThresholds(List<Modality> modalities, double[] meanU, double[] sdU, double[] meanW, double[] sdW,
                                    int cases, double k, double minSd) {
    /** The file in a checkpoint folder. */
    public static final String FILE = "reliability.json";
    /** Default k: three standard deviations. */
    public static final double DEFAULT_K = 3;
    /** Default floor on the standard deviation of u and w. */
    public static final double DEFAULT_MIN_SD = 0.02;

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public ReliabilityThresholds {
        modalities = List.copyOf(modalities);
        int n = modalities.size();
        if (meanU.length != n || sdU.length != n || meanW.length != n || sdW.length != n) {
            throw new IllegalArgumentException("one value per sequence expected");
        }
    }

    /** Flag level of u for sequence {@code i}. */
    public double thresholdU(int i) {
        return meanU[i] - k * Math.max(sdU[i], minSd);
    }

    /** Flag level of w for sequence {@code i}. */
    public double thresholdW(int i) {
        return meanW[i] - k * Math.max(sdW[i], minSd);
    }

    /** A sequence whose agreement (or gate weight) fell below what validation showed. */
    public record Flag(Modality modality, String measure, double value, double threshold, double validationMean) {
        public String message() {
            return String.format(Locale.ROOT, "sequence %s looks unreliable: %s = %.3f, below %.3f (validation mean %.3f); "
                    + "check it for noise, motion, bias or a wrong sequence under this name", modality, measure, value,
                    threshold, validationMean);
        }
    }

    /** The flags for one segmentation's reliability (u is NaN when one sequence was given: only w is checked). */
    public List<Flag> flags(List<Modality> names, double[] u, double[] w) {
        List<Flag> out = new ArrayList<>();
        for (int j = 0; j < names.size(); j++) {
            int i = modalities.indexOf(names.get(j));
            if (i < 0) continue;
            if (!Double.isNaN(u[j]) && u[j] < thresholdU(i)) {
                out.add(new Flag(names.get(j), "agreement u", u[j], thresholdU(i), meanU[i]));
            } else if (names.size() == modalities.size() && w[j] < thresholdW(i)) {
                // w is compared only with every sequence given: with fewer, the weights are shared among fewer
                out.add(new Flag(names.get(j), "gate weight w", w[j], thresholdW(i), meanW[i]));
            }
        }
        return out;
    }

    /** Measures u and w on {@code validation} (every sequence given) with {@code segmenter}'s model. */
    public static ReliabilityThresholds calibrate(Segmenter segmenter, List<Modality> modalities, List<PreparedCase> validation) {
        if (validation.isEmpty()) throw new IllegalArgumentException("calibration needs validation cases");
        ModalityMask full = ModalityMask.full(modalities);
        int n = modalities.size(), m = validation.size();
        double[][] u = new double[n][m], w = new double[n][m];
        for (int c = 0; c < m; c++) {
            Reliability r = segmenter.segment(validation.get(c), full).reliability();
            for (int j = 0; j < r.modalities().size(); j++) {
                int i = modalities.indexOf(r.modalities().get(j));
                u[i][c] = r.u()[j];
                w[i][c] = r.w()[j];
            }
        }
        double[] mu = new double[n], su = new double[n], mw = new double[n], sw = new double[n];
        for (int i = 0; i < n; i++) {
            mu[i] = mean(u[i]);
            su[i] = sd(u[i], mu[i]);
            mw[i] = mean(w[i]);
            sw[i] = sd(w[i], mw[i]);
        }
        return new ReliabilityThresholds(modalities, mu, su, mw, sw, m, DEFAULT_K, DEFAULT_MIN_SD);
    }

    private static double mean(double[] x) {
        double s = 0;
        for (double v : x) s += v;
        return s / x.length;
    }

    private static double sd(double[] x, double mean) {
        if (x.length < 2) return 0;
        double s = 0;
        for (double v : x) s += (v - mean) * (v - mean);
        return Math.sqrt(s / (x.length - 1));
    }

    /** Writes {@value #FILE} into the checkpoint folder {@code ckpt}. */
    public void write(Path ckpt) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("cases", cases).put("k", k).put("minSd", minSd);
        var arr = root.putArray("sequences");
        for (int i = 0; i < modalities.size(); i++) {
            ObjectNode o = arr.addObject();
            o.put("name", modalities.get(i).name());
            o.put("meanU", meanU[i]).put("sdU", sdU[i]).put("thresholdU", thresholdU(i));
            o.put("meanW", meanW[i]).put("sdW", sdW[i]).put("thresholdW", thresholdW(i));
        }
        AtomicFiles.writeString(ckpt.resolve(FILE), JSON.writeValueAsString(root));
    }

    /** The thresholds stored in checkpoint folder {@code ckpt}, or null when it has none (trained without validation). */
    public static ReliabilityThresholds read(Path ckpt) throws IOException {
        Path f = ckpt.resolve(FILE);
        if (!Files.isRegularFile(f)) return null;
        JsonNode root = JSON.readTree(f.toFile());
        JsonNode seqs = root.path("sequences");
        int n = seqs.size();
        List<Modality> names = new ArrayList<>();
        double[] mu = new double[n], su = new double[n], mw = new double[n], sw = new double[n];
        for (int i = 0; i < n; i++) {
            JsonNode o = seqs.get(i);
            names.add(Modality.of(o.path("name").asText()));
            mu[i] = o.path("meanU").asDouble();
            su[i] = o.path("sdU").asDouble();
            mw[i] = o.path("meanW").asDouble();
            sw[i] = o.path("sdW").asDouble();
        }
        return new ReliabilityThresholds(names, mu, su, mw, sw, root.path("cases").asInt(), root.path("k").asDouble(DEFAULT_K),
                root.path("minSd").asDouble(DEFAULT_MIN_SD));
    }
}
