package org.cloe4j.cli;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** The options of commands that segment: how the sliding windows are weighted and ET post-processing. */
final class SegmentationOptions {
    @Option(names = "--gaussian", description = "Gaussian window weighting (nnU-Net) instead of plain averaging")
    boolean gaussian;

    @Option(names = "--et-min-voxels", defaultValue = "500",
            description = "ET post-processing: fewer predicted ET voxels than this become NCR (default: ${DEFAULT-VALUE})")
    int etMinVoxels;

    @Spec(Spec.Target.MIXEE) CommandSpec spec;

    /** The sliding window's edge in voxels; 0: the model's default ({@code Segmenter.defaultWindow}); -1: automatic. */
    int window;

    @Option(names = "--window", defaultValue = "patch", paramLabel = "VOXELS|auto|patch",
            description = {"sliding window edge in voxels, a multiple of 8; patch: the training patch (default); auto:",
                    "the patch, and twice it where the tumour is longer than the patch (docs/GENERALISATION.md)"})
    void window(String value) {
        if (value.equals("patch")) {
            window = 0;
            return;
        }
        if (value.equals("auto")) {
            window = org.cloe4j.infer.Segmenter.AUTO_WINDOW;
            return;
        }
        ParameterException bad = new ParameterException(spec.commandLine(),
                "--window: expected a positive multiple of 8 voxels, auto or patch, got '" + value + "'");
        int voxels;
        try {
            voxels = Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw bad;
        }
        if (voxels < 8 || voxels % 8 != 0) throw bad;
        window = voxels;
    }
}
