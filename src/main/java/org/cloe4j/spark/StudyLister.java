package org.cloe4j.spark;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.DataException;
import org.cloe4j.data.Modality;

/**
 * Lists the studies of a cohort for segmentation: a BraTS-layout folder (one folder per study holding
 * {@code <id>_<sequence>.nii.gz} files, any subset of the model's sequences), an MSD task folder ({@code dataset.json})
 * or a manifest CSV. Unlike {@link Cohort#brats}, a study lacking sequences is listed with what it has: which
 * sequences a study needs is the segmentation's question, answered per study, not the listing's.
 *
 * <p>Manifest: a header {@code study_id,<sequence>,<sequence>,...} (sequence names as the model knows them, e.g.
 * {@code flair,t1ce,t1,t2}), then one row per study with one file per sequence; an empty cell means the study lacks
 * that sequence. Relative paths are resolved against the manifest's folder. Lines starting with {@code #} and blank
 * lines are skipped.
 */
public final class StudyLister {
    /** Study ids become folder names under the output: letters, digits, '.', '_' and '-' only. */
    static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,199}");

    private StudyLister() {
    }

    /** The studies under {@code data}: a manifest when it is a .csv file, else a BraTS or MSD cohort folder. */
    public static List<Study> list(Path data, List<Modality> modelSequences) {
        List<Study> studies;
        if (Files.isRegularFile(data) && data.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv")) {
            studies = manifest(data);
        } else if (Files.isDirectory(data) && Files.isRegularFile(data.resolve("dataset.json"))) {
            studies = msd(data);
        } else if (Files.isDirectory(data)) {
            studies = brats(data, modelSequences);
        } else {
            throw new DataException(data, "is neither a cohort folder (BraTS or MSD layout) nor a manifest .csv file");
        }
        if (studies.isEmpty()) throw new DataException(data, "lists no study");
        Set<String> seen = new LinkedHashSet<>();
        Set<String> dup = new LinkedHashSet<>();
        for (Study s : studies) if (!seen.add(s.id())) dup.add(s.id());
        if (!dup.isEmpty()) throw new DataException(data, "lists study ids more than once: " + dup);
        return studies;
    }

    /** A BraTS-layout folder: every non-hidden sub-folder holding NIfTI files is a study. */
    static List<Study> brats(Path root, List<Modality> modelSequences) {
        List<Study> out = new ArrayList<>();
        List<Path> folders;
        try (Stream<Path> s = Files.list(root)) {
            folders = s.filter(Files::isDirectory).filter(p -> !hidden(p)).sorted().toList();
        } catch (IOException e) {
            throw new DataException(root, "cannot list the cohort folder", e);
        }
        for (Path folder : folders) {
            List<Path> files;
            try (Stream<Path> s = Files.list(folder)) {
                files = s.filter(Files::isRegularFile).filter(p -> !hidden(p)).sorted().toList();
            } catch (IOException e) {
                throw new DataException(folder, "cannot list the study folder", e);
            }
            if (files.stream().noneMatch(f -> stem(f) != null)) continue;
            String id = folder.getFileName().toString();
            Map<String, Study.Source> seq = new LinkedHashMap<>();
            for (Modality m : modelSequences) {
                Path f = bySuffix(files, "_" + m.name());
                if (f != null) seq.put(m.name(), new Study.Source(f.toAbsolutePath().toString(), 0));
            }
            if (seq.isEmpty()) {
                out.add(Study.broken(id, seq, "no sequence of the model " + modelSequences + " found in " + folder
                        + " (expected files named <id>_<sequence>.nii.gz)"));
            } else {
                out.add(checked(id, seq));
            }
        }
        return out;
    }

    /** An MSD task folder, through the cohort reader (4D images: one volume per sequence). */
    static List<Study> msd(Path root) {
        List<Study> out = new ArrayList<>();
        for (CaseRecord c : Cohort.msd(root).cases()) {
            Map<String, Study.Source> seq = new LinkedHashMap<>();
            c.images().forEach((m, src) -> seq.put(m.name(), new Study.Source(src.file().toAbsolutePath().toString(), src.volume())));
            out.add(checked(c.id(), seq));
        }
        return out;
    }

    /** A manifest CSV (see the class comment). */
    static List<Study> manifest(Path csv) {
        List<String> lines;
        try {
            lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataException(csv, "cannot read the manifest", e);
        }
        Path base = csv.toAbsolutePath().getParent();
        List<String> header = null;
        List<Study> out = new ArrayList<>();
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n);
            if (line.isBlank() || line.stripLeading().startsWith("#")) continue;
            List<String> cells = splitCsv(line, csv, n + 1);
            if (header == null) {
                header = cells.stream().map(c -> c.strip().toLowerCase(Locale.ROOT)).toList();
                if (header.size() < 2 || !header.get(0).equals("study_id")) {
                    throw new DataException(csv, "line " + (n + 1) + ": the header must be study_id,<sequence>,... "
                            + "(e.g. study_id,flair,t1ce,t1,t2), not " + line);
                }
                Set<String> names = new LinkedHashSet<>();
                for (String h : header.subList(1, header.size())) {
                    if (!names.add(h)) throw new DataException(csv, "the header names sequence '" + h + "' twice");
                    Modality.of(h);
                }
                continue;
            }
            if (cells.size() > header.size()) {
                throw new DataException(csv, "line " + (n + 1) + " has " + cells.size() + " cells, the header " + header.size());
            }
            String id = cells.get(0).strip();
            Map<String, Study.Source> seq = new LinkedHashMap<>();
            for (int i = 1; i < cells.size(); i++) {
                String cell = cells.get(i).strip();
                if (cell.isEmpty()) continue;
                Path p = base.resolve(cell).normalize();
                seq.put(header.get(i), new Study.Source(p.toString(), 0));
            }
            if (seq.isEmpty()) {
                out.add(Study.broken(id, seq, "manifest line " + (n + 1) + " names no sequence file"));
            } else {
                out.add(checked(id, seq));
            }
        }
        if (header == null) throw new DataException(csv, "is empty (expected a header study_id,<sequence>,...)");
        return out;
    }

    private static Study checked(String id, Map<String, Study.Source> seq) {
        if (!SAFE_ID.matcher(id).matches()) {
            return Study.broken(id, seq, "study id '" + id + "' cannot name an output folder (letters, digits, '.', '_', '-')");
        }
        return Study.of(id, seq);
    }

    /** Splits one CSV line: commas, with double-quoted cells that may hold commas and doubled quotes. */
    static List<String> splitCsv(String line, Path csv, int lineNo) {
        List<String> cells = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    cur.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cur.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                cells.add(cur.toString());
                cur.setLength(0);
            } else {
                cur.append(c);
            }
        }
        if (quoted) throw new DataException(csv, "line " + lineNo + " has an unclosed quote");
        cells.add(cur.toString());
        return cells;
    }

    private static Path bySuffix(List<Path> files, String suffix) {
        for (Path f : files) {
            String s = stem(f);
            if (s != null && s.toLowerCase(Locale.ROOT).endsWith(suffix)) return f;
        }
        return null;
    }

    private static String stem(Path f) {
        String name = f.getFileName().toString();
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".nii.gz")) return name.substring(0, name.length() - 7);
        if (lower.endsWith(".nii")) return name.substring(0, name.length() - 4);
        return null;
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }
}
