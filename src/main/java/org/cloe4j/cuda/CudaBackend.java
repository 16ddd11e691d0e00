package org.cloe4j.cuda;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.cuda.ffm.cuda_h;
import org.cloe4j.tensor.DeviceStorage;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.backend.ShapeChecks.shape;
import static org.cloe4j.backend.ShapeChecks.volume;

/**
 * The CUDA backend: every op of {@link Backend} on cloe4j's own kernels ({@code kernels/*.cu}, one fatbin loaded with
 * cuModuleLoadData), launched through Panama (default) or JCuda ({@code -Dcloe.cuda.launcher=jcuda}).
 *
 * <p><b>conv3d</b> runs on our kernels ({@code kernels/conv3d.cu}: version 1 direct, version 2 an implicit GEMM in
 * FP32, TF32 or BF16, see {@link #convPrecision()}, version 3 the same with tiles shaped for 16-channel layers); {@code -Dcloe.cuda.conv=cudnn} runs it through cuDNN instead
 * (found through {@code CLOE_CUDNN} / {@code -Dcloe.cudnn} or the Python {@code nvidia} packages), the reference the
 * GPU tests and benchmarks compare with.
 *
 * <p>Nothing touches the GPU before first use: constructing this class (ServiceLoader does it everywhere) is free,
 * and {@link #isAvailable()} probes once and never throws; without a driver, a GPU, or the kernels fatbin it is false
 * and {@link #unavailableReason()} says which ("no kernels" when the build had no nvcc).
 *
 * <p>All work is queued on one stream per backend, in call order; {@link #toHost} and {@link #synchronize} wait.
 * Kernel versions (the simple first one beside the fast one) are chosen per call with
 * {@code -Dcloe.cuda.kernel.<op>=N} for the ops {@code upsampleBackward}, {@code pairwiseCosine},
 * {@code weightedSum} (1 or 2) and {@code conv3d}, {@code sumTo}, {@code instanceNorm} (1, 2 or 3); the default is the newest.
 */
public final class CudaBackend implements Backend {
    static final int BLOCK = 256;
    /** Most experts the fused CLoE kernels take (their C ABI has eight pointer slots). */
    public static final int MAX_EXPERTS = 8;

    private final int requestedDevice;
    private volatile boolean probed;
    private volatile String reason = "";
    private CudaDevice device;
    private CudaStream stream;
    private DeviceAllocator alloc;
    private PinnedBuffers pinned;
    private KernelLauncher launcher;
    private Kernels kern;
    private final CudaLoss losses = new CudaLoss(this);
    private int maxBlocks;
    private CudnnConv cudnn;
    private String cudnnWhy;
    private boolean cudnnTried;

    public CudaBackend() {
        this(Integer.getInteger("cloe.cuda.device", 0));
    }

    public CudaBackend(int deviceOrdinal) {
        this.requestedDevice = deviceOrdinal;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public int priority() {
        return 100;
    }

    @Override
    public boolean isAvailable() {
        try {
            probe();
            return reason.isEmpty();
        } catch (Throwable t) {
            reason = "CUDA backend failed to start: " + t;
            return false;
        }
    }

    @Override
    public String unavailableReason() {
        isAvailable();
        return reason;
    }

    private synchronized void probe() {
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
            String which = System.getProperty("cloe.cuda.launcher", "panama");
            switch (which) {
                case "panama" -> {
                    stream = CudaStream.create(device);
                    launcher = new PanamaLauncher(device, stream, fatbin);
                }
                case "jcuda" -> {
                    // JCuda launches on the NULL stream; use it for our copies too so that everything stays ordered
                    stream = CudaStream.legacyDefault(device);
                    launcher = (KernelLauncher) Class.forName("org.cloe4j.cuda.jcuda.JCudaLauncher")
                            .getConstructor(int.class, byte[].class).newInstance(device.ordinal(), fatbin);
                }
                default -> throw new IllegalArgumentException("cloe.cuda.launcher must be panama or jcuda, got '" + which + "'");
            }
            if (Boolean.getBoolean("cloe.cuda.syncEachLaunch")) launcher = new CheckedLauncher(launcher, stream);
            kern = new Kernels(launcher);
            alloc = new DeviceAllocator(device);
            pinned = new PinnedBuffers(device);
            maxBlocks = device.multiprocessors() * 16;
        } catch (Throwable t) {
            reason = "CUDA backend failed to start: " + t;
        }
    }

    void ready() {
        probe();
        if (!reason.isEmpty()) throw new IllegalStateException("CUDA backend unavailable: " + reason);
        device.makeCurrent();
    }

    /** The device this backend runs on (starts the backend). */
    public CudaDevice device() {
        ready();
        return device;
    }

    /** The stream all work is queued on. */
    public CudaStream stream() {
        ready();
        return stream;
    }

    /** The launch path in use ("panama" or "jcuda"). */
    public String launcherName() {
        ready();
        return launcher.name();
    }

    /** The caching allocator (for statistics). */
    public DeviceAllocator allocator() {
        ready();
        return alloc;
    }

    /** Which cuDNN file conv3d uses, or why there is none. */
    public String cudnnStatus() {
        ready();
        CudnnConv c = cudnn();
        return c != null ? c.describe() : cudnnWhy;
    }

