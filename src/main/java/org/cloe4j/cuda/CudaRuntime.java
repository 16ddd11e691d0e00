package org.cloe4j.cuda;

/**
 * What a {@link CudaBackend} runs on, started on first use and shared by the backends made from it with
 * {@link CudaBackend#withOptions}: the device (its primary context), one stream, the caching allocator, the pinned
 * staging buffers, the loaded kernels and their launcher, and cuDNN once asked for. {@link #probe} never throws: without
 * a driver, a GPU or the kernels fatbin {@link #reason} says why.
 */
final class CudaRuntime {
    private final int requestedDevice;
    /** The launch path and its checking, fixed for every backend on this runtime. */
    final String launcherName;
    private final boolean syncEachLaunch;
    private volatile boolean probed;
    private volatile String reason = "";
    CudaDevice device;
    CudaStream stream;
    DeviceAllocator alloc;
    PinnedBuffers pinned;
    KernelLauncher launcher;
    Kernels kern;
    int maxBlocks;
    private CudnnConv cudnn;
    private String cudnnWhy;
    private boolean cudnnTried;

    CudaRuntime(int requestedDevice, CudaOptions options) {
        this.requestedDevice = requestedDevice;
        this.launcherName = options.launcher();
        this.syncEachLaunch = options.syncEachLaunch();
    }

    /** Empty when the runtime started, else why not. */
    String reason() {
        return reason;
    }

    /** Marks the runtime as unusable (it will not start). */
    void fail(String why) {
        probed = true;
        reason = why;
    }

    synchronized void probe() {
        if (probed) return;
        probed = true;
        try {
            CudaDriver driver = CudaDriver.get();
            if (!driver.isAvailable()) {
                reason = driver.unavailableReason();
                return;
            }
            byte[] fatbin = KernelImage.load();
            if (fatbin == null) {
                reason = "no kernels: org/cloe4j/cuda/cloe_kernels.fatbin is not on the class path (the build had no nvcc; run scripts/build-kernels)";
                return;
            }
            device = driver.device(requestedDevice);
            device.makeCurrent();
            if (launcherName.equals("jcuda")) {
                // JCuda launches on the NULL stream; use it for our copies too so that everything stays ordered
                stream = CudaStream.legacyDefault(device);
                launcher = (KernelLauncher) Class.forName("org.cloe4j.cuda.jcuda.JCudaLauncher")
                        .getConstructor(int.class, byte[].class).newInstance(device.ordinal(), fatbin);
            } else {
                stream = CudaStream.create(device);
                launcher = new PanamaLauncher(device, stream, fatbin);
            }
            if (syncEachLaunch) launcher = new CheckedLauncher(launcher, stream);
            kern = new Kernels(launcher);
            alloc = new DeviceAllocator(device);
            pinned = new PinnedBuffers(device);
            maxBlocks = device.multiprocessors() * 16;
        } catch (Throwable t) {
            reason = "CUDA backend failed to start: " + t;
        }
    }

    boolean started() {
        return probed && reason.isEmpty();
    }

    synchronized CudnnConv cudnn() {
        if (!cudnnTried) {
            cudnnTried = true;
            String[] why = new String[1];
            cudnn = CudnnConv.open(stream, why);
            cudnnWhy = why[0];
        }
        return cudnn;
    }

    /** Which cuDNN file conv3d uses, or why there is none. */
    String cudnnStatus() {
        CudnnConv c = cudnn();
        return c != null ? c.describe() : cudnnWhy;
    }

    synchronized void close() {
        if (!started()) return;
        device.makeCurrent();
        stream.synchronize();
        if (cudnn != null) cudnn.close();
        launcher.close();
        pinned.close();
        alloc.close();
        stream.close();
        reason = "closed";
    }
}
