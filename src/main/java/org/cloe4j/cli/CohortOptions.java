package org.cloe4j.cli;

import java.nio.file.Path;
import java.util.List;

import org.cloe4j.data.Cohort;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;

import picocli.CommandLine.Option;

/** The options of commands that read a cohort: where it is, where its preprocessed cache goes, and quiet output. */
final class CohortOptions {
    @Option(names = "--data", required = true, description = "cohort folder (BraTS layout or MSD dataset.json)")
    Path data;

    @Option(names = "--cache", description = "preprocessed-case cache folder (default: DATA/.cloe4j-cache)")
    Path cache;

    @Option(names = "--quiet", description = "no progress bars")
    boolean quiet;

    Cohort open() {
        return Cohort.open(data);
    }

    /** The cases prepared with the z-score normalisation (the FLAIR baseline's, and RFNet's). */
    List<PreparedCase> load(Cohort cohort, List<String> ids) {
        return load(cohort, ids, Preprocessor.Normalisation.ZSCORE);
    }

    /** The cases prepared with the given normalisation (a model's: its config says which). */
    List<PreparedCase> load(Cohort cohort, List<String> ids, Preprocessor.Normalisation normalisation) {
        return CaseLoader.load(cohort, ids, cache, !quiet, normalisation);
    }

    boolean progress() {
        return !quiet;
    }
}
