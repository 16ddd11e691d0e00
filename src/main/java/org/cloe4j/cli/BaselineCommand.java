package org.cloe4j.cli;

import java.util.Locale;
import java.util.concurrent.Callable;

import org.cloe4j.data.Cohort;
import org.cloe4j.data.Split;
import org.cloe4j.eval.FlairBaseline;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cloe baseline}: the z-scored-FLAIR threshold inside the head, fitted on training cases, scored on test ones. */
@Command(name = "baseline", mixinStandardHelpOptions = true,
        description = {"Whole-tumour floor for a trained model: the FLAIR z-score (over the brain) above a threshold,",
            "inside the head; the threshold is fitted on the training cases of --train-data and scored on the test",
            "cases of --data (WT Dice and HD95 per case and mean)."})
public final class BaselineCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--train-data", description = "cohort whose training cases fit the threshold (default: --data)")
    java.nio.file.Path trainData;

    @Mixin CohortOptions cohortOptions;

    @Override
    public Integer call() {
        Cohort test = cohortOptions.open();
        Cohort train = trainData == null ? test : Cohort.open(trainData);
        Split trainSplit = CaseLoader.split(train, null), testSplit = CaseLoader.split(test, null);
        var trainCases = CaseLoader.load(train, trainSplit.train(),
                trainData == null ? cohortOptions.cache : null, cohortOptions.progress());
        var testCases = cohortOptions.load(test, testSplit.test());
        FlairBaseline.Result r = FlairBaseline.run(trainCases, testCases);
        var o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "FLAIR z-score threshold %.1f (mean WT Dice %.4f on %d training cases of %s)%n",
                r.threshold(), r.trainDice(), trainCases.size(), train.root());
        for (FlairBaseline.CaseResult c : r.cases()) {
            o.printf(Locale.ROOT, "%s WT Dice %.4f HD95 %.2f mm%n", c.caseId(), c.dice(), c.hd95());
        }
        o.printf(Locale.ROOT, "mean over %d test cases of %s: WT Dice %.4f, HD95 %.2f mm%n", r.cases().size(),
                test.root(), r.meanDice(), r.meanHd95());
        return 0;
    }
}
