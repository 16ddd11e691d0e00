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

    /** The sliding window's edge in voxels; 0: the model's default ({@code Segmenter.defaultWindow}). */
    int window;

    @Option(names = "--window", defaultValue = "0", paramLabel = "VOXELS",
            description = {"sliding window edge in voxels, a multiple of 8 (default: the training patch); a larger one",
                    "gives more context, which helps where tumours are as large as the patch (docs/GENERALISATION.md)"})
    void window(int voxels) {
        if (voxels != 0 && (voxels < 8 || voxels % 8 != 0)) {
            throw new ParameterException(spec.commandLine(), "--window: expected a positive multiple of 8 voxels, got " + voxels);
        }
        window = voxels;
    }
}
