package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cloe_kernels_h;

import java.io.IOException;
import java.io.InputStream;

/**
 * The fatbin of cloe4j's kernels, a class-path resource next to this class ({@code cloe_kernels.fatbin}), built by
 * {@code scripts/build-kernels} when nvcc exists. Absent when the build had no nvcc: the backend says "no kernels".
 */
public final class KernelImage {
    private KernelImage() {
    }

    /** The simulated driver's image: the kernels are compiled into the simulator itself (scripts/build-sim). */
    static final byte[] SIMULATOR_IMAGE = "CLOE-SIM-IMAGE\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    /** The fatbin's bytes, or null when the build did not produce it (with the simulator: its marker image). */
    public static byte[] load() {
        try (InputStream in = KernelImage.class.getResourceAsStream(cloe_kernels_h.FATBIN)) {
            if (in == null && org.cloe4j.cuda.ffm.NativeLibraries.simulatorSelected()) return SIMULATOR_IMAGE.clone();
            return in == null ? null : in.readAllBytes();
        } catch (IOException e) {
            return null;
        }
    }

    /** Whether the fatbin is on the class path. */
    public static boolean present() {
        return KernelImage.class.getResource(cloe_kernels_h.FATBIN) != null;
    }
}
