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

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.backend.ShapeChecks.shape;

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
    private final CudaConv convs = new CudaConv(this);
    private final CudaNorm norms = new CudaNorm(this);
    private final CudaElementwise elementwise = new CudaElementwise(this);
    private final CudaChannels channels = new CudaChannels(this);
    private final CudaGate gate = new CudaGate(this);
    private final CudaConsistency consistency = new CudaConsistency(this);
    private final CudaOptim optim = new CudaOptim(this);
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

    synchronized CudnnConv cudnn() {
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

    void k(String kernel, long n, Object... args) {
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
    /** sumTo on raw pointers (the conv bias gradient uses it): see {@link CudaElementwise}. */
    void sumToRaw(long x, long y, int ny, int[] xd, int mask) {
        elementwise.sumToRaw(x, y, ny, xd, mask);
    }

    int maxBlocks() {
        return maxBlocks;
    }

    void free(long ptr) {
        alloc.free(ptr);
    }

    long scratch(long floats, String what) {
        return alloc.allocate(Math.max(1, floats) * Float.BYTES, what);
    }

    void zero(long ptr, long floats) {
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

    // ---------------------------------------------------------------------------------------------------------------
    // convolution: our kernels (kernels/conv3d.cu) by default, cuDNN as the reference / peer (CudaConv)

    @Override
    public void conv3d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec spec) {
        convs.conv3d(x, w, bias, y, spec);
    }

    @Override
    public void conv3dBackwardData(Tensor gy, Tensor w, Tensor gx, ConvSpec spec) {
        convs.conv3dBackwardData(gy, w, gx, spec);
    }

    /** The bias gradient uses our sumTo kernel on every path. */
    @Override
    public void conv3dBackwardWeight(Tensor x, Tensor gy, Tensor gw, Tensor gb, ConvSpec spec) {
        convs.conv3dBackwardWeight(x, gy, gw, gb, spec);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // resampling and normalisation (CudaNorm)

    @Override
    public void upsample2x(Tensor x, Tensor y) {
        norms.upsample2x(x, y);
    }

    @Override
    public void upsample2xBackward(Tensor gy, Tensor gx) {
        norms.upsample2xBackward(gy, gx);
    }

    @Override
    public void instanceNorm(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, float eps) {
        norms.instanceNorm(x, gamma, beta, y, mean, rstd, eps);
    }

    @Override
    public void instanceNormBackward(Tensor x, Tensor gy, Tensor mean, Tensor rstd, Tensor gamma,
                                     Tensor gx, Tensor ggamma, Tensor gbeta) {
        norms.instanceNormBackward(x, gy, mean, rstd, gamma, gx, ggamma, gbeta);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // element-wise (CudaElementwise)

    @Override
    public void leakyRelu(Tensor x, Tensor y, float slope) {
        elementwise.leakyRelu(x, y, slope);
    }

    @Override
    public void leakyReluBackward(Tensor x, Tensor gy, Tensor gx, float slope) {
        elementwise.leakyReluBackward(x, gy, gx, slope);
    }

    @Override
    public void sigmoid(Tensor x, Tensor y) {
        elementwise.sigmoid(x, y);
    }

    @Override
    public void sigmoidBackward(Tensor y, Tensor gy, Tensor gx) {
        elementwise.sigmoidBackward(y, gy, gx);
    }

    @Override
    public void scale(Tensor x, float s, Tensor y) {
        elementwise.scale(x, s, y);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        elementwise.add(a, b, y);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor y) {
        elementwise.mul(a, b, y);
    }

    @Override
    public void sumTo(Tensor x, Tensor y) {
        elementwise.sumTo(x, y);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // channels (CudaChannels)

    @Override
    public void softmaxChannels(Tensor x, Tensor y) {
        channels.softmaxChannels(x, y);
    }

    @Override
    public void softmaxChannelsBackward(Tensor y, Tensor gy, Tensor gx) {
        channels.softmaxChannelsBackward(y, gy, gx);
    }

    @Override
    public void concatChannels(Tensor[] xs, Tensor y) {
        channels.concatChannels(xs, y);
    }

    @Override
    public void sliceChannels(Tensor x, int offset, Tensor y) {
        channels.sliceChannels(x, offset, y);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // dense and the gate (CudaGate)

    @Override
    public void dense(Tensor x, Tensor w, Tensor b, Tensor y) {
        gate.dense(x, w, b, y);
    }

    @Override
    public void denseBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb) {
        gate.denseBackward(x, w, gy, gx, gw, gb);
    }

    /** An all-zero mask throws (a 4-byte read-back; with {@code -Dcloe.cuda.hostChecks=false} it gives all zeros). */
    @Override
    public void maskedSoftmax(Tensor logits, Tensor mask, Tensor y) {
        gate.maskedSoftmax(logits, mask, y);
    }

    @Override
    public void maskedSoftmaxBackward(Tensor y, Tensor gy, Tensor gx) {
        gate.maskedSoftmaxBackward(y, gy, gx);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // CLoE's own ops (CudaConsistency)

    @Override
    public void pairwiseCosine(Tensor[] xs, Tensor region, Tensor s) {
        consistency.pairwiseCosine(xs, region, s);
    }

    @Override
    public void pairwiseCosineBackward(Tensor[] xs, Tensor region, Tensor gs, Tensor[] gxs, Tensor gregion) {
        consistency.pairwiseCosineBackward(xs, region, gs, gxs, gregion);
    }

    @Override
    public void weightedSum(Tensor[] xs, Tensor w, Tensor y) {
        consistency.weightedSum(xs, w, y);
    }

    @Override
    public void weightedSumBackward(Tensor[] xs, Tensor w, Tensor gy, Tensor[] gxs, Tensor gw) {
        consistency.weightedSumBackward(xs, w, gy, gxs, gw);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // losses (CudaLoss)

    @Override
    public void weightedCrossEntropy(Tensor p, Tensor target, float floor, Tensor loss) {
        losses.weightedCrossEntropy(p, target, floor, loss);
    }

    @Override
    public void weightedCrossEntropyBackward(Tensor p, Tensor target, float floor, Tensor gloss, Tensor gp) {
        losses.weightedCrossEntropyBackward(p, target, floor, gloss, gp);
    }

    @Override
    public void softDice(Tensor p, Tensor target, float smooth, Tensor loss) {
        losses.softDice(p, target, smooth, loss);
    }

    @Override
    public void softDiceBackward(Tensor p, Tensor target, float smooth, Tensor gloss, Tensor gp) {
        losses.softDiceBackward(p, target, smooth, gloss, gp);
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
    // optimiser (CudaOptim)

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor vmax, float lr, int t, AdamConfig cfg) {
        optim.adamStep(param, grad, m, v, vmax, lr, t, cfg);
    }

}
