package org.cloe4j.cli;

import picocli.CommandLine.Option;

/** The options of commands that segment: how the sliding windows are weighted and ET post-processing. */
final class SegmentationOptions {
    @Option(names = "--gaussian", description = "Gaussian window weighting (nnU-Net) instead of plain averaging")
    boolean gaussian;

    @Option(names = "--et-min-voxels", defaultValue = "500",
            description = "ET post-processing: fewer predicted ET voxels than this become NCR (default: ${DEFAULT-VALUE})")
    int etMinVoxels;
}
