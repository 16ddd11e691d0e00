package org.cloe4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.PhantomGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code cloe synth}: writes a synthetic BraTS-layout cohort (see {@link PhantomGenerator}) and a split file. */
@Command(name = "synth", mixinStandardHelpOptions = true,
        description = {"Writes a synthetic BraTS-layout cohort of brain-tumour phantoms: per case <id>_flair, _t1ce,",
            "_t1, _t2 (int16) and _seg (uint8, labels 0/1/2/4) .nii.gz (1 mm, or the --style's voxel size),",
            "plus split.json (60/20/20)."})
public final class SynthCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--cases", required = true, description = "number of cases to write")
    int cases;

    @Option(names = "--out", required = true, description = "output folder (created; existing cases are overwritten)")
    Path out;

    @Option(names = "--size", arity = "3", paramLabel = "N", description = "volume size X Y Z in voxels (default: 96 96 64)")
    int[] size = {96, 96, 64};

    @Option(names = "--anatomy", description = "a skull-stripped T1 (e.g. Colin27 ch2bet.nii.gz) to take the brain from")
    Path anatomy;

    @Option(names = "--style", defaultValue = "demo", description = {"acquisition and tumour style: demo (1 mm, the",
        "demo's), site-a (2 mm, roomy field of view, noisy, strong bias, large lobulated tumours) or site-b (1.75 mm,",
        "tight field of view, cleaner, other protocol timings, smaller tumours); with --anatomy the site styles keep the",
        "brain at its real size, varied per case (default: ${DEFAULT-VALUE})"})
    String style;

    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})", defaultValue = "1")
    long seed;

    @Option(names = "--quiet", description = "no progress bar")
    boolean quiet;

    @Override
    public Integer call() {
        if (cases < 1) throw new IllegalArgumentException("--cases must be at least 1");
        if (size.length != 3) throw new IllegalArgumentException("--size needs three numbers X Y Z");
        PhantomGenerator gen = new PhantomGenerator(size[0], size[1], size[2], seed).withStyle(PhantomGenerator.Style.named(style));
        if (anatomy != null) gen = gen.withAnatomy(anatomy);
        Cohort cohort = gen.writeCohort(out, cases, !quiet);
        spec.commandLine().getOut().printf("wrote %d cases of %d×%d×%d to %s (split: %s)%n", cohort.size(), size[0],
                size[1], size[2], out, out.resolve("split.json"));
        return 0;
    }
}
