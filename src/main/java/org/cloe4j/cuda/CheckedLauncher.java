package org.cloe4j.cuda;

/**
 * A launcher that synchronises after every launch and names the kernel whose execution failed
 * ({@code -Dcloe.cuda.syncEachLaunch=true}; the GPU suite's smoke stage uses it). Without it an asynchronous fault
 * (an illegal address inside a kernel) surfaces at some later call, naming that call instead of the kernel. Slow: for
 * finding a fault, never for training.
 */
final class CheckedLauncher implements KernelLauncher {
    private final KernelLauncher inner;
    private final CudaStream stream;

    CheckedLauncher(KernelLauncher inner, CudaStream stream) {
        this.inner = inner;
        this.stream = stream;
    }

    @Override
    public String name() {
        return inner.name() + "+sync";
    }

    @Override
    public void launch(String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ, int sharedBytes,
                       Object... args) {
        inner.launch(kernel, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, args);
        try {
            stream.synchronize();
        } catch (CudaException e) {
            throw new CudaException("kernel " + kernel + " (grid " + gridX + "x" + gridY + "x" + gridZ + ", block " + blockX
                    + "x" + blockY + "x" + blockZ + ") failed while running: " + e.getMessage(), kernel, e.code(), e.errorName());
        }
    }

    @Override
    public void close() {
        inner.close();
    }
}
