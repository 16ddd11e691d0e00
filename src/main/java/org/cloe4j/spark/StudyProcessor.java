package org.cloe4j.spark;

import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.cloe4j.api.Cloe;
import org.cloe4j.backend.Backends;
import org.cloe4j.eval.ImageCheckLevels;
import org.cloe4j.eval.ReliabilityThresholds;
import org.cloe4j.infer.Reliability;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.data.LabelScheme;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiDatatype;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.NiftiWriter;
import org.cloe4j.data.Volume;
import org.cloe4j.eval.Region;

/**
 * Segments one study on an executor and writes its outputs; never throws: any failure (unreadable or corrupt file,
 * missing sequence, grids that disagree, out of memory) becomes a failed {@link StudyRow} with the error.
 *
 * <p>Outputs of study {@code id} live in {@code OUT/studies/id/}: {@code id_seg.nii.gz} (labels in the input's
 * geometry), {@code id_reliability.json} and, written last, {@code row.json} — the marker that the study is finished.
 * Every file goes through a temporary sibling and an atomic rename, so a killed task leaves at most hidden temporary
 * files (removed by the next run's driver), and a retried or duplicated task writes the same names again.
 */
public final class StudyProcessor {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** One loaded model per checkpoint and settings, per executor JVM; {@link Cloe#segment} is thread-safe. */
    private static final Map<String, Cloe> MODELS = new ConcurrentHashMap<>();

    /** What every task needs besides its study. */
    public record Settings(String out, boolean gaussian, int etMinVoxels, int window) implements Serializable {
        /** Settings with the model's default inference window. */
        public Settings(String out, boolean gaussian, int etMinVoxels) {
            this(out, gaussian, etMinVoxels, 0);
        }
    }

    private StudyProcessor() {
    }

    public static Path studyDir(Path out, String id) {
        return out.resolve("studies").resolve(id);
    }

    public static Path segFile(Path out, String id) {
        return studyDir(out, id).resolve(id + "_seg.nii.gz");
    }

    public static Path reportFile(Path out, String id) {
        return studyDir(out, id).resolve(id + "_reliability.json");
    }

    public static Path rowFile(Path out, String id) {
        return studyDir(out, id).resolve("row.json");
    }

    /** Each loaded model's reliability flag levels (empty: the checkpoint has none), keyed as {@link #MODELS}. */
    private static final Map<String, Optional<ReliabilityThresholds>> LEVELS = new ConcurrentHashMap<>();

    private static String key(ModelBlob blob, Settings s) {
        return blob.key() + "/" + s.gaussian() + "/" + s.etMinVoxels() + "/" + s.window();
    }

    /** The model of {@code blob} in this JVM, loaded on first use from a private copy of the shipped files. */
    static Cloe model(ModelBlob blob, Settings s) {
        return MODELS.computeIfAbsent(key(blob, s), k -> {
            Path tmp = null;
            try {
                tmp = Files.createTempDirectory("cloe4j-model-");
                Path dir = blob.writeTo(tmp);
                Cloe c = Cloe.load(dir, Backends.pick(), s.gaussian(), s.etMinVoxels(), s.window());
                LEVELS.put(k, Optional.ofNullable(ReliabilityThresholds.read(dir)));
                return c;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load the shipped checkpoint: " + e.getMessage(), e);
            } finally {
                if (tmp != null) deleteTree(tmp);
            }
        });
    }

    /** Segments {@code study} and writes its outputs; the row says how it went. */
    public static StudyRow process(Study study, ModelBlob blob, Settings s) {
        long t0 = System.nanoTime();
        Path out = Path.of(s.out());
        String seqs = String.join("+", study.sequences().keySet());
        StudyRow row;
        try {
            row = segment(study, blob, s, out, seqs, t0);
        } catch (OutOfMemoryError e) {
            row = StudyRow.failed(study.id(), seqs, seconds(t0), "out of memory: " + e.getMessage());
        } catch (Throwable e) {
            row = StudyRow.failed(study.id(), seqs, seconds(t0), describe(e));
        }
        if (StudyLister.SAFE_ID.matcher(study.id()).matches()) {
            try {
                writeRow(out, row);
            } catch (Throwable e) {
                row = StudyRow.failed(study.id(), seqs, seconds(t0), "cannot record the outcome: " + describe(e));
            }
        }
        return row;
    }

