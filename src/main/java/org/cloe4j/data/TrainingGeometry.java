package org.cloe4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.cloe4j.io.AtomicFiles;

/**
 * The voxel grid a model was trained on: the orientation of its training cases' voxel axes and their voxel size in
 * mm along those axes. Studies are brought to it before inference ({@link StudyGeometry}). {@code cloe train} writes
 * it as {@code geometry.json} in the run folder and each checkpoint folder; a checkpoint without one (made before
 * the file existed) is assumed to be {@link #ASSUMED}: 1 mm RAS, the grid {@code cloe synth} writes.
 *
 * @param orientation the training cases' orientation (the most common one, when they differ)
 * @param spacing     voxel size in mm along voxel axes i, j, k (the median over the cases of that orientation)
 * @param recorded    whether it was read from a checkpoint rather than assumed
 */
public record TrainingGeometry(Orientation orientation, double[] spacing, boolean recorded) {

    /** The file name in run and checkpoint folders. */
    public static final String FILE = "geometry.json";
    /** What a checkpoint without {@value #FILE} is taken to have been trained on: 1 mm, RAS. */
    public static final TrainingGeometry ASSUMED = new TrainingGeometry(Orientation.RAS, new double[] {1, 1, 1}, false);

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public TrainingGeometry {
        spacing = spacing.clone();
        if (spacing.length != 3) throw new IllegalArgumentException("spacing needs 3 values");
        for (double s : spacing) {
            if (!(s > 0) || !Double.isFinite(s)) throw new IllegalArgumentException("spacing must be positive: " + Arrays.toString(spacing));
        }
    }

    @Override public double[] spacing() { return spacing.clone(); }

    /**
     * The geometry of a training set from its cases' headers: the most common orientation and, per axis, the median
     * voxel size of the cases in it. Headers whose affine is not invertible are left out; none left gives
     * {@link #ASSUMED} marked as recorded.
     */
    public static TrainingGeometry of(List<NiftiHeader> headers) {
        Map<Orientation, List<double[]>> byOrientation = new HashMap<>();
        for (NiftiHeader h : headers) {
            try {
                double[] a = h.affine();
                byOrientation.computeIfAbsent(Orientation.of(a, null), k -> new ArrayList<>()).add(Orientation.spacing(a, null));
            } catch (DataException e) {
                // a degenerate header says nothing about the grid: skip it
            }
        }
        if (byOrientation.isEmpty()) return new TrainingGeometry(ASSUMED.orientation, ASSUMED.spacing, true);
        Orientation best = null;
        for (var e : byOrientation.entrySet()) {
            if (best == null || e.getValue().size() > byOrientation.get(best).size()
                    || e.getValue().size() == byOrientation.get(best).size() && e.getKey().codes().compareTo(best.codes()) < 0) {
                best = e.getKey();
            }
        }
        List<double[]> s = byOrientation.get(best);
        double[] median = new double[3];
        for (int a = 0; a < 3; a++) {
            final int axis = a;
            double[] v = s.stream().mapToDouble(x -> x[axis]).sorted().toArray();
            median[a] = v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
        }
        return new TrainingGeometry(best, median, true);
    }

    /**
     * The geometry of the checkpoint folder {@code checkpoint}: its {@value #FILE}, else its run folder's (two levels
     * up), else {@link #ASSUMED}. An unreadable file is an IOException naming it.
     */
    public static TrainingGeometry read(Path checkpoint) throws IOException {
        Path own = checkpoint.resolve(FILE);
        Path abs = checkpoint.toAbsolutePath();
        Path run = abs.getParent() == null || abs.getParent().getParent() == null ? null : abs.getParent().getParent().resolve(FILE);
        for (Path f : new Path[] {own, run}) {
            if (f != null && Files.isRegularFile(f)) return readFile(f);
        }
        return ASSUMED;
    }

    static TrainingGeometry readFile(Path f) throws IOException {
        try {
            JsonNode n = JSON.readTree(f.toFile());
            JsonNode sp = n.path("spacing");
            if (!sp.isArray() || sp.size() != 3) throw new IOException("\"spacing\" must be an array of three numbers");
            double[] s = {sp.get(0).asDouble(), sp.get(1).asDouble(), sp.get(2).asDouble()};
            return new TrainingGeometry(Orientation.parse(n.path("orientation").asText()), s, true);
        } catch (IllegalArgumentException | IOException e) {
            throw new IOException(f + ": not a readable training geometry: " + e.getMessage(), e);
        }
    }

    /** Writes this geometry as {@value #FILE} into {@code folder} (atomically). */
    public void write(Path folder) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("orientation", orientation.codes());
        var arr = n.putArray("spacing");
        for (double s : spacing) arr.add(s);
        n.put("note", "the voxel grid the model was trained on: orientation of the voxel axes (RAS+ world letters) and "
                + "voxel size in mm along them; cloe predict brings studies to it and maps the labels back");
        AtomicFiles.writeString(folder.resolve(FILE), JSON.writeValueAsString(n));
    }

    @Override
    public String toString() {
        return orientation.codes() + " " + spacing[0] + "×" + spacing[1] + "×" + spacing[2] + " mm" + (recorded ? "" : " (assumed)");
    }
}