    private synchronized CudnnConv cudnn() {
        if (!cudnnTried) {
            cudnnTried = true;
            String[] why = new String[1];
            cudnn = CudnnConv.open(stream, why);
            cudnnWhy = why[0];
        }
        return cudnn;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // helpers

    /** The newest kernel version of each op that has several; the default unless a property picks another. */
    public static int latestVersion(String op) {
        return op.equals("instanceNorm") || op.equals("sumTo") || op.equals("conv3d") ? 3 : 2;
    }

    /**
     * Whether the ops that the contract asks to throw on a bad value (an all-zero gate mask) read that value back to
     * check it: a 4-byte copy and a synchronisation each. (A non-finite loss is the trainer's check, on the loss it
     * reads anyway: the loss ops never synchronise.) On by default; {@code -Dcloe.cuda.hostChecks=false}
     * skips them (needed while capturing a CUDA graph, where host copies are not allowed).
     */
    static boolean hostChecks() {
        return !"false".equals(System.getProperty("cloe.cuda.hostChecks"));
    }

    static int version(String op) {
        int latest = latestVersion(op);
        String v = System.getProperty("cloe.cuda.kernel." + op, Integer.toString(latest));
        try {
            int k = Integer.parseInt(v.strip());
            if (k >= 1 && k <= latest) return k;
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException("-Dcloe.cuda.kernel." + op + " must be 1.." + latest + ", got '" + v + "'");
    }

    /** Blocks per map for the split-map reductions: enough to fill the GPU, at least ~2K elements per block. */
    int splitsPerMap(int maps, int spatial) {
        return (int) Math.max(1, Math.min((spatial + BLOCK * 8L - 1) / (BLOCK * 8L), Math.max(1, maxBlocks / maps)));
    }

    int grid(long n) {
        return (int) Math.max(1, Math.min((n + BLOCK - 1) / BLOCK, maxBlocks));
    }

    /** A one-dimensional grid of BLOCK threads per block covering n elements (grid-stride loops beyond maxBlocks). */
    Grid g1(long n) {
        return Grid.of(grid(n), BLOCK);
    }

    private void k(String kernel, long n, Object... args) {
        launcher.launch1d(kernel, grid(n), BLOCK, args);
    }

    static long p(Tensor t, String op) {
        if (t == null) return 0L;
        if (!(t.storage() instanceof DeviceStorage)) {
            throw new IllegalArgumentException(op + ": tensor " + t.shape() + " lives on the Java heap, not on the CUDA device");
        }
        return t.devicePointer();
    }

    static int n(Tensor t, String op) {
        long s = t.shape().size();
        if (s > Integer.MAX_VALUE) throw new IllegalArgumentException(op + ": tensor " + t.shape() + " has more than 2^31 elements");
        return (int) s;
    }

    static int spatialOf(Shape s) {
        return (int) (s.size() / ((long) s.dim(0) * s.dim(1)));
    }

    /** The typed kernel launches (after {@link #ready}). */
    Kernels kern() {
        return kern;
    }

    /** Frees a scratch buffer from {@link #scratch}. */
    void free(long ptr) {
        alloc.free(ptr);
    }

    long scratch(long floats, String what) {
        return alloc.allocate(Math.max(1, floats) * Float.BYTES, what);
    }

    private void zero(long ptr, long floats) {
        CudaException.check(cuda_h.cuMemsetD32Async(ptr, 0, floats, stream.handle()), "cuMemsetD32Async(" + floats + ")");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // memory

    @Override
    public Tensor allocate(Shape shape) {
        ready();
        long ptr = alloc.allocate(shape.bytes(), "tensor " + shape);
        return new Tensor(shape, new DeviceStorage(ptr, shape.bytes(), device.ordinal()));
    }

    @Override
    public void release(Tensor t) {
        ready();
        alloc.free(p(t, "release"));
    }

    @Override
    public Tensor fromHost(Shape shape, float[] data) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("fromHost: " + data.length + " floats for shape " + shape);
        }
        Tensor t = allocate(shape);
        long bytes = shape.bytes();
        try (PinnedBuffers.Lease l = pinned.acquire(bytes)) {
            MemorySegment.copy(data, 0, l.segment(), ValueLayout.JAVA_FLOAT, 0, data.length);
            CudaException.check(cuda_h.cuMemcpyHtoDAsync_v2(t.devicePointer(), l.segment(), bytes, stream.handle()),
                    "cuMemcpyHtoDAsync_v2(" + shape + ")");
            // the staging buffer goes back to the pool: the copy must be done before it is reused
            stream.synchronize();
        }
        return t;
    }

    @Override
    public float[] toHost(Tensor t) {
        ready();
        long bytes = t.shape().bytes();
        float[] out = new float[t.shape().intSize()];
        try (PinnedBuffers.Lease l = pinned.acquire(bytes)) {
            CudaException.check(cuda_h.cuMemcpyDtoHAsync_v2(l.segment(), p(t, "toHost"), bytes, stream.handle()),
                    "cuMemcpyDtoHAsync_v2(" + t.shape() + ")");
            stream.synchronize();
            MemorySegment.copy(l.segment(), ValueLayout.JAVA_FLOAT, 0, out, 0, out.length);
        }
        return out;
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        ready();
        // same size, any shapes: the graph's reshape is a copy between shapes
        if (src.shape().size() != dst.shape().size()) {
            throw new IllegalArgumentException("copy: sizes differ: " + src.shape() + " vs " + dst.shape());
        }
        CudaException.check(cuda_h.cuMemcpyDtoDAsync_v2(p(dst, "copy"), p(src, "copy"), src.shape().bytes(), stream.handle()),
                "cuMemcpyDtoDAsync_v2(" + src.shape() + ")");
    }

    @Override
    public void fill(Tensor t, float value) {
        ready();
        CudaException.check(cuda_h.cuMemsetD32Async(p(t, "fill"), Float.floatToRawIntBits(value), t.shape().size(), stream.handle()),
                "cuMemsetD32Async(fill " + t.shape() + ")");
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        ready();
        sameShape("addInPlace", acc, x);
        int n = n(acc, "addInPlace");
        kern.cloe_add_inplace(g1(n), p(acc, "addInPlace"), p(x, "addInPlace"), n);
    }

    @Override
    public long bytesInUse() {
        return isAvailable() ? alloc.bytesInUse() : 0;
    }

    @Override
    public long peakBytes() {
        return isAvailable() ? alloc.peakBytes() : 0;
    }

    @Override
    public void resetPeak() {
        if (isAvailable()) alloc.resetPeak();
    }

    @Override
    public void synchronize() {
        ready();
        stream.synchronize();
    }

    @Override
    public synchronized void close() {
        if (!probed || !reason.isEmpty()) return;
        device.makeCurrent();
        stream.synchronize();
        if (cudnn != null) cudnn.close();
        launcher.close();
        pinned.close();
        alloc.close();
        stream.close();
        reason = "closed";
    }

    // ---------------------------------------------------------------------------------------------------------------
    // convolution: our kernels (kernels/conv3d.cu) by default, cuDNN as the reference / peer

    /** Which implementation runs conv3d: {@code -Dcloe.cuda.conv=kernels} (ours, the default) or {@code cudnn}. */
    public static String convPath() {
        String v = System.getProperty("cloe.cuda.conv", "kernels").strip();
        if (!v.equals("kernels") && !v.equals("cudnn")) {
            throw new IllegalArgumentException("-Dcloe.cuda.conv must be kernels or cudnn, got '" + v + "'");
        }
        return v;
    }

    /**
     * The arithmetic of conv3d: {@code -Dcloe.cuda.conv.precision=fp32} (exact FP32 products, the default: the CPU
     * backend is the oracle), {@code tf32} (tensor cores, 10-bit mantissa operands, FP32 accumulation) or {@code bf16}
     * (tensor cores, bfloat16 operands rounded from the FP32 tensors on load, FP32 accumulation and FP32 weights).
     * Applies to kernel versions 2 and 3 and to cuDNN (which runs bf16 as TF32: its bf16 path needs bf16 tensors);
     * version 1 is always FP32.
     */
    public static String convPrecision() {
        String v = System.getProperty("cloe.cuda.conv.precision", "fp32").strip();
        if (!v.equals("fp32") && !v.equals("tf32") && !v.equals("bf16")) {
            throw new IllegalArgumentException("-Dcloe.cuda.conv.precision must be fp32, tf32 or bf16, got '" + v + "'");
        }
        return v;
    }

    /** What conv3d runs with the current properties, e.g. "kernels v3 tf32" or "cudnn fp32 (FMA math)". */
    public static String convDescription() {
        if (convPath().equals("cudnn")) {
            return "cudnn " + (convPrecision().equals("fp32") ? "fp32 (FMA math)" : "tf32 (tensor-op math)");
        }
        int v = version("conv3d");
        return "kernels v" + v + " " + (v == 1 ? "fp32" : convPrecision());
    }

    private CudnnConv requireCudnn() {
        CudnnConv c = cudnn();
        if (c == null) throw new UnsupportedOperationException("-Dcloe.cuda.conv=cudnn, but cuDNN is not available (" + cudnnWhy + ")");
        return c;
    }

    private boolean reflect(ConvSpec spec) {
        return spec.padding() == ConvSpec.Padding.REFLECT && spec.pad() > 0;
    }

    /** An explicitly reflect-padded copy of x (pad 1), for cuDNN, which only pads with zeros. */
    private Tensor padReflect(Tensor x) {
        Shape s = x.shape();
        Tensor xp = allocate(Shape.ncdhw(s.n(), s.c(), s.d() + 2, s.h() + 2, s.w() + 2));
        kern.cloe_pad_reflect1_fwd(g1(xp.shape().size()), p(x, "conv3d"), xp.devicePointer(), s.n() * s.c(), s.d(), s.h(), s.w());
        return xp;
    }

    private void run(ConvLaunch.Launch l) {
        launcher.launch(l.kernel(), l.gridX(), l.gridY(), l.gridZ(), l.block(), 1, 1, 0, l.args());
    }

    @Override
    public void conv3d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec spec) {
        ready();
        String op = "conv3d";
        Shape ys = spec.outputShape(x.shape(), w.shape());
        shape(op, "y", y, ys);
        shape(op, "bias", bias, Shape.of(w.shape().dim(0)));
        n(x, op);
        n(y, op);
        if (convPath().equals("cudnn")) {
            conv3dCudnn(x, w, bias, y, spec, ys);
            return;
        }
        run(ConvLaunch.forward(version(op), convPrecision(), p(x, op), p(w, op), p(bias, op), p(y, op), x.shape(),
                w.shape(), ys, spec, maxBlocks));
    }

