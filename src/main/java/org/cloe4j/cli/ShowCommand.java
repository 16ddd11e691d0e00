package org.cloe4j.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.cloe4j.data.CasePicture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code cloe show}: a PNG of a case's four sequences and its label map on three orthogonal slices. */
@Command(name = "show", mixinStandardHelpOptions = true,
        description = {"Draws a BraTS-layout case: FLAIR, T1ce, T1, T2 and the labels (NCR red, ED green, ET yellow)",
            "on the axial, coronal and sagittal slices through the tumour centre."})
public final class ShowCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CASE_DIR", description = "a BraTS case folder (<id>_flair.nii.gz, ...)")
    Path caseDir;

    @Option(names = "--seg", description = "label map to overlay (default: the case's own *_seg file, if any)")
    Path seg;

    @Option(names = "--out", required = true, description = "PNG file to write")
    Path out;

    @Override
    public Integer call() {
        CasePicture.write(caseDir, seg, out);
        spec.commandLine().getOut().println("wrote " + out);
        return 0;
    }
}
