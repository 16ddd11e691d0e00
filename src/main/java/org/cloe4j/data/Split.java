package org.cloe4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.cloe4j.io.AtomicFiles;

/**
 * Which case ids are for training, validation and testing. Stored as JSON
 * ({@code {"train": [...], "val": [...], "test": [...]}}) or as text with one {@code <set> <id>} pair per line
 * ({@code #} starts a comment); {@link #read} accepts both, {@link #write} writes JSON unless the name ends in .txt.
 *
 * @param train ids to train on
 * @param val   ids for validation (model selection)
 * @param test  ids held out for the final numbers
 */
public record Split(List<String> train, List<String> val, List<String> test) {

    public Split {
        train = List.copyOf(train);
        val = List.copyOf(val);
        test = List.copyOf(test);
        Set<String> seen = new HashSet<>();
        for (List<String> part : List.of(train, val, test)) {
            for (String id : part) {
                if (!seen.add(id)) throw new IllegalArgumentException("case id '" + id + "' is listed twice in the split");
            }
        }
    }

    /**
     * Shuffles {@code ids} with {@code seed} and cuts them by {@code fractions} (train, val, test; summing to 1).
     * Counts are rounded so that they add up to the number of ids; the same inputs always give the same split.
     */
    public static Split random(List<String> ids, double[] fractions, long seed) {
        if (fractions.length != 3) throw new IllegalArgumentException("need 3 fractions (train, val, test)");
        double sum = fractions[0] + fractions[1] + fractions[2];
        if (Math.abs(sum - 1) > 1e-6 || fractions[0] < 0 || fractions[1] < 0 || fractions[2] < 0) {
            throw new IllegalArgumentException("fractions must be non-negative and sum to 1: " + java.util.Arrays.toString(fractions));
        }
        List<String> shuffled = new ArrayList<>(ids);
        Collections.sort(shuffled); // independent of the order the caller listed them in
        Collections.shuffle(shuffled, new Random(seed));
        int n = shuffled.size();
        int nTrain = (int) Math.round(fractions[0] * n);
        int nVal = Math.min(n - nTrain, (int) Math.round(fractions[1] * n));
        return new Split(shuffled.subList(0, nTrain), shuffled.subList(nTrain, nTrain + nVal),
                shuffled.subList(nTrain + nVal, n));
    }

    /** All ids, train then val then test. */
    public List<String> all() {
        List<String> out = new ArrayList<>(train);
        out.addAll(val);
        out.addAll(test);
        return out;
    }

    /** Reads a split file (JSON or text). */
    public static Split read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataException(file, "cannot read split file", e);
        }
        return text.stripLeading().startsWith("{") ? parseJson(file, text) : parseText(file, text);
    }

    private static Split parseJson(Path file, String text) {
        try {
            JsonNode n = new ObjectMapper().readTree(text);
            return new Split(ids(file, n, "train"), ids(file, n, "val"), ids(file, n, "test"));
        } catch (IOException e) {
            throw new DataException(file, "invalid JSON split", e);
        } catch (IllegalArgumentException e) {
            throw new DataException(file, e.getMessage());
        }
    }

    private static List<String> ids(Path file, JsonNode n, String key) {
        JsonNode list = n.path(key);
        if (list.isMissingNode()) return List.of();
        if (!list.isArray()) throw new DataException(file, "\"" + key + "\" must be a list of case ids");
        List<String> out = new ArrayList<>();
        list.forEach(x -> out.add(x.asText()));
        return out;
    }

    private static Split parseText(Path file, String text) {
        List<String> train = new ArrayList<>(), val = new ArrayList<>(), test = new ArrayList<>();
        String[] lines = text.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].replaceAll("#.*", "").strip();
            if (line.isEmpty()) continue;
            String[] parts = line.split("\\s+");
            if (parts.length != 2) throw new DataException(file, "line " + (i + 1) + ": expected '<train|val|test> <id>'");
            switch (parts[0]) {
                case "train" -> train.add(parts[1]);
                case "val" -> val.add(parts[1]);
                case "test" -> test.add(parts[1]);
                default -> throw new DataException(file, "line " + (i + 1) + ": unknown set '" + parts[0] + "'");
            }
        }
        try {
            return new Split(train, val, test);
        } catch (IllegalArgumentException e) {
            throw new DataException(file, e.getMessage());
        }
    }

    /** Writes the split (JSON, or text when the name ends in .txt) atomically. */
    public void write(Path file) {
        String content;
        if (file.getFileName().toString().endsWith(".txt")) {
            StringBuilder sb = new StringBuilder("# cloe4j split: <set> <case id>\n");
            train.forEach(id -> sb.append("train ").append(id).append('\n'));
            val.forEach(id -> sb.append("val ").append(id).append('\n'));
            test.forEach(id -> sb.append("test ").append(id).append('\n'));
            content = sb.toString();
        } else {
            ObjectMapper om = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            ObjectNode root = om.createObjectNode();
            root.set("train", om.valueToTree(train));
            root.set("val", om.valueToTree(val));
            root.set("test", om.valueToTree(test));
            try {
                content = om.writeValueAsString(root) + "\n";
            } catch (IOException e) {
                throw new DataException(file, "cannot encode split", e);
            }
        }
        AtomicFiles.writeString(file, content);
    }

    /** Checks that every id of this split is a case of {@code cohort}; a {@link DataException} lists those that are not. */
    public void requireIn(Cohort cohort) {
        Set<String> known = new HashSet<>(cohort.ids());
        List<String> unknown = all().stream().filter(id -> !known.contains(id)).toList();
        if (!unknown.isEmpty()) throw new DataException(cohort.root(), "split names cases the cohort does not have: " + unknown);
    }
}
