package org.cloe4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A set of cases on disk in one of the two layouts cloe4j knows, with the modalities (channel order) and the label
 * scheme that come with it:
 * <ul>
 * <li><b>BraTS 2018–2021</b>: one folder per case holding {@code <id>_flair}, {@code _t1ce}, {@code _t1}, {@code _t2}
 *     and (for training data) {@code _seg} files, {@code .nii.gz} or {@code .nii}; channels FLAIR, T1ce, T1, T2.
 * <li><b>BraTS 2023–2024</b>: the same with {@code <id>-t2f} (FLAIR), {@code -t1c} (T1ce), {@code -t1n} (T1),
 *     {@code -t2w} (T2) and {@code -seg}, labels in {@link LabelScheme#BRATS_2023} (ET = 3); same channels. The two
 *     namings may be mixed in one cohort, each case keeping its own label scheme.
 * <li><b>Medical Segmentation Decathlon</b>: {@code dataset.json} (modality map, labels, training list), 4D images in
 *     {@code imagesTr}, label maps in {@code labelsTr}. Task01 (brain tumour) gets the BraTS channel order and its
 *     labels mapped to BraTS regions; Task05 (prostate) gets T2, ADC with labels PZ = 1, TZ = 2.
 * </ul>
 * {@link #open} tells the layouts apart by the presence of {@code dataset.json}.
 */
public final class Cohort {

    /** The folder layouts cloe4j reads. */
    public enum Layout { BRATS, MSD }

    private final Path root;
    private final Layout layout;
    private final List<Modality> modalities;
    private final LabelScheme scheme;
    private final Map<String, CaseRecord> cases;

    private Cohort(Path root, Layout layout, List<Modality> modalities, LabelScheme scheme, List<CaseRecord> cases) {
        this.root = root;
        this.layout = layout;
        this.modalities = List.copyOf(modalities);
        this.scheme = scheme;
        this.cases = new LinkedHashMap<>();
        for (CaseRecord c : cases) this.cases.put(c.id(), c);
    }

    /** Opens the cohort at {@code root}: MSD when it holds {@code dataset.json}, BraTS otherwise. */
    public static Cohort open(Path root) {
        if (!Files.isDirectory(root)) throw new DataException(root, "cohort folder does not exist");
        return Files.isRegularFile(root.resolve("dataset.json")) ? msd(root) : brats(root);
    }

    public Path root() { return root; }
    public Layout layout() { return layout; }
    /** The cohort's modalities in channel order. */
    public List<Modality> modalities() { return modalities; }
    /** How the cohort's label files map to classes. */
    public LabelScheme labelScheme() { return scheme; }
    /** Every case, in a stable order (sorted by id for BraTS, dataset.json's order for MSD). */
    public List<CaseRecord> cases() { return List.copyOf(cases.values()); }
    /** The case ids, in the order of {@link #cases()}. */
    public List<String> ids() { return List.copyOf(cases.keySet()); }
    public int size() { return cases.size(); }

    /** The case with id {@code id}; a {@link DataException} when there is none. */
    public CaseRecord get(String id) {
        CaseRecord c = cases.get(id);
        if (c == null) throw new DataException(root, "no case with id '" + id + "' in this cohort");
        return c;
    }

    /** The cases whose ids are listed, in that order (for a split's subset). */
    public List<CaseRecord> cases(List<String> ids) {
        return ids.stream().map(this::get).toList();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // BraTS

    private static final List<String> NIFTI_ENDINGS = List.of(".nii.gz", ".nii", ".hdr.gz", ".hdr"); // a pair by its header

    /** Opens a BraTS-layout cohort (one folder per case). */
    public static Cohort brats(Path root) {
        List<CaseRecord> cases = new ArrayList<>();
        try (Stream<Path> entries = Files.list(root)) {
            for (Path folder : entries.filter(Files::isDirectory).filter(p -> !hidden(p)).sorted().toList()) {
                CaseRecord c = bratsCase(folder);
                if (c != null) cases.add(c);
            }
        } catch (IOException e) {
            throw new DataException(root, "cannot list the cohort folder", e);
        }
        if (cases.isEmpty()) {
            throw new DataException(root, "no BraTS case folders (with <id>_flair.nii.gz or <id>-t2f.nii.gz etc.) and no "
                    + "dataset.json found");
        }
        boolean all2023 = cases.stream().allMatch(c -> c.scheme() == LabelScheme.BRATS_2023);
        return new Cohort(root, Layout.BRATS, Modality.BRATS, all2023 ? LabelScheme.BRATS_2023 : LabelScheme.BRATS, cases);
    }

    /**
     * Reads one BraTS case folder: null when it holds no NIfTI file at all (not a case), a {@link DataException}
     * when a sequence is missing.
     */
    static CaseRecord bratsCase(Path folder) throws IOException {
        List<Path> files;
        try (Stream<Path> s = Files.list(folder)) {
            files = s.filter(Files::isRegularFile).filter(p -> !hidden(p)).sorted().toList();
        }
        if (files.stream().noneMatch(p -> niftiStem(p) != null)) return null;
        if (BRATS_2023_SUFFIXES.values().stream().anyMatch(suffix -> findBySuffix(files, suffix) != null)) {
            return brats2023Case(folder, files);
        }
        Map<Modality, CaseRecord.ImageSource> images = new LinkedHashMap<>();
        for (Modality m : Modality.BRATS) {
            Path f = findBySuffix(files, "_" + m.name());
            if (f == null) {
                throw new DataException(folder, "missing sequence " + m.displayName() + " (expected a file named *_"
                        + m.name() + ".nii.gz or *_" + m.name() + ".nii)");
            }
            images.put(m, new CaseRecord.ImageSource(f, 0));
        }
        Path seg = findBySuffix(files, "_seg");
        if (seg == null) seg = findBySuffix(files, "_segm"); // one BraTS 2020 training case is named *_Segm.nii
        return new CaseRecord(folder.getFileName().toString(), images, seg, LabelScheme.BRATS);
    }

    /** BraTS 2023–2024 file suffixes of each modality, in channel order. */
    static final Map<Modality, String> BRATS_2023_SUFFIXES = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(Map.of(
            Modality.FLAIR, "-t2f", Modality.T1CE, "-t1c", Modality.T1, "-t1n", Modality.T2, "-t2w")));

    /** The modality a file named in the BraTS 2023–2024 way holds ({@code <id>-t2f.nii.gz} is FLAIR), or null. */
    public static Modality brats2023Modality(Path file) {
        String stem = niftiStem(file);
        if (stem == null) return null;
        for (var e : BRATS_2023_SUFFIXES.entrySet()) {
            if (stem.toLowerCase(Locale.ROOT).endsWith(e.getValue())) return e.getKey();
        }
        return null;
    }

    private static CaseRecord brats2023Case(Path folder, List<Path> files) {
        Map<Modality, CaseRecord.ImageSource> images = new LinkedHashMap<>();
        for (Modality m : Modality.BRATS) {
            String suffix = BRATS_2023_SUFFIXES.get(m);
            Path f = findBySuffix(files, suffix);
            if (f == null) {
                throw new DataException(folder, "missing sequence " + m.displayName() + " (BraTS 2023 naming: expected a "
                        + "file named *" + suffix + ".nii.gz or *" + suffix + ".nii)");
            }
            images.put(m, new CaseRecord.ImageSource(f, 0));
        }
        return new CaseRecord(folder.getFileName().toString(), images, findBySuffix(files, "-seg"), LabelScheme.BRATS_2023);
    }

    /** The file whose name without the NIfTI ending ends with {@code suffix} (so "_t1" does not match "_t1ce"). */
    private static Path findBySuffix(List<Path> files, String suffix) {
        for (Path f : files) {
            String stem = niftiStem(f);
            if (stem != null && stem.toLowerCase(Locale.ROOT).endsWith(suffix)) return f;
        }
        return null;
    }

    /** The file name without {@code .nii.gz}/{@code .nii}/{@code .hdr}, or null when it is not a NIfTI file. */
    static String niftiStem(Path f) {
        String name = f.getFileName().toString();
        for (String ending : NIFTI_ENDINGS) {
            if (name.toLowerCase(Locale.ROOT).endsWith(ending)) return name.substring(0, name.length() - ending.length());
        }
        return null;
    }

    private static boolean hidden(Path p) {
        String n = p.getFileName().toString();
        return n.startsWith(".") || n.startsWith("._");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // MSD

    /** Opens a Medical Segmentation Decathlon task folder (dataset.json, imagesTr, labelsTr). */
    public static Cohort msd(Path root) {
        Path json = root.resolve("dataset.json");
        JsonNode ds;
        try {
            ds = new ObjectMapper().readTree(json.toFile());
        } catch (IOException e) {
            throw new DataException(json, "cannot parse dataset.json", e);
        }
        JsonNode modalityNode = ds.path("modality");
        if (!modalityNode.isObject() || modalityNode.isEmpty()) throw new DataException(json, "no \"modality\" map");
        Map<Integer, Modality> byIndex = new TreeMap<>();
        modalityNode.properties().forEach(e -> byIndex.put(Integer.parseInt(e.getKey().strip()), msdModality(e.getValue().asText())));
        List<Modality> order = new ArrayList<>(byIndex.values());
        if (Set.copyOf(order).equals(Set.copyOf(Modality.BRATS))) order = Modality.BRATS;
        LabelScheme scheme = msdScheme(json, ds.path("labels"));

        List<CaseRecord> cases = new ArrayList<>();
        JsonNode training = ds.path("training");
        if (!training.isArray() || training.isEmpty()) throw new DataException(json, "no \"training\" list");
        for (JsonNode entry : training) {
            Path image = root.resolve(entry.path("image").asText()).normalize();
            String stem = niftiStem(image);
            if (stem == null || hidden(image)) continue;
            Map<Modality, CaseRecord.ImageSource> images = new LinkedHashMap<>();
            for (Modality m : order) {
                int index = byIndex.entrySet().stream().filter(e -> e.getValue().equals(m)).findFirst().orElseThrow().getKey();
                images.put(m, new CaseRecord.ImageSource(image, index));
            }
            String labelText = entry.path("label").asText("");
            Path label = labelText.isEmpty() ? null : root.resolve(labelText).normalize();
            cases.add(new CaseRecord(stem, images, label, scheme));
        }
        return new Cohort(root, Layout.MSD, order, scheme, cases);
    }

    static Modality msdModality(String name) {
        return switch (name.strip().toLowerCase(Locale.ROOT)) {
            case "flair" -> Modality.FLAIR;
            case "t1w", "t1" -> Modality.T1;
            case "t1gd", "t1ce", "t1c" -> Modality.T1CE;
            case "t2w", "t2" -> Modality.T2;
            case "adc" -> Modality.ADC;
            default -> Modality.of(name);
        };
    }

    private static LabelScheme msdScheme(Path json, JsonNode labels) {
        StringBuilder names = new StringBuilder();
        labels.properties().forEach(e -> names.append(e.getKey()).append('=').append(e.getValue().asText()).append(' '));
        String all = names.toString().toLowerCase(Locale.ROOT);
        if (all.contains("1=edema") && all.contains("3=enhancing")) return LabelScheme.MSD_BRAIN_TUMOUR;
        if (all.contains("1=pz") && all.contains("2=tz")) return LabelScheme.MSD_PROSTATE;
        throw new DataException(json, "unsupported label set " + names.toString().strip()
                + " (known: Task01 brain tumour 1=edema 2=non-enhancing 3=enhancing; Task05 prostate 1=PZ 2=TZ)");
    }
}
