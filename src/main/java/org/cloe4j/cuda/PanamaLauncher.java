package org.cloe4j.cuda;

import org.cloe4j.cuda.ffm.cuda_h;

import java.lang.foreign.AddressLayout;
import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Panama launch path: cuModuleLoadData of the fatbin (cuModuleLoadFatBinary is broken with the 580 driver,
 * see docs/GPU.md), cuModuleGetFunction once per kernel, cuLaunchKernel with a kernelParams array. Each thread keeps
 * its own argument block (64 value slots and the pointer array aimed at them), so a launch allocates nothing.
 */
public final class PanamaLauncher implements KernelLauncher {
    private static final int MAX_ARGS = 64;

    private final CudaDevice device;
    private final CudaStream stream;
    private final MemorySegment module;
    private final ConcurrentHashMap<String, MemorySegment> functions = new ConcurrentHashMap<>();
    private final ThreadLocal<MemorySegment[]> argBlocks = ThreadLocal.withInitial(() -> {
        Arena arena = Arena.ofAuto();
        MemorySegment values = arena.allocate(8L * MAX_ARGS, 16);
        MemorySegment pointers = arena.allocate(ValueLayout.ADDRESS, MAX_ARGS);
        for (int i = 0; i < MAX_ARGS; i++) pointers.setAtIndex(ValueLayout.ADDRESS, i, values.asSlice(8L * i, 8));
        return new MemorySegment[]{values, pointers};
    });

    public PanamaLauncher(CudaDevice device, CudaStream stream, byte[] fatbin) {
        this.device = device;
        this.stream = stream;
        device.makeCurrent();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment image = a.allocate(fatbin.length + 16L, 16);
            MemorySegment.copy(fatbin, 0, image, ValueLayout.JAVA_BYTE, 0, fatbin.length);
            MemorySegment p = a.allocate(ValueLayout.ADDRESS);
            CudaException.check(cuda_h.cuModuleLoadData(p, image), "cuModuleLoadData(cloe_kernels.fatbin, " + fatbin.length + " bytes)");
            module = p.get(ValueLayout.ADDRESS, 0);
        }
    }

    @Override
    public String name() {
        return "panama";
    }

    private MemorySegment function(String kernel) {
        return functions.computeIfAbsent(kernel, k -> {
            try (Arena a = Arena.ofConfined()) {
                MemorySegment p = a.allocate(ValueLayout.ADDRESS);
                CudaException.check(cuda_h.cuModuleGetFunction(p, module, a.allocateFrom(k)), "cuModuleGetFunction(" + k + ")");
                return p.get(ValueLayout.ADDRESS, 0);
            }
        });
    }

    @Override
    public void launch(String kernel, int gridX, int gridY, int gridZ, int blockX, int blockY, int blockZ,
                       int sharedBytes, Object... args) {
        List<MemoryLayout> params = KernelArgs.check(kernel, args);
        if (args.length > MAX_ARGS) throw new IllegalArgumentException("kernel " + kernel + ": more than " + MAX_ARGS + " arguments");
        device.makeCurrent();
        MemorySegment f = function(kernel);
        MemorySegment[] block = argBlocks.get();
        MemorySegment values = block[0];
        for (int i = 0; i < args.length; i++) {
            long off = 8L * i;
            switch (params.get(i)) {
                case ValueLayout.OfInt ignored -> values.set(ValueLayout.JAVA_INT, off, (Integer) args[i]);
                case ValueLayout.OfFloat ignored -> values.set(ValueLayout.JAVA_FLOAT, off, (Float) args[i]);
                case ValueLayout.OfLong ignored -> values.set(ValueLayout.JAVA_LONG, off, (Long) args[i]);
                case AddressLayout ignored -> values.set(ValueLayout.JAVA_LONG, off, (Long) args[i]);
                default -> throw new IllegalStateException("unexpected layout " + params.get(i));
            }
        }
        int rc = cuda_h.cuLaunchKernel(f, gridX, gridY, gridZ, blockX, blockY, blockZ, sharedBytes, stream.handle(),
                block[1], MemorySegment.NULL);
        if (rc != 0) {
            throw CudaException.of(rc, "cuLaunchKernel(" + kernel + " grid " + gridX + "x" + gridY + "x" + gridZ
                    + " block " + blockX + "x" + blockY + "x" + blockZ + ")");
        }
    }

    @Override
    public void close() {
        device.makeCurrent();
        cuda_h.cuModuleUnload(module);
    }
}
