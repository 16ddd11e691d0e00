package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import org.cloe4j.eval.CaseMetrics;
import org.cloe4j.eval.Region;
import org.cloe4j.infer.SlidingWindow;
import org.cloe4j.infer.Stitcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole inference path with a perfect "model" (it answers the reference labels one-hot): cohort, preprocessing
 * with a crop, sliding windows, stitching, undoing the crop, writing. The written map must equal the reference file
 * voxel for voxel, with the study's geometry, and score Dice 1 and HD95 0.
 */
class InferencePipelineTest {

    @TempDir Path dir;

    @Test
    void aPerfectModelReproducesTheReferenceSegmentationFile() {
        Cohort cohort = new PhantomGenerator(40, 44, 36, 21).writeCohort(dir.resolve("cohort"), 1, false);
        CaseRecord record = cohort.cases().getFirst();
        PreparedCase c = new Preprocessor(24, 1e-3).prepare(record);
        int[] patch = {16, 16, 16};
        SlidingWindow grid = SlidingWindow.over(c, patch);
        Stitcher stitcher = new Stitcher(grid, 4, true);
        float[] classes = new float[c.voxels()];
        for (int i = 0; i < classes.length; i++) classes[i] = c.labels()[i];
        for (SlidingWindow.Window w : grid.windows()) {
            float[] truth = grid.extract(classes, 1, w);
            float[] oneHot = new float[4 * truth.length];
            for (int i = 0; i < truth.length; i++) oneHot[(int) truth[i] * truth.length + i] = 1;
            stitcher.add(w, oneHot);
        }
        byte[] predicted = stitcher.classes();
        LabelMaps.suppressSmallEnhancing(predicted, 1); // nothing below one voxel: a no-op here
        Path out = dir.resolve("pred/" + record.id() + ".nii.gz");
        LabelMaps.write(predicted, c, out);

        Volume written = NiftiReader.read(out), reference = NiftiReader.read(record.label());
        assertArrayEquals(reference.data(), written.data(), "label map voxel for voxel");
        assertArrayEquals(reference.header().affine(), written.header().affine(), 1e-6, "study geometry");
        CaseMetrics m = CaseMetrics.of(LabelMaps.bratsLabelsOf(written), LabelMaps.bratsLabelsOf(reference),
                written.nx(), written.ny(), written.nz(), written.spacing());
        for (Region r : Region.values()) {
            assertEquals(1.0, m.dice(r), r + " Dice");
            assertEquals(0.0, m.hd95(r), r + " HD95");
        }
    }
}