    private static StudyRow segment(Study study, ModelBlob blob, Settings s, Path out, String seqs, long t0)
            throws IOException {
        if (study.problem() != null) throw new IllegalArgumentException(study.problem());
        Map<Modality, Volume> volumes = new LinkedHashMap<>();
        Map<Modality, String> files = new LinkedHashMap<>();
        for (Map.Entry<String, Study.Source> e : study.sequences().entrySet()) {
            Modality m = Modality.of(e.getKey());
            Path f = Path.of(e.getValue().file());
            if (!Files.isRegularFile(f)) {
                throw new IllegalArgumentException("missing sequence " + m.displayName() + ": " + f + " does not exist");
            }
            Volume v = NiftiReader.read(f);
            if (v.volumes() > 1 || e.getValue().volume() > 0) v = v.volume(e.getValue().volume());
            volumes.put(m, v);
            files.put(m, f.toString());
        }
        Cloe cloe = model(blob, s); // after the inputs: a study's own problem is named even when the model fails
        Cloe.Result r = cloe.segment(volumes);

        Volume labels = r.labels();
        double voxelMl = 1e-3;
        for (double d : labels.spacing()) voxelMl *= d;
        Double wt = null, tc = null, et = null;
        if (Cloe.schemeOf(cloe.config()) == LabelScheme.BRATS) {
            long[] n = new long[3];
            for (float f : labels.data()) {
                int l = Math.round(f);
                if (Region.WT.contains(l)) n[0]++;
                if (Region.TC.contains(l)) n[1]++;
                if (Region.ET.contains(l)) n[2]++;
            }
            wt = n[0] * voxelMl;
            tc = n[1] * voxelMl;
            et = n[2] * voxelMl;
        }
        LinkedHashMap<String, Double> rel = new LinkedHashMap<>();
        Reliability q = r.reliability();
        for (int i = 0; i < q.modalities().size(); i++) {
            String m = q.modalities().get(i).name();
            rel.put("u_" + m, finite(q.u()[i]));
            rel.put("v_" + m, finite(q.v()[i]));
            rel.put("w_" + m, finite(q.w()[i]));
        }
        List<String> flags = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (Modality m : cloe.modalities()) if (!volumes.containsKey(m)) missing.add(m.name());
        if (!missing.isEmpty()) flags.add("missing:" + String.join("+", missing));
        if (r.etSuppressed()) flags.add("et_suppressed");
        if (wt != null && wt == 0) flags.add("no_tumour");
        Optional<ReliabilityThresholds> levels = LEVELS.getOrDefault(key(blob, s), Optional.empty());
        if (levels.isPresent()) { // the sequences `cloe predict` would flag as unreliable
            for (ReliabilityThresholds.Flag f : levels.get().flags(q.modalities(), q.u(), q.w())) {
                flags.add("unreliable:" + f.modality().name());
            }
        }
        // the image checks `cloe predict` runs (duplicates only when the checkpoint has no image-check levels)
        for (ImageCheckLevels.Finding f : ImageCheckLevels.check(levels.map(ReliabilityThresholds::images).orElse(null),
                r.images()).findings()) {
            flags.add(f.check() + ":" + String.join("+", f.sequences().stream().map(Modality::name).toList()));
        }

        NiftiWriter.write(labels, segFile(out, study.id()), NiftiDatatype.UINT8);
        AtomicFiles.writeString(reportFile(out, study.id()), report(r, files, wt, tc, et));
        return new StudyRow(study.id(), StudyRow.OK, seqs, wt, tc, et, rel, String.join(";", flags), seconds(t0), null);
    }

    static void writeRow(Path out, StudyRow row) throws IOException {
        AtomicFiles.writeString(rowFile(out, row.studyId()), JSON.writeValueAsString(row));
    }

    /** The row a finished study left, or null when it has none (or an unreadable one). */
    static StudyRow readRow(Path out, String id) {
        Path f = rowFile(out, id);
        if (!Files.isRegularFile(f)) return null;
        try {
            return JSON.readValue(f.toFile(), StudyRow.class);
        } catch (IOException e) {
            return null;
        }
    }

    private static String report(Cloe.Result r, Map<Modality, String> files, Double wt, Double tc, Double et)
            throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("sequences", r.mask().label());
        root.put("et_suppressed", r.etSuppressed());
        if (wt != null) {
            ObjectNode v = root.putObject("volumes_ml");
            v.put("WT", wt);
            v.put("TC", tc);
            v.put("ET", et);
        }
        r.reliability().writeTo(root, files);
        return JSON.writeValueAsString(root);
    }

    /** Removes the hidden temporary files a killed task may have left in the study folders. */
    static int removeStaleTemporaries(Path out) throws IOException {
        Path studies = out.resolve("studies");
        if (!Files.isDirectory(studies)) return 0;
        int n = 0;
        try (Stream<Path> s = Files.walk(studies, 2)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                String name = p.getFileName().toString();
                if (name.startsWith(".") && name.endsWith(".tmp")) {
                    Files.deleteIfExists(p);
                    n++;
                }
            }
        }
        return n;
    }

    static String describe(Throwable e) {
        String msg = e.getMessage();
        String text = msg == null || msg.isBlank() ? e.getClass().getSimpleName() : msg;
        if (e.getCause() != null && e.getCause().getMessage() != null && !text.contains(e.getCause().getMessage())) {
            text += " (" + e.getCause().getMessage() + ")";
        }
        return text;
    }

    private static Double finite(double d) {
        return Double.isFinite(d) ? d : null;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void deleteTree(Path p) {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        } catch (IOException ignored) {
            // a temporary copy; the loaded model no longer needs it
        }
    }
}