    private void conv3dCudnn(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec spec, Shape ys) {
        CudnnConv c = requireCudnn();
        boolean tensorOps = !convPrecision().equals("fp32");
        if (reflect(spec)) {
            Tensor xp = padReflect(x);
            try {
                c.forward(alloc, xp.devicePointer(), xp.shape(), p(w, "conv3d"), w.shape(), p(y, "conv3d"), ys, 0, spec.stride(), tensorOps);
            } finally {
                release(xp);
            }
        } else {
            c.forward(alloc, p(x, "conv3d"), x.shape(), p(w, "conv3d"), w.shape(), p(y, "conv3d"), ys, spec.pad(), spec.stride(), tensorOps);
        }
        if (bias != null) {
            kern.cloe_bias_add_channels(g1(ys.size()), y.devicePointer(), bias.devicePointer(), ys.n(), ys.c(), ys.spatialSize());
        }
    }

    @Override
    public void conv3dBackwardData(Tensor gy, Tensor w, Tensor gx, ConvSpec spec) {
        ready();
        String op = "conv3dBackwardData";
        Shape xs = gx.shape();
        shape(op, "gy", gy, spec.outputShape(xs, w.shape()));
        n(gx, op);
        n(gy, op);
        if (convPath().equals("cudnn")) {
            conv3dBackwardDataCudnn(gy, w, gx, spec);
            return;
        }
        run(ConvLaunch.backwardData(version("conv3d"), convPrecision(), p(gy, op), p(w, op), p(gx, op), xs, w.shape(),
                gy.shape(), spec, maxBlocks));
    }

    private void conv3dBackwardDataCudnn(Tensor gy, Tensor w, Tensor gx, ConvSpec spec) {
        CudnnConv c = requireCudnn();
        boolean tensorOps = !convPrecision().equals("fp32");
        Shape xs = gx.shape();
        if (reflect(spec)) {
            Tensor gxp = allocate(Shape.ncdhw(xs.n(), xs.c(), xs.d() + 2, xs.h() + 2, xs.w() + 2));
            try {
                c.backwardData(alloc, p(gy, "conv3dBackwardData"), gy.shape(), p(w, "conv3dBackwardData"), w.shape(),
                        gxp.devicePointer(), gxp.shape(), 0, spec.stride(), tensorOps);
                kern.cloe_pad_reflect1_bwd(g1(xs.size()), gxp.devicePointer(), gx.devicePointer(), xs.n() * xs.c(), xs.d(), xs.h(), xs.w());
            } finally {
                release(gxp);
            }
        } else {
            c.backwardData(alloc, p(gy, "conv3dBackwardData"), gy.shape(), p(w, "conv3dBackwardData"), w.shape(),
                    p(gx, "conv3dBackwardData"), xs, spec.pad(), spec.stride(), tensorOps);
        }
    }

