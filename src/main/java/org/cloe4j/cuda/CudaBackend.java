package org.cloe4j.cuda;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.Pointwise;
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
 * FP32, TF32 or BF16, see {@link CudaOptions#precision()}, version 3 the same with tiles shaped for 16-channel layers); {@code -Dcloe.cuda.conv=cudnn} runs it through cuDNN instead
 * (found through {@code CLOE_CUDNN} / {@code -Dcloe.cudnn} or the Python {@code nvidia} packages), the reference the
 * GPU tests and benchmarks compare with.
 *
 * <p>Nothing touches the GPU before first use: constructing this class (ServiceLoader does it everywhere) is free,
 * and {@link #isAvailable()} probes once and never throws; without a driver, a GPU, or the kernels fatbin it is false
 * and {@link #unavailableReason()} says which ("no kernels" when the build had no nvcc).
 *
 * <p>All work is queued on one stream per backend (shared with the backends {@link #withOptions} makes), in call
 * order; {@link #toHost} and {@link #synchronize} wait.
 * Kernel versions (the simple first one beside the fast one), the conv engine and precision, and the host checks are
 * {@link CudaOptions}, fixed when the backend is built ({@code -Dcloe.cuda.kernel.<op>=N} and the other
 * {@code cloe.cuda.*} properties, read once by the no-argument constructors); {@link #withOptions} gives a backend with
 * other options on the same device, stream and allocator.
 */
public final class CudaBackend implements Backend {
    static final int BLOCK = 256;
    /** Most experts the fused CLoE kernels take (their C ABI has eight pointer slots). */
    public static final int MAX_EXPERTS = 8;

    private final CudaRuntime rt;
    private final CudaOptions options;
    /** Whether closing this backend closes the runtime (false for those made by {@link #withOptions}). */
    private final boolean owner;
    private boolean badOption;
    private final CudaLoss losses = new CudaLoss(this);
    private final CudaConv convs = new CudaConv(this);
    private final CudaNorm norms = new CudaNorm(this);
    private final CudaElementwise elementwise = new CudaElementwise(this);
    private final CudaChannels channels = new CudaChannels(this);
    private final CudaGate gate = new CudaGate(this);
    private final CudaConsistency consistency = new CudaConsistency(this);
    private final CudaOptim optim = new CudaOptim(this);

    /** Device {@code -Dcloe.cuda.device} (0), options from the system properties. */
    public CudaBackend() {
        this(Integer.getInteger("cloe.cuda.device", 0));
    }

    /**
     * Options from the system properties ({@link CudaOptions#fromSystemProperties()}); a bad one leaves the backend
     * unavailable, {@link #unavailableReason()} naming the property.
     */
    public CudaBackend(int deviceOrdinal) {
        this(deviceOrdinal, Parsed.fromSystemProperties());
    }

    public CudaBackend(int deviceOrdinal, CudaOptions options) {
        this(new CudaRuntime(deviceOrdinal, java.util.Objects.requireNonNull(options, "options")), options, true);
    }

    private CudaBackend(int deviceOrdinal, Parsed parsed) {
        this(deviceOrdinal, parsed.options());
        if (parsed.error() != null) {
            rt.fail(parsed.error());
            badOption = true;
        }
    }

    private CudaBackend(CudaRuntime rt, CudaOptions options, boolean owner) {
        this.rt = rt;
        this.options = options;
        this.owner = owner;
    }

    /** True when a {@code -Dcloe.cuda.*} property could not be read (the backend is then unavailable). */
    @Override
    public boolean misconfigured() {
        return badOption;
    }

    /** The system properties' options, or the defaults and why the properties are bad. */
    private record Parsed(CudaOptions options, String error) {
        static Parsed fromSystemProperties() {
            try {
                return new Parsed(CudaOptions.fromSystemProperties(), null);
            } catch (IllegalArgumentException e) {
                return new Parsed(CudaOptions.defaults(), "bad CUDA option: " + e.getMessage());
            }
        }
    }

    /**
     * A backend running with {@code options} on this one's device, stream, allocator and loaded kernels (no second
     * context, no second stream: its work is ordered with this one's). The launch path is the runtime's and cannot
     * change. Closing it does nothing; closing this backend ends both.
     */
    public CudaBackend withOptions(CudaOptions options) {
        if (!options.launcher().equals(this.options.launcher()) || options.syncEachLaunch() != this.options.syncEachLaunch()) {
            throw new IllegalArgumentException("the launch path is fixed when a backend is built (" + this.options.launcher()
                    + "); build a new CudaBackend for " + options.launcher());
        }
        return new CudaBackend(rt, options, false);
    }

    /** The options this backend runs with. */
    public CudaOptions options() {
        return options;
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
            rt.probe();
            return rt.reason().isEmpty();
        } catch (Throwable t) {
            rt.fail("CUDA backend failed to start: " + t);
            return false;
        }
    }

    @Override
    public String unavailableReason() {
        isAvailable();
        return rt.reason();
    }

    void ready() {
        rt.probe();
        if (!rt.reason().isEmpty()) throw new IllegalStateException("CUDA backend unavailable: " + rt.reason());
        rt.device.makeCurrent();
    }

    /** The device this backend runs on (starts the backend). */
    public CudaDevice device() {
        ready();
        return rt.device;
    }

    /** The stream all work is queued on. */
    public CudaStream stream() {
        ready();
        return rt.stream;
    }

    /** The launch path in use ("panama" or "jcuda"). */
    public String launcherName() {
        ready();
        return rt.launcher.name();
    }

    /** The caching allocator (for statistics). */
    public DeviceAllocator allocator() {
        ready();
        return rt.alloc;
    }

    /** Which cuDNN file conv3d uses, or why there is none. */
    public String cudnnStatus() {
        ready();
        return rt.cudnnStatus();
    }

    CudnnConv cudnn() {
        return rt.cudnn();
    }

    /** What conv3d runs with, e.g. "kernels v3 tf32" or "cudnn fp32 (FMA math)". */
    public String convDescription() {
        return options.convDescription();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // helpers

    /** Blocks per map for the split-map reductions: enough to fill the GPU, at least ~2K elements per block. */
    int splitsPerMap(int maps, int spatial) {
        return (int) Math.max(1, Math.min((spatial + BLOCK * 8L - 1) / (BLOCK * 8L), Math.max(1, rt.maxBlocks / maps)));
    }

    int grid(long n) {
        return (int) Math.max(1, Math.min((n + BLOCK - 1) / BLOCK, rt.maxBlocks));
    }

    /** A one-dimensional grid of BLOCK threads per block covering n elements (grid-stride loops beyond maxBlocks). */
    Grid g1(long n) {
        return Grid.of(grid(n), BLOCK);
    }

    void k(String kernel, long n, Object... args) {
        rt.launcher.launch1d(kernel, grid(n), BLOCK, args);
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
        return rt.kern;
    }

    /** sumTo on raw pointers (the conv bias gradient uses it): see {@link CudaElementwise}. */
    void sumToRaw(long x, long y, int ny, int[] xd, int mask) {
        elementwise.sumToRaw(x, y, ny, xd, mask);
    }

    int maxBlocks() {
        return rt.maxBlocks;
    }

    void free(long ptr) {
        rt.alloc.free(ptr);
    }

    long scratch(long floats, String what) {
        return rt.alloc.allocate(Math.max(1, floats) * Float.BYTES, what);
    }

    void zero(long ptr, long floats) {
        CudaException.check(cuda_h.cuMemsetD32Async(ptr, 0, floats, rt.stream.handle()), "cuMemsetD32Async(" + floats + ")");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // memory

    @Override
    public Tensor allocate(Shape shape) {
        ready();
        long ptr = rt.alloc.allocate(shape.bytes(), "tensor " + shape);
        return new Tensor(shape, new DeviceStorage(ptr, shape.bytes(), rt.device.ordinal()));
    }

    @Override
    public void release(Tensor t) {
        ready();
        rt.alloc.free(p(t, "release"));
    }

    @Override
    public Tensor fromHost(Shape shape, float[] data) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("fromHost: " + data.length + " floats for shape " + shape);
        }
        Tensor t = allocate(shape);
        long bytes = shape.bytes();
        try (PinnedBuffers.Lease l = rt.pinned.acquire(bytes)) {
            MemorySegment.copy(data, 0, l.segment(), ValueLayout.JAVA_FLOAT, 0, data.length);
            CudaException.check(cuda_h.cuMemcpyHtoDAsync_v2(t.devicePointer(), l.segment(), bytes, rt.stream.handle()),
                    "cuMemcpyHtoDAsync_v2(" + shape + ")");
            // the staging buffer goes back to the pool: the copy must be done before it is reused
            rt.stream.synchronize();
        }
        return t;
    }

    @Override
    public float[] toHost(Tensor t) {
        ready();
        long bytes = t.shape().bytes();
        float[] out = new float[t.shape().intSize()];
        try (PinnedBuffers.Lease l = rt.pinned.acquire(bytes)) {
            CudaException.check(cuda_h.cuMemcpyDtoHAsync_v2(l.segment(), p(t, "toHost"), bytes, rt.stream.handle()),
                    "cuMemcpyDtoHAsync_v2(" + t.shape() + ")");
            rt.stream.synchronize();
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
        CudaException.check(cuda_h.cuMemcpyDtoDAsync_v2(p(dst, "copy"), p(src, "copy"), src.shape().bytes(), rt.stream.handle()),
                "cuMemcpyDtoDAsync_v2(" + src.shape() + ")");
    }

    @Override
    public void fill(Tensor t, float value) {
        ready();
        CudaException.check(cuda_h.cuMemsetD32Async(p(t, "fill"), Float.floatToRawIntBits(value), t.shape().size(), rt.stream.handle()),
                "cuMemsetD32Async(fill " + t.shape() + ")");
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        ready();
        sameShape("addInPlace", acc, x);
        int n = n(acc, "addInPlace");
        rt.kern.cloe_add_inplace(g1(n), p(acc, "addInPlace"), p(x, "addInPlace"), n);
    }

    @Override
    public long bytesInUse() {
        return isAvailable() ? rt.alloc.bytesInUse() : 0;
    }

    @Override
    public long peakBytes() {
        return isAvailable() ? rt.alloc.peakBytes() : 0;
    }

    @Override
    public void resetPeak() {
        if (isAvailable()) rt.alloc.resetPeak();
    }

    @Override
    public void synchronize() {
        ready();
        rt.stream.synchronize();
    }

    /** Frees everything this backend started; a backend from {@link #withOptions} leaves that to its origin. */
    @Override
    public void close() {
        if (owner) rt.close();
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
    public void pointwise(Pointwise f, float a, Tensor x, Tensor y) {
        elementwise.pointwise(f, a, x, y);
    }

    @Override
    public void pointwiseBackward(Pointwise f, float a, Tensor x, Tensor y, Tensor gy, Tensor gx) {
        elementwise.pointwiseBackward(f, a, x, y, gy, gx);
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

    /** An all-zero mask throws (a 4-byte read-back; with {@link CudaOptions#hostChecks()} off it gives all zeros). */
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
