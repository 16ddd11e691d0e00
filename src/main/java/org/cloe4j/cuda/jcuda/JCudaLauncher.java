package org.cloe4j.cuda.jcuda;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;
import org.cloe4j.cuda.KernelArgs;
import org.cloe4j.cuda.KernelLauncher;

import java.util.concurrent.ConcurrentHashMap;

/**
 * The JCuda launch path: the same fatbin and kernels as {@link org.cloe4j.cuda.PanamaLauncher}, loaded and
 * launched through JCuda's JNI bindings. Loading any JCuda class needs libcuda.so.1 (JCuda's native library links
 * it), so this class is only ever reached by reflection from the CUDA backend, after the driver probe succeeded
 * and {@code -Dcloe.cuda.launcher=jcuda} asked for it. Launches go to the legacy NULL stream (the backend then
 * uses it for its own copies too), because JCuda cannot adopt a stream created through Panama.
 */
public final class JCudaLauncher implements KernelLauncher {
    private final CUcontext context = new CUcontext();
    private final CUdevice device = new CUdevice();
    private final CUmodule module = new CUmodule();
    private final ConcurrentHashMap<String, CUfunction> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<Boolean> current = ThreadLocal.withInitial(() -> false);

    public JCudaLauncher(int ordinal, byte[] fatbin) {
        JCudaDriver.setExceptionsEnabled(true);
        JCudaDriver.cuInit(0);
        JCudaDriver.cuDeviceGet(device, ordinal);
        JCudaDriver.cuDevicePrimaryCtxRetain(context, device);
        makeCurrent();
        // cuModuleLoadData, not cuModuleLoadFatBinary: the latter returns a null module with driver 580 (docs/GPU.md)
        JCudaDriver.cuModuleLoadData(module, fatbin);
    }

    private void makeCurrent() {
        if (!current.get()) {
            JCudaDriver.cuCtxSetCurrent(context);
            current.set(true);
        }
    }

    @Override
    public String name() {
        return "jcuda";
    }

    @Override
    public void launch(String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, Object... args) {
        KernelArgs.check(kernel, args);
        makeCurrent();
        CUfunction f = functions.computeIfAbsent(kernel, k -> {
            CUfunction fn = new CUfunction();
            JCudaDriver.cuModuleGetFunction(fn, module, k);
            return fn;
        });
        Pointer[] ptrs = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            ptrs[i] = switch (args[i]) {
                case Integer v -> Pointer.to(new int[]{v});
                case Float v -> Pointer.to(new float[]{v});
                case Long v -> Pointer.to(new long[]{v});
                default -> throw new IllegalArgumentException("kernel " + kernel + " parameter " + i + ": unsupported " + args[i]);
            };
        }
        JCudaDriver.cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, null,
                Pointer.to(ptrs), null);
    }

    @Override
    public void close() {
        makeCurrent();
        JCudaDriver.cuModuleUnload(module);
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