    /** The bias gradient uses our sumTo kernel on every path. */
    @Override
    public void conv3dBackwardWeight(Tensor x, Tensor gy, Tensor gw, Tensor gb, ConvSpec spec) {
        ready();
        String op = "conv3dBackwardWeight";
        Shape ws = gw.shape();
        shape(op, "gy", gy, spec.outputShape(x.shape(), ws));
        shape(op, "gb", gb, Shape.of(ws.dim(0)));
        n(x, op);
        n(gy, op);
        if (convPath().equals("cudnn")) {
            conv3dBackwardWeightCudnn(x, gy, gw, spec);
        } else {
            ConvLaunch.WeightPlan plan = ConvLaunch.backwardWeight(version("conv3d"), convPrecision(), p(x, op), p(gy, op),
                    p(gw, op), x.shape(), ws, gy.shape(), spec, maxBlocks, device.multiprocessors());
            long partials = plan.partialFloats() > 0 ? scratch(plan.partialFloats(), "conv3d backward-weight partials") : 0L;
            try {
                for (ConvLaunch.Launch l : plan.launches(partials)) run(l);
            } finally {
                if (partials != 0) alloc.free(partials);
            }
        }
        if (gb != null) {
            Shape g = gy.shape();
            // gy seen as [1, 1, N, Co, S]: sum over N (dim 2) and S (dim 4)
            sumToRaw(gy.devicePointer(), gb.devicePointer(), g.c(), new int[]{1, 1, g.n(), g.c(), g.spatialSize()}, (1 << 2) | (1 << 4));
        }
    }

