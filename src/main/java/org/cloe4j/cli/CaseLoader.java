package org.cloe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.cloe4j.data.CaseCache;
import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.Split;
import org.cloe4j.io.Progress;

/** Opens a cohort, picks a split set and prepares its cases through the preprocessed cache. */
final class CaseLoader {
    private CaseLoader() {
    }

    /** The split: the given file, else the cohort's split.json, else a seeded 60/20/20 split. */
    static Split split(Cohort cohort, Path file) {
        Path f = file != null ? file : cohort.root().resolve("split.json");
        if (file != null || Files.isRegularFile(f)) {
            Split s = Split.read(f);
            s.requireIn(cohort);
            return s;
        }
        return Split.random(cohort.ids(), new double[]{0.6, 0.2, 0.2}, 1);
    }

    static List<String> set(Split split, String name) {
        return switch (name) {
            case "train" -> split.train();
            case "val" -> split.val();
            case "test" -> split.test();
            case "all" -> split.all();
            default -> throw new IllegalArgumentException("unknown split set '" + name + "' (train, val, test, all)");
        };
    }

    static List<PreparedCase> load(Cohort cohort, List<String> ids, Path cacheDir, boolean progress) {
        return load(cohort, ids, cacheDir, progress, Preprocessor.Normalisation.ZSCORE);
    }

    /**
     * The cases prepared with {@code normalisation}, through the cache: z-scored cases in the cache folder itself (as
     * before the choice existed), others in a sub-folder named after the normalisation, so that a model of each kind
     * and the FLAIR baseline can share one cohort without rebuilding each other's entries.
     */
    static List<PreparedCase> load(Cohort cohort, List<String> ids, Path cacheDir, boolean progress,
                                   Preprocessor.Normalisation normalisation) {
        if (ids.isEmpty()) throw new IllegalArgumentException("the chosen split set of " + cohort.root() + " is empty");
        Path dir = cacheDir != null ? cacheDir : cohort.root().resolve(".cloe4j-cache");
        if (normalisation != Preprocessor.Normalisation.ZSCORE) dir = dir.resolve(normalisation.cliName());
        CaseCache cache = new CaseCache(dir, new Preprocessor(Preprocessor.DEFAULT_MIN_CROP,
                Preprocessor.DEFAULT_AFFINE_TOLERANCE, normalisation));
        List<PreparedCase> out = new ArrayList<>();
        try (Progress bar = Progress.start("load", ids.size(), "case", progress)) {
            for (CaseRecord c : cohort.cases(ids)) {
                out.add(cache.get(c));
                bar.step(c.id());
            }
        }
        return out;
    }
}
