package org.cloe4j.cuda;

/**
 * Launches cloe4j's kernels by name. Two implementations load the same fatbin: {@link PanamaLauncher} (the
 * default, through the generated FFM bindings) and JCuda's ({@code org.cloe4j.cuda.jcuda.JCudaLauncher}), chosen
 * with {@code -Dcloe.cuda.launcher=panama|jcuda}.
 *
 * <p>Arguments follow the kernel's C prototype in {@code native/cloe_kernels.h}: a device pointer is a
 * {@code Long} (0 for null), {@code int} an {@code Integer}, {@code float} a {@code Float}. The launcher checks them
 * against the generated descriptor and throws naming the kernel and the parameter when they disagree.
 */
public interface KernelLauncher extends AutoCloseable {

    /** Which path this is ("panama", "jcuda"). */
    String name();

    /** Queues kernel {@code kernel} on the launcher's stream. */
    void launch(String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
                Object... args);

    /** One-dimensional launch. */
    default void launch1d(String kernel, int grid, int block, Object... args) {
        launch(kernel, grid, 1, 1, block, 1, 1, 0, args);
    }

    @Override
    void close();
}