    private void conv3dBackwardWeightCudnn(Tensor x, Tensor gy, Tensor gw, ConvSpec spec) {
        CudnnConv c = requireCudnn();
        boolean tensorOps = !convPrecision().equals("fp32");
        if (reflect(spec)) {
            Tensor xp = padReflect(x);
            try {
                c.backwardFilter(alloc, xp.devicePointer(), xp.shape(), p(gy, "conv3dBackwardWeight"), gy.shape(),
                        p(gw, "conv3dBackwardWeight"), gw.shape(), 0, spec.stride(), tensorOps);
            } finally {
                release(xp);
            }
        } else {
            c.backwardFilter(alloc, p(x, "conv3dBackwardWeight"), x.shape(), p(gy, "conv3dBackwardWeight"), gy.shape(),
                    p(gw, "conv3dBackwardWeight"), gw.shape(), spec.pad(), spec.stride(), tensorOps);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // resampling and normalisation

    @Override
    public void upsample2x(Tensor x, Tensor y) {
        ready();
        volume("upsample2x", x);
        Shape s = x.shape();
        if (!y.shape().equals(Shape.ncdhw(s.n(), s.c(), 2 * s.d(), 2 * s.h(), 2 * s.w()))) {
            throw new IllegalArgumentException("upsample2x: output " + y.shape() + " is not twice the input " + s);
        }
        kern.cloe_upsample2x_fwd(g1(y.shape().size()), p(x, "upsample2x"), p(y, "upsample2x"), s.n() * s.c(), s.d(), s.h(), s.w());
    }

    @Override
    public void upsample2xBackward(Tensor gy, Tensor gx) {
        ready();
        volume("upsample2xBackward", gx);
        Shape s = gx.shape();
        if (!gy.shape().equals(Shape.ncdhw(s.n(), s.c(), 2 * s.d(), 2 * s.h(), 2 * s.w()))) {
            throw new IllegalArgumentException("upsample2xBackward: gy " + gy.shape() + " is not twice gx " + s);
        }
        if (version("upsampleBackward") == 1) {
            zero(p(gx, "upsample2xBackward"), s.size());
            kern.cloe_upsample2x_bwd_v1(g1(gy.shape().size()), p(gy, "upsample2xBackward"), gx.devicePointer(), s.n() * s.c(), s.d(), s.h(), s.w());
        } else {
            kern.cloe_upsample2x_bwd_v2(g1(s.size()), p(gy, "upsample2xBackward"), p(gx, "upsample2xBackward"), s.n() * s.c(), s.d(), s.h(), s.w());
        }
    }

    @Override
    public void instanceNorm(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, float eps) {
        ready();
        String op = "instanceNorm";
        Shape s = x.shape();
        volume(op, x);
        sameShape(op, x, y);
        shape(op, "mean", mean, Shape.of(s.n(), s.c()));
        shape(op, "rstd", rstd, Shape.of(s.n(), s.c()));
        shape(op, "gamma", gamma, Shape.of(s.c()));
        shape(op, "beta", beta, Shape.of(s.c()));
        int nc = s.n() * s.c(), sp = spatialOf(s);
        int v = version(op);
        if (v == 1) {
            kern.cloe_instance_norm_fwd_v1(g1(nc), p(x, op), p(gamma, op), p(beta, op), p(y, op), p(mean, op), p(rstd, op), nc, s.c(), sp, eps);
        } else if (v == 3) {
            int splits = splitsPerMap(nc, sp);
            long partials = scratch(2L * splits * nc, op + " partials"), sums = scratch(2L * nc, op + " sums");
            try {
                kern.cloe_instance_norm_stats_v3(new Grid(splits, nc, 1, BLOCK), p(x, op), partials, nc, sp);
                kern.cloe_reduce_columns(Grid.of(Math.min(2 * nc, 65535), BLOCK), partials, splits, 2 * nc, sums, 1f);
                kern.cloe_instance_norm_finish_v3(g1(nc), sums, p(x, op), p(mean, op), p(rstd, op), nc, sp, eps);
                kern.cloe_instance_norm_apply_v3(g1(s.size()), p(x, op), p(gamma, op), p(beta, op), p(mean, op), p(rstd, op), p(y, op), nc, s.c(), sp);
            } finally {
                alloc.free(partials);
                alloc.free(sums);
            }
        } else {
            kern.cloe_instance_norm_fwd_v2(Grid.of(Math.min(nc, 65535), 512), p(x, op), p(gamma, op), p(beta, op), p(y, op), p(mean, op), p(rstd, op), nc, s.c(), sp, eps);
        }
    }

    @Override
    public void instanceNormBackward(Tensor x, Tensor gy, Tensor mean, Tensor rstd, Tensor gamma,
                                     Tensor gx, Tensor ggamma, Tensor gbeta) {
        ready();
        String op = "instanceNormBackward";
        volume(op, x);
        Shape s = x.shape();
        sameShape(op, x, gy);
        sameShape(op, x, gx);
        shape(op, "mean", mean, Shape.of(s.n(), s.c()));
        shape(op, "rstd", rstd, Shape.of(s.n(), s.c()));
        shape(op, "gamma", gamma, Shape.of(s.c()));
        shape(op, "ggamma", ggamma, Shape.of(s.c()));
        shape(op, "gbeta", gbeta, Shape.of(s.c()));
        int nc = s.n() * s.c(), sp = spatialOf(s);
        long part = scratch(2L * nc, op + " partial sums");
        try {
            int v = version("instanceNorm");
            if (v == 3) {
                int splits = splitsPerMap(nc, sp);
                long partials = scratch(2L * splits * nc, op + " partials");
                try {
                    kern.cloe_instance_norm_bwd_sums_v3(new Grid(splits, nc, 1, BLOCK), p(x, op), p(gy, op), p(mean, op), p(rstd, op), partials, nc, sp);
                    kern.cloe_reduce_columns(Grid.of(Math.min(2 * nc, 65535), BLOCK), partials, splits, 2 * nc, part, 1f);
                } finally {
                    alloc.free(partials);
                }
                kern.cloe_instance_norm_bwd_apply_v3(g1(s.size()), p(x, op), p(gy, op), p(mean, op), p(rstd, op), p(gamma, op), part, p(gx, op), nc, s.c(), sp);
            } else if (v == 1) {
                kern.cloe_instance_norm_bwd_v1(g1(nc), p(x, op), p(gy, op), p(mean, op), p(rstd, op), p(gamma, op), p(gx, op), part, nc, s.c(), sp);
            } else {
                kern.cloe_instance_norm_bwd_v2(Grid.of(Math.min(nc, 65535), 512), p(x, op), p(gy, op), p(mean, op), p(rstd, op), p(gamma, op), p(gx, op), part, nc, s.c(), sp);
            }
            if (ggamma != null || gbeta != null) {
                kern.cloe_instance_norm_affine_grad(g1(s.c()), part, p(ggamma, op), p(gbeta, op), s.n(), s.c());
            }
        } finally {
            alloc.free(part);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // element-wise

    @Override
    public void leakyRelu(Tensor x, Tensor y, float slope) {
        ready();
        sameShape("leakyRelu", x, y);
        int n = n(x, "leakyRelu");
        kern.cloe_leaky_relu_fwd(g1(n), p(x, "leakyRelu"), p(y, "leakyRelu"), slope, n);
    }

    @Override
    public void leakyReluBackward(Tensor x, Tensor gy, Tensor gx, float slope) {
        ready();
        sameShape("leakyReluBackward", x, gy);
        sameShape("leakyReluBackward", x, gx);
        int n = n(x, "leakyReluBackward");
        kern.cloe_leaky_relu_bwd(g1(n), p(x, "leakyReluBackward"), p(gy, "leakyReluBackward"), p(gx, "leakyReluBackward"), slope, n);
    }

    @Override
    public void sigmoid(Tensor x, Tensor y) {
        ready();
        sameShape("sigmoid", x, y);
        int n = n(x, "sigmoid");
        kern.cloe_sigmoid_fwd(g1(n), p(x, "sigmoid"), p(y, "sigmoid"), n);
    }

    @Override
    public void sigmoidBackward(Tensor y, Tensor gy, Tensor gx) {
        ready();
        sameShape("sigmoidBackward", y, gy);
        sameShape("sigmoidBackward", y, gx);
        int n = n(y, "sigmoidBackward");
        kern.cloe_sigmoid_bwd(g1(n), p(y, "sigmoidBackward"), p(gy, "sigmoidBackward"), p(gx, "sigmoidBackward"), n);
    }

    @Override
    public void scale(Tensor x, float s, Tensor y) {
        ready();
        sameShape("scale", x, y);
        int n = n(x, "scale");
        kern.cloe_scale(g1(n), p(x, "scale"), s, p(y, "scale"), n);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        broadcast("add", 0, a, b, y);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor y) {
        broadcast("mul", 1, a, b, y);
    }

    private void broadcast(String op, int code, Tensor a, Tensor b, Tensor y) {
        ready();
        int r = y.shape().rank();
        if (a.shape().rank() != r || b.shape().rank() != r) {
            throw new IllegalArgumentException(op + ": ranks differ: " + a.shape() + ", " + b.shape() + " -> " + y.shape());
        }
        int[] yd = pad5(y.shape().dims(), 1);
        int[] ad = pad5(a.shape().dims(), 1), bd = pad5(b.shape().dims(), 1);
        for (int i = 0; i < 5; i++) {
            int full = Math.max(ad[i], bd[i]);
            if ((ad[i] != full && ad[i] != 1) || (bd[i] != full && bd[i] != 1) || yd[i] != full) {
                throw new IllegalArgumentException(op + ": cannot broadcast " + a.shape() + " and " + b.shape() + " to " + y.shape());
            }
        }
        int[] as = broadcastStrides(ad), bs = broadcastStrides(bd);
        int n = n(y, op);
        kern.cloe_broadcast_binary(g1(n), p(a, op), p(b, op), p(y, op), code, n, yd[0], yd[1], yd[2], yd[3], yd[4], as[0], as[1], as[2], as[3], as[4], bs[0], bs[1], bs[2], bs[3], bs[4]);
    }

    /** The dims right-aligned in five, leading dims filled with {@code fill}. */
    private static int[] pad5(int[] dims, int fill) {
        int[] out = new int[5];
        Arrays.fill(out, fill);
        System.arraycopy(dims, 0, out, 5 - dims.length, dims.length);
        return out;
    }

    /** Row-major element strides, 0 where the dim has size 1 (so the index does not move on broadcast dims). */
    private static int[] broadcastStrides(int[] dims) {
        int[] s = new int[5];
        int st = 1;
        for (int i = 4; i >= 0; i--) {
            s[i] = dims[i] == 1 ? 0 : st;
            st *= dims[i];
        }
        return s;
    }

    @Override
    public void sumTo(Tensor x, Tensor y) {
        ready();
        int r = x.shape().rank();
        if (y.shape().rank() != r) throw new IllegalArgumentException("sumTo: ranks differ: " + x.shape() + " -> " + y.shape());
        int[] xd = pad5(x.shape().dims(), 1), yd = pad5(y.shape().dims(), 1);
        int mask = 0;
        for (int i = 0; i < 5; i++) {
            if (yd[i] == xd[i]) continue;
            if (yd[i] != 1) throw new IllegalArgumentException("sumTo: cannot reduce " + x.shape() + " to " + y.shape());
            mask |= 1 << i;
        }
        sumToRaw(p(x, "sumTo"), p(y, "sumTo"), n(y, "sumTo"), xd, mask);
    }

    private void sumToRaw(long x, long y, int ny, int[] xd, int mask) {
        int v = version("sumTo");
        if (v == 3 && ny <= 4096) {
            long count = 1;
            for (int i = 0; i < 5; i++) if ((mask & (1 << i)) != 0) count *= xd[i];
            int splits = splitsPerMap(ny, (int) Math.min(count, Integer.MAX_VALUE));
            long partials = scratch((long) splits * ny, "sumTo partials");
            try {
                kern.cloe_sum_to_split_v3(new Grid(splits, ny, 1, BLOCK), x, partials, ny, xd[0], xd[1], xd[2], xd[3], xd[4], mask);
                kern.cloe_reduce_columns(Grid.of(Math.min(ny, 65535), BLOCK), partials, splits, ny, y, 1f);
            } finally {
                alloc.free(partials);
            }
        } else if (v == 1 || v == 3) {
            kern.cloe_sum_to_v1(g1(ny), x, y, ny, xd[0], xd[1], xd[2], xd[3], xd[4], mask);
        } else {
            kern.cloe_sum_to_v2(Grid.of(Math.min(ny, 1 << 20), BLOCK), x, y, ny, xd[0], xd[1], xd[2], xd[3], xd[4], mask);
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // channels

    @Override
    public void softmaxChannels(Tensor x, Tensor y) {
        ready();
        sameShape("softmaxChannels", x, y);
        volume("softmaxChannels", x);
        Shape s = x.shape();
        int sp = spatialOf(s);
        kern.cloe_softmax_channels_fwd(g1((long) s.n() * sp), p(x, "softmaxChannels"), p(y, "softmaxChannels"), s.n(), s.c(), sp);
    }

    @Override
    public void softmaxChannelsBackward(Tensor y, Tensor gy, Tensor gx) {
        ready();
        String op = "softmaxChannelsBackward";
        volume(op, y);
        sameShape(op, y, gy);
        sameShape(op, y, gx);
        Shape s = y.shape();
        int sp = spatialOf(s);
        kern.cloe_softmax_channels_bwd(g1((long) s.n() * sp), p(y, op), p(gy, op), p(gx, op), s.n(), s.c(), sp);
    }

    @Override
    public void concatChannels(Tensor[] xs, Tensor y) {
        ready();
        Shape ys = y.shape();
        int total = 0;
        for (Tensor x : xs) {
            Shape s = x.shape();
            if (s.rank() != ys.rank() || s.n() != ys.n() || spatialOf(s) != spatialOf(ys)
                    || !Arrays.equals(Arrays.copyOfRange(s.dims(), 2, s.rank()), Arrays.copyOfRange(ys.dims(), 2, ys.rank()))) {
                throw new IllegalArgumentException("concatChannels: input " + s + " does not fit output " + ys);
            }
            total += s.c();
        }
        if (total != ys.c()) throw new IllegalArgumentException("concatChannels: inputs have " + total + " channels, output " + ys);
        int off = 0, sp = spatialOf(ys);
        for (Tensor x : xs) {
            int c = x.shape().c();
            kern.cloe_copy_channels(g1(x.shape().size()), p(x, "concatChannels"), p(y, "concatChannels"), ys.n(), c, sp, c, 0, ys.c(), off);
            off += c;
        }
    }

    @Override
    public void sliceChannels(Tensor x, int offset, Tensor y) {
        ready();
        Shape xs = x.shape(), ys = y.shape();
        if (xs.rank() != ys.rank() || xs.n() != ys.n() || spatialOf(xs) != spatialOf(ys) || offset < 0 || offset + ys.c() > xs.c()) {
            throw new IllegalArgumentException("sliceChannels: cannot take " + ys + " at channel " + offset + " of " + xs);
        }
        kern.cloe_copy_channels(g1(ys.size()), p(x, "sliceChannels"), p(y, "sliceChannels"), ys.n(), ys.c(), spatialOf(ys), xs.c(), offset, ys.c(), 0);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // dense and the gate

    @Override
    public void dense(Tensor x, Tensor w, Tensor b, Tensor y) {
        ready();
        String op = "dense";
        if (x.shape().rank() != 2 || w.shape().rank() != 2) throw new IllegalArgumentException(op + ": x " + x.shape() + ", w " + w.shape() + " must be rank 2");
        int batch = x.shape().dim(0), in = x.shape().dim(1), out = w.shape().dim(0);
        if (w.shape().dim(1) != in) throw new IllegalArgumentException(op + ": x " + x.shape() + " does not fit w " + w.shape());
        shape(op, "b", b, Shape.of(out));
        shape(op, "y", y, Shape.of(batch, out));
        kern.cloe_dense_fwd(g1((long) batch * out), p(x, op), p(w, op), p(b, op), p(y, op), batch, in, out);
    }

    @Override
    public void denseBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb) {
        ready();
        String op = "denseBackward";
        if (x.shape().rank() != 2 || w.shape().rank() != 2 || w.shape().dim(1) != x.shape().dim(1)) {
            throw new IllegalArgumentException(op + ": x " + x.shape() + " does not fit w " + w.shape());
        }
        int batch = x.shape().dim(0), in = x.shape().dim(1), out = w.shape().dim(0);
        shape(op, "gy", gy, Shape.of(batch, out));
        shape(op, "gx", gx, x.shape());
        shape(op, "gw", gw, w.shape());
        shape(op, "gb", gb, Shape.of(out));
        if (gx != null) kern.cloe_dense_bwd_x(g1((long) batch * in), p(gy, op), p(w, op), p(gx, op), batch, in, out);
        if (gw != null) kern.cloe_dense_bwd_w(g1((long) out * in), p(x, op), p(gy, op), p(gw, op), batch, in, out);
        if (gb != null) kern.cloe_dense_bwd_b(g1(out), p(gy, op), p(gb, op), batch, out);
    }

    /** An all-zero mask throws (a 4-byte read-back; with {@code -Dcloe.cuda.hostChecks=false} it gives all zeros). */
    @Override
    public void maskedSoftmax(Tensor logits, Tensor mask, Tensor y) {
        ready();
        sameShape("maskedSoftmax", logits, mask);
        sameShape("maskedSoftmax", logits, y);
        if (logits.shape().rank() != 1) throw new IllegalArgumentException("maskedSoftmax: logits " + logits.shape() + " must have shape [M]");
        if (hostChecks()) {
            boolean any = false;
            for (float v : toHost(mask)) any |= v != 0;
            if (!any) throw new IllegalArgumentException("maskedSoftmax: the mask " + mask.shape() + " selects no entry (need at least one modality)");
        }
        kern.cloe_masked_softmax_fwd(Grid.of(1, 1), p(logits, "maskedSoftmax"), p(mask, "maskedSoftmax"), p(y, "maskedSoftmax"), n(y, "maskedSoftmax"));
    }

    @Override
    public void maskedSoftmaxBackward(Tensor y, Tensor gy, Tensor gx) {
        ready();
        String op = "maskedSoftmaxBackward";
        sameShape(op, y, gy);
        sameShape(op, y, gx);
        kern.cloe_masked_softmax_bwd(Grid.of(1, 1), p(y, op), p(gy, op), p(gx, op), n(y, op));
    }

    // ---------------------------------------------------------------------------------------------------------------
    // CLoE's own ops

    /** The fused kernels' eight pointer slots: the tensors' addresses, then nulls. */
    private static long[] ptrSlots(Tensor[] ts, String op) {
        long[] out = new long[MAX_EXPERTS];
        for (int i = 0; i < MAX_EXPERTS; i++) out[i] = i < ts.length ? p(ts[i], op) : 0L;
        return out;
    }

    private static Object[] slots(Tensor[] ts, String op) {
        Object[] out = new Object[MAX_EXPERTS];
        for (int i = 0; i < MAX_EXPERTS; i++) out[i] = i < ts.length ? p(ts[i], op) : 0L;
        return out;
    }

    private static Object[] concat(Object[]... parts) {
        int n = 0;
        for (Object[] p : parts) n += p.length;
        Object[] out = new Object[n];
        int i = 0;
        for (Object[] p : parts) {
            System.arraycopy(p, 0, out, i, p.length);
            i += p.length;
        }
        return out;
    }

    private void checkExperts(String op, Tensor[] xs, Tensor region) {
        if (xs.length < 1 || xs.length > MAX_EXPERTS) {
            throw new IllegalArgumentException(op + ": " + xs.length + " maps; the CUDA kernels take 1.." + MAX_EXPERTS);
        }
        for (Tensor x : xs) {
            volume(op, x);
            sameShape(op, xs[0], x);
        }
        Shape s = xs[0].shape();
        shape(op, "region", region, Shape.ncdhw(s.n(), 1, s.d(), s.h(), s.w()));
    }

    /** The packed pairwise dot products [K] into a scratch buffer the caller frees. */
    private long pairwiseDots(String op, Tensor[] xs, Tensor region) {
        int m = xs.length, kk = m * (m + 1) / 2;
        Shape s = xs[0].shape();
        int batch = s.n(), c = s.c(), sp = s.spatialSize();
        long total = s.size();
        long dots = scratch(kk, op + " dots");
        if (version("pairwiseCosine") == 1) {
            zero(dots, kk);
            long r = p(region, op);
            int k = 0;
            for (int a = 0; a < m; a++) {
                for (int b = a; b < m; b++, k++) {
                    kern.cloe_dot_v1(g1(total), p(xs[a], op), p(xs[b], op), r, dots + 4L * k, batch, c, sp);
                }
            }
        } else {
            int blocks = (int) Math.max(1, Math.min((total / 4 + BLOCK - 1) / BLOCK, device.multiprocessors() * 4L));
            long partials = scratch((long) blocks * kk, op + " partials");
            try {
                launcher.launch1d("cloe_pairwise_dots_v2_m" + m, blocks, BLOCK,
                        concat(slots(xs, op), new Object[]{p(region, op), partials, batch, c, sp, 0}));
                kern.cloe_reduce_columns(Grid.of(kk, BLOCK), partials, blocks, kk, dots, 1f);
            } finally {
                alloc.free(partials);
            }
        }
        return dots;
    }

    @Override
    public void pairwiseCosine(Tensor[] xs, Tensor region, Tensor s) {
        ready();
        String op = "pairwiseCosine";
        checkExperts(op, xs, region);
        int m = xs.length;
        shape(op, "s", s, Shape.of(m, m));
        long dots = pairwiseDots(op, xs, region);
        try {
            kern.cloe_cosine_finish(g1((long) m * m), dots, p(s, op), m);
        } finally {
            alloc.free(dots);
        }
    }

    @Override
    public void pairwiseCosineBackward(Tensor[] xs, Tensor region, Tensor gs, Tensor[] gxs, Tensor gregion) {
        ready();
        String op = "pairwiseCosineBackward";
        checkExperts(op, xs, region);
        int m = xs.length;
        shape(op, "gs", gs, Shape.of(m, m));
        if (gxs != null && gxs.length != m) {
            throw new IllegalArgumentException(op + ": " + gxs.length + " gradients for " + m + " maps of shape " + xs[0].shape());
        }
        Tensor[] g = gxs == null ? new Tensor[0] : gxs;
        for (Tensor t : g) if (t != null) sameShape(op, xs[0], t);
        if (gregion != null) {
            if (region == null) throw new IllegalArgumentException(op + ": a region gradient " + gregion.shape() + " without a region");
            sameShape(op, region, gregion);
        }
        Shape s = xs[0].shape();
        long dots = pairwiseDots(op, xs, region);
        long coeffs = scratch((long) m * m, op + " coefficients");
        try {
            kern.cloe_cosine_bwd_coeffs(g1(m), dots, p(gs, op), coeffs, m);
            Object[] gslots = new Object[MAX_EXPERTS];
            for (int i = 0; i < MAX_EXPERTS; i++) gslots[i] = i < g.length ? p(g[i], op) : 0L;
            k("cloe_cosine_bwd_apply_m" + m, (long) s.n() * s.spatialSize(), concat(slots(xs, op),
                    new Object[]{p(region, op), coeffs}, gslots, new Object[]{p(gregion, op), s.n(), s.c(), s.spatialSize()}));
        } finally {
            alloc.free(coeffs);
            alloc.free(dots);
        }
    }

    @Override
    public void weightedSum(Tensor[] xs, Tensor w, Tensor y) {
        ready();
        String op = "weightedSum";
        if (xs.length < 1 || xs.length > MAX_EXPERTS) throw new IllegalArgumentException(op + ": " + xs.length + " inputs; CUDA takes 1.." + MAX_EXPERTS);
        for (Tensor x : xs) sameShape(op, y, x);
        shape(op, "w", w, Shape.of(xs.length));
        int n = n(y, op), m = xs.length;
        if (version(op) == 1) {
            for (int k = 0; k < m; k++) kern.cloe_weighted_sum_v1(g1(n), p(xs[k], op), p(w, op), k, p(y, op), n, k > 0 ? 1 : 0);
        } else {
            long[] x = ptrSlots(xs, op);
            kern.cloe_weighted_sum_v2(g1((n + 3) / 4), x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], p(w, op), p(y, op), m, n);
        }
    }

    @Override
    public void weightedSumBackward(Tensor[] xs, Tensor w, Tensor gy, Tensor[] gxs, Tensor gw) {
        ready();
        String op = "weightedSumBackward";
        int m = xs.length;
        if (m < 1 || m > MAX_EXPERTS) throw new IllegalArgumentException(op + ": " + m + " inputs; CUDA takes 1.." + MAX_EXPERTS);
        for (Tensor x : xs) sameShape(op, gy, x);
        shape(op, "w", w, Shape.of(m));
        shape(op, "gw", gw, Shape.of(m));
        Tensor[] g = gxs == null ? new Tensor[0] : gxs;
        if (g.length != 0 && g.length != m) throw new IllegalArgumentException(op + ": " + g.length + " gradients for " + m + " inputs");
        for (Tensor t : g) if (t != null) sameShape(op, gy, t);
        int n = n(gy, op);
        if (version("weightedSum") == 1) {
            for (int k = 0; k < g.length; k++) {
                if (g[k] != null) kern.cloe_weighted_sum_bwd_gx_v1(g1(n), p(gy, op), p(w, op), k, p(g[k], op), n);
            }
            if (gw != null) {
                zero(gw.devicePointer(), m);
                for (int k = 0; k < m; k++) {
                    kern.cloe_dot_v1(g1(n), p(gy, op), p(xs[k], op), 0L, gw.devicePointer() + 4L * k, 1, 1, n);
                }
            }
        } else {
            int blocks = grid((n + 3) / 4);
            long partials = scratch((long) blocks * m, op + " partials");
            try {
                long[] x = ptrSlots(xs, op), gx = ptrSlots(g, op);
                kern.cloe_weighted_sum_bwd_v2(Grid.of(blocks, BLOCK), x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], p(w, op),
                        p(gy, op), gx[0], gx[1], gx[2], gx[3], gx[4], gx[5], gx[6], gx[7], partials, m, n);
                if (gw != null) kern.cloe_reduce_columns(Grid.of(m, BLOCK), partials, blocks, m, gw.devicePointer(), 1f);
            } finally {
                alloc.free(partials);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // losses (CudaLoss)

    @Override
    public void weightedCrossEntropy(Tensor p, Tensor target, Tensor loss) {
        losses.weightedCrossEntropy(p, target, loss);
    }

    @Override
    public void weightedCrossEntropyBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        losses.weightedCrossEntropyBackward(p, target, gloss, gp);
    }

    @Override
    public void softDice(Tensor p, Tensor target, Tensor loss) {
        losses.softDice(p, target, loss);
    }

    @Override
    public void softDiceBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        losses.softDiceBackward(p, target, gloss, gp);
    }

    @Override
    public void binaryCrossEntropy(Tensor p, Tensor target, Tensor loss) {
        losses.binaryCrossEntropy(p, target, loss);
    }

    @Override
    public void binaryCrossEntropyBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        losses.binaryCrossEntropyBackward(p, target, gloss, gp);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // optimiser

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor vmax, float lr, int t, AdamConfig cfg) {
        ready();
        String op = "adamStep";
        sameShape(op, param, grad);
        sameShape(op, param, m);
        sameShape(op, param, v);
        if (cfg.amsgrad()) {
            if (vmax == null) throw new IllegalArgumentException(op + ": amsgrad needs vmax");
            sameShape(op, param, vmax);
        }
        if (t < 1) throw new IllegalArgumentException(op + ": step t is 1-based, got " + t);
        double bc1 = 1 - Math.pow(cfg.beta1(), t), bc2 = 1 - Math.pow(cfg.beta2(), t);
        int n = n(param, op);
        kern.cloe_adam_step(g1(n), p(param, op), p(grad, op), p(m, op), p(v, op), cfg.amsgrad() ? p(vmax, op) : 0L, lr, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), (float) bc1, (float) Math.sqrt(bc2), cfg.amsgrad() ? 1 : 0, n);
    }
}
