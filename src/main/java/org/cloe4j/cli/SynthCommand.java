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
            "_t1, _t2 (int16) and _seg (uint8, labels 0/1/2/4) .nii.gz at 1 mm or the --style's voxel size (with",
            "--anatomy and neither --size nor --style: on the anatomy's own grid and affine), plus split.json (60/20/20)."})
public final class SynthCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Option(names = "--cases", required = true, description = "number of cases to write")
    int cases;

    @Option(names = "--out", required = true, description = "output folder (created; existing cases are overwritten)")
    Path out;

    @Option(names = "--size", arity = "3", paramLabel = "N",
            description = "volume size X Y Z in voxels at 1 mm (default: 96 96 64, or the anatomy's own grid with --anatomy)")
    int[] size;

    @Option(names = "--anatomy", description = {"a skull-stripped T1 (e.g. Colin27 ch2bet.nii.gz) to take the brain from;",
        "with the demo style, phantoms are written on its grid and affine unless --size asks for another"})
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
        if (size != null && size.length != 3) throw new IllegalArgumentException("--size needs three numbers X Y Z");
        PhantomGenerator.Style st = PhantomGenerator.Style.named(style);
        PhantomGenerator gen;
        if (anatomy != null && size == null && st.equals(PhantomGenerator.Style.DEMO)) {
            gen = PhantomGenerator.onAnatomyGrid(anatomy, seed);
        } else {
            int[] s = size != null ? size : new int[] {96, 96, 64};
            gen = new PhantomGenerator(s[0], s[1], s[2], seed).withStyle(st);
            if (anatomy != null) gen = gen.withAnatomy(anatomy);
        }
        Cohort cohort = gen.writeCohort(out, cases, !quiet);
        var h = org.cloe4j.data.NiftiReader.readHeader(cohort.cases().get(0).images().values().iterator().next().file());
        spec.commandLine().getOut().printf("wrote %d cases of %d×%d×%d to %s (split: %s)%n", cohort.size(), h.nx(),
                h.ny(), h.nz(), out, out.resolve("split.json"));
        return 0;
    }
}
