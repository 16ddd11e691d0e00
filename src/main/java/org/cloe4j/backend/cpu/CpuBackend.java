package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Backend;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.Pointwise;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * The pure-Java backend: always available, multi-threaded over all cores, and the oracle every other backend is
 * tested against. Each op family lives in its own class of this package (as each has its own {@code .cu} file).
 * Released buffers are cached by length and handed out again, up to {@code cloe.cpu.cacheMiB} (default 2048).
 */
public final class CpuBackend implements Backend {
    private static final long CACHE_LIMIT = Long.getLong("cloe.cpu.cacheMiB", 2048L) << 20;

    private final Map<Integer, ArrayDeque<float[]>> cache = new HashMap<>();
    private long cachedBytes;
    private final AtomicLong inUse = new AtomicLong();
    private final AtomicLong peak = new AtomicLong();

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int priority() {
        return 10;
    }

    @Override
    public boolean isAvailable() {
        return true;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // memory

    @Override
    public Tensor allocate(Shape shape) {
        int n = shape.intSize();
        float[] data = null;
        synchronized (cache) {
            ArrayDeque<float[]> q = cache.get(n);
            if (q != null && !q.isEmpty()) {
                data = q.pop();
                cachedBytes -= (long) n * Float.BYTES;
            }
        }
        if (data == null) data = new float[n];
        long now = inUse.addAndGet((long) n * Float.BYTES);
        peak.accumulateAndGet(now, Math::max);
        return Tensor.wrap(shape, data);
    }

    @Override
    public void release(Tensor t) {
        float[] data = t.data();
        long bytes = (long) data.length * Float.BYTES;
        inUse.addAndGet(-bytes);
        synchronized (cache) {
            if (cachedBytes + bytes <= CACHE_LIMIT) {
                cache.computeIfAbsent(data.length, k -> new ArrayDeque<>()).push(data);
                cachedBytes += bytes;
            }
        }
    }

    @Override
    public Tensor fromHost(Shape shape, float[] data) {
        if (data.length != shape.size()) {
            throw new IllegalArgumentException("fromHost: " + data.length + " floats for shape " + shape);
        }
        Tensor t = allocate(shape);
        System.arraycopy(data, 0, t.data(), 0, data.length);
        return t;
    }

    @Override
    public float[] toHost(Tensor t) {
        return t.data().clone();
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        ShapeChecks.sameSize("copy", src, dst);
        System.arraycopy(src.data(), 0, dst.data(), 0, (int) src.shape().size());
    }

    @Override
    public void fill(Tensor t, float value) {
        float[] d = t.data();
        int n = (int) t.shape().size();
        Parallel.forRange(n, CpuElementwise.GRAIN, (lo, hi) -> java.util.Arrays.fill(d, lo, hi, value));
    }

    @Override
    public void addInPlace(Tensor acc, Tensor x) {
        ShapeChecks.sameShape("addInPlace", acc, x);
        CpuElementwise.axpy(1f, x.data(), acc.data(), (int) acc.shape().size());
    }

    @Override
    public long bytesInUse() {
        return inUse.get();
    }

    @Override
    public long peakBytes() {
        return peak.get();
    }

    @Override
    public void resetPeak() {
        peak.set(inUse.get());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // convolution

    @Override
    public void conv3d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec spec) {
        Shape ys = spec.outputShape(x.shape(), w.shape());
        ShapeChecks.shape("conv3d", y, ys);
        ShapeChecks.bias("conv3d", bias, w.shape().dim(0));
        Shape s = x.shape();
        CpuConv3d.forward(x.data(), w.data(), bias == null ? null : bias.data(), y.data(), s.n(), s.c(), s.d(), s.h(),
                s.w(), w.shape().dim(0), spec.k(), spec.stride(), spec.pad(), spec.padding());
    }

    @Override
    public void conv3dBackwardData(Tensor gy, Tensor w, Tensor gx, ConvSpec spec) {
        ShapeChecks.shape("conv3d backward", gy, spec.outputShape(gx.shape(), w.shape()));
        Shape s = gx.shape();
        CpuConv3d.backwardData(gy.data(), w.data(), gx.data(), s.n(), s.c(), s.d(), s.h(), s.w(), w.shape().dim(0),
                spec.k(), spec.stride(), spec.pad(), spec.padding());
    }

    @Override
    public void conv3dBackwardWeight(Tensor x, Tensor gy, Tensor gw, Tensor gb, ConvSpec spec) {
        ShapeChecks.shape("conv3d backward", gy, spec.outputShape(x.shape(), gw.shape()));
        ShapeChecks.bias("conv3d backward", gb, gw.shape().dim(0));
        Shape s = x.shape();
        CpuConv3d.backwardWeight(x.data(), gy.data(), gw.data(), gb == null ? null : gb.data(), s.n(), s.c(), s.d(),
                s.h(), s.w(), gw.shape().dim(0), spec.k(), spec.stride(), spec.pad(), spec.padding());
    }

    // ---------------------------------------------------------------------------------------------------------------
    // resampling and normalisation

    @Override
    public void upsample2x(Tensor x, Tensor y) {
        CpuResample.upsample2x(x, y);
    }

    @Override
    public void upsample2xBackward(Tensor gy, Tensor gx) {
        CpuResample.upsample2xBackward(gy, gx);
    }

    @Override
    public void instanceNorm(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, float eps) {
        CpuNorm.forward(x, gamma, beta, y, mean, rstd, eps);
    }

    @Override
    public void instanceNormLeakyRelu(Tensor x, Tensor residual, Tensor y, Tensor mean, Tensor rstd, float eps,
                                      float slope) {
        CpuNorm.forwardLeakyRelu(x, residual, y, mean, rstd, eps, slope);
    }

    @Override
    public void instanceNormBackward(Tensor x, Tensor gy, Tensor mean, Tensor rstd, Tensor gamma, Tensor gx,
                                     Tensor ggamma, Tensor gbeta) {
        CpuNorm.backward(x, gy, mean, rstd, gamma, gx, ggamma, gbeta);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // element-wise

    @Override
    public void pointwise(Pointwise f, float a, Tensor x, Tensor y) {
        CpuElementwise.pointwise(f, a, x, y);
    }

    @Override
    public void pointwiseBackward(Pointwise f, float a, Tensor x, Tensor y, Tensor gy, Tensor gx) {
        CpuElementwise.pointwiseBackward(f, a, x, y, gy, gx);
    }

    @Override
    public void scale(Tensor x, float s, Tensor y) {
        CpuElementwise.scale(x, s, y);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor y) {
        CpuBroadcast.binary("add", a, b, y, false);
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor y) {
        CpuBroadcast.binary("mul", a, b, y, true);
    }

    @Override
    public void sumTo(Tensor x, Tensor y) {
        CpuBroadcast.sumTo(x, y);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // channels

    @Override
    public void softmaxChannels(Tensor x, Tensor y) {
        CpuChannels.softmax(x, y);
    }

    @Override
    public void softmaxChannelsBackward(Tensor y, Tensor gy, Tensor gx) {
        CpuChannels.softmaxBackward(y, gy, gx);
    }

    @Override
    public void concatChannels(Tensor[] xs, Tensor y) {
        CpuChannels.concat(xs, y);
    }

    @Override
    public void sliceChannels(Tensor x, int offset, Tensor y) {
        CpuChannels.slice(x, offset, y);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // gate

    @Override
    public void dense(Tensor x, Tensor w, Tensor b, Tensor y) {
        CpuGate.dense(x, w, b, y);
    }

    @Override
    public void denseBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb) {
        CpuGate.denseBackward(x, w, gy, gx, gw, gb);
    }

    @Override
    public void maskedSoftmax(Tensor logits, Tensor mask, Tensor y) {
        CpuGate.maskedSoftmax(logits, mask, y);
    }

    @Override
    public void maskedSoftmaxBackward(Tensor y, Tensor gy, Tensor gx) {
        CpuGate.maskedSoftmaxBackward(y, gy, gx);
    }

    @Override
    public void weightedSum(Tensor[] xs, Tensor w, Tensor y) {
        CpuGate.weightedSum(xs, w, y);
    }

    @Override
    public void weightedSumBackward(Tensor[] xs, Tensor w, Tensor gy, Tensor[] gxs, Tensor gw) {
        CpuGate.weightedSumBackward(xs, w, gy, gxs, gw);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // consistency

    @Override
    public void pairwiseCosine(Tensor[] xs, Tensor region, Tensor s) {
        CpuConsistency.pairwiseCosine(xs, region, s);
    }

    @Override
    public void pairwiseCosineBackward(Tensor[] xs, Tensor region, Tensor gs, Tensor[] gxs, Tensor gregion) {
        CpuConsistency.pairwiseCosineBackward(xs, region, gs, gxs, gregion);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // losses

    @Override
    public void weightedCrossEntropy(Tensor p, Tensor target, float floor, Tensor loss) {
        CpuLoss.weightedCrossEntropy(p, target, floor, loss);
    }

    @Override
    public void weightedCrossEntropyBackward(Tensor p, Tensor target, float floor, Tensor gloss, Tensor gp) {
        CpuLoss.weightedCrossEntropyBackward(p, target, floor, gloss, gp);
    }

    @Override
    public void softDice(Tensor p, Tensor target, float smooth, Tensor loss) {
        CpuLoss.softDice(p, target, smooth, loss);
    }

    @Override
    public void softDiceBackward(Tensor p, Tensor target, float smooth, Tensor gloss, Tensor gp) {
        CpuLoss.softDiceBackward(p, target, smooth, gloss, gp);
    }

    @Override
    public void binaryCrossEntropy(Tensor p, Tensor target, Tensor loss) {
        CpuLoss.binaryCrossEntropy(p, target, loss);
    }

    @Override
    public void binaryCrossEntropyBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        CpuLoss.binaryCrossEntropyBackward(p, target, gloss, gp);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // optimiser

    @Override
    public void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor vmax, float lr, int t, AdamConfig cfg) {
        CpuOptim.adamStep(param, grad, m, v, vmax, lr, t, cfg);
    }

    @Override
    public String toString() {
        return "cpu (" + Parallel.threads() + " threads)";
    }
}
