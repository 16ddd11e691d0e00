package org.cloe4j.backend;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * The whole op set, forward and backward, of one compute device. Implementations are found through
 * {@link java.util.ServiceLoader} (see {@link Backends}); model code never names one.
 *
 * <p>Conventions: every op writes into outputs the caller allocated with {@link #allocate} and overwrites them
 * (gradients are accumulated by the graph runtime with {@link #addInPlace}). Volumes are NCDHW. Scalars (losses)
 * have shape [1]. One-hot targets have the prediction's shape. Every op checks its shapes and throws an
 * {@link IllegalArgumentException} naming the op and the shapes. All ops may run concurrently on different tensors.
 * Loss ops do not judge their value: a NaN or infinite prediction gives a NaN or infinite loss, which the trainer
 * checks in one place (so a loss op never waits for the device).
 */
public interface Backend extends AutoCloseable {

    // ---------------------------------------------------------------------------------------------------------------
    // identity and memory

    /** Short name used on the command line ({@code cpu}, {@code cuda}). */
    String name();

    /** Higher wins when no backend is forced. */
    int priority();

    /** Whether this backend can run here; must never throw. */
    boolean isAvailable();

    /** Why the backend is unavailable (for messages); empty when available. */
    default String unavailableReason() {
        return "";
    }

    /**
     * Whether the backend is unavailable because the user configured it wrongly (a bad option), rather than for want
     * of hardware: such a backend is never skipped in silence ({@link Backends#pick()} warns, naming the reason).
     */
    default boolean misconfigured() {
        return false;
    }

    /** A tensor of the given shape with undefined contents, possibly a reused buffer. */
    Tensor allocate(Shape shape);

    /** Returns a tensor's buffer to the backend for reuse; the tensor must not be used afterwards. */
    void release(Tensor t);

    default Tensor zeros(Shape shape) {
        Tensor t = allocate(shape);
        fill(t, 0f);
        return t;
    }

    /** A backend tensor holding a copy of {@code data}. */
    Tensor fromHost(Shape shape, float[] data);

    /** A host copy of the tensor's elements. */
    float[] toHost(Tensor t);

    void copy(Tensor src, Tensor dst);

    void fill(Tensor t, float value);

    /** {@code acc += x}, same shapes. */
    void addInPlace(Tensor acc, Tensor x);

    /** Bytes currently held by live tensors of this backend (reusable cached buffers not counted). */
    long bytesInUse();

    /** Largest {@link #bytesInUse()} seen since start or the last {@link #resetPeak()}. */
    long peakBytes();

    void resetPeak();

    /** Waits for queued work (no-op on the CPU). */
    default void synchronize() {
    }

    @Override
    default void close() {
    }

    // ---------------------------------------------------------------------------------------------------------------
    // convolution

    /** y = conv3d(x [N,Ci,D,H,W], w [Co,Ci,k,k,k]) + bias [Co] (bias may be null). */
    void conv3d(Tensor x, Tensor w, Tensor bias, Tensor y, ConvSpec spec);

    /** gx = dL/dx of {@link #conv3d}. */
    void conv3dBackwardData(Tensor gy, Tensor w, Tensor gx, ConvSpec spec);

    /** gw = dL/dw and gb = dL/dbias (gb may be null) of {@link #conv3d}. */
    void conv3dBackwardWeight(Tensor x, Tensor gy, Tensor gw, Tensor gb, ConvSpec spec);

    // ---------------------------------------------------------------------------------------------------------------
    // resampling and normalisation

    /** Trilinear x2 up-sampling with align_corners = true: y [N,C,2D,2H,2W] from x [N,C,D,H,W]. */
    void upsample2x(Tensor x, Tensor y);

    void upsample2xBackward(Tensor gy, Tensor gx);

    /**
     * Instance norm over each (n, c) map: y = (x - mean) * rstd * gamma[c] + beta[c]; gamma and beta may be null
     * (no affine). Writes the statistics {@code mean} and {@code rstd} [N,C] for the backward pass.
     */
    void instanceNorm(Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor mean, Tensor rstd, float eps);

    /** gx (and ggamma, gbeta when not null) of {@link #instanceNorm}. */
    void instanceNormBackward(Tensor x, Tensor gy, Tensor mean, Tensor rstd, Tensor gamma,
                              Tensor gx, Tensor ggamma, Tensor gbeta);

    /**
     * CLoE's block after its conv in one call: y = leakyRelu(instanceNorm(x), slope) + residual (no affine; residual
     * may be null, else of x's shape), writing {@code mean} and {@code rstd} [N,C] as {@link #instanceNorm} does. The
     * result must equal that composition; this default runs it (y serves as the intermediate buffer). Its gradient is
     * the composition's (the graph's rule, {@code Ops.NormLeakyRelu}, runs the unfused backward ops).
     */
    default void instanceNormLeakyRelu(Tensor x, Tensor residual, Tensor y, Tensor mean, Tensor rstd, float eps,
                                       float slope) {
        instanceNorm(x, null, null, y, mean, rstd, eps);
        pointwise(Pointwise.LEAKY_RELU, slope, y, y);
        if (residual != null) add(y, residual, y);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // element-wise

    /**
     * y = f(x; a) for every element: the activations (leaky ReLU with slope a, sigmoid, ...; see {@link Pointwise}).
     * a must be 0 for a function without a parameter.
     */
    void pointwise(Pointwise f, float a, Tensor x, Tensor y);

    /**
     * gx = gy ⊙ f'(x; a) of {@link #pointwise}, from the forward's input x and/or output y: the one f does not read
     * ({@link Pointwise#readsInput()}, {@link Pointwise#readsOutput()}) may be null.
     */
    void pointwiseBackward(Pointwise f, float a, Tensor x, Tensor y, Tensor gy, Tensor gx);

    /** y = s * x. */
    void scale(Tensor x, float s, Tensor y);

    /** y = a + b, where a dimension of size 1 in a or b is broadcast (same rank; y has the full shape). */
    void add(Tensor a, Tensor b, Tensor y);

    /** y = a * b with the same broadcasting as {@link #add}. */
    void mul(Tensor a, Tensor b, Tensor y);

    /** y = the sum of x over every dimension where y has size 1 and x does not (the adjoint of broadcasting). */
    void sumTo(Tensor x, Tensor y);

    // ---------------------------------------------------------------------------------------------------------------
    // channels

    /** Softmax over the channel dimension (dim 1) at every voxel. */
    void softmaxChannels(Tensor x, Tensor y);

    /** gx from the forward output y. */
    void softmaxChannelsBackward(Tensor y, Tensor gy, Tensor gx);

    /** y = the inputs stacked along dim 1 in order. */
    void concatChannels(Tensor[] xs, Tensor y);

    /** y = channels [offset, offset + y.c) of x (the backward of concat). */
    void sliceChannels(Tensor x, int offset, Tensor y);

    // ---------------------------------------------------------------------------------------------------------------
    // small dense algebra (the gate)

    /** y [B,out] = x [B,in] · w[out,in]^T + b [out] (b may be null). */
    void dense(Tensor x, Tensor w, Tensor b, Tensor y);

    /** gx, gw, gb (each may be null when not wanted) of {@link #dense}. */
    void denseBackward(Tensor x, Tensor w, Tensor gy, Tensor gx, Tensor gw, Tensor gb);

    /**
     * Softmax over the entries of {@code logits} [M] whose {@code mask} [M] is non-zero; masked entries get exactly 0.
     * At least one entry must be present.
     */
    void maskedSoftmax(Tensor logits, Tensor mask, Tensor y);

    void maskedSoftmaxBackward(Tensor y, Tensor gy, Tensor gx);

    // ---------------------------------------------------------------------------------------------------------------
    // CLoE's own ops

    /**
     * All pairwise cosine similarities of M flattened maps, optionally weighted by a region map:
     * s[a][b] = cos(r ⊙ x_a, r ⊙ x_b), where each x_m has shape [N,C,D,H,W] and {@code region} (null for none) has
     * shape [N,1,D,H,W] and is broadcast over channels. s has shape [M,M]; the diagonal is the cosine of a map with
     * itself (1, or 0 for an all-zero map). A map of norm 0 has cosine 0 with every map, and its gradient is 0
     * (unlike PyTorch's eps-clamped cosine, which is not defined there either).
     */
    void pairwiseCosine(Tensor[] xs, Tensor region, Tensor s);

    /** gxs[m] (entries may be null) and gregion (may be null) from gs [M,M] of {@link #pairwiseCosine}. */
    void pairwiseCosineBackward(Tensor[] xs, Tensor region, Tensor gs, Tensor[] gxs, Tensor gregion);

    /** y = Σ_m w[m] · xs[m]: the reliability-weighted fusion of M same-shaped feature maps; w has shape [M]. */
    void weightedSum(Tensor[] xs, Tensor w, Tensor y);

    /** gxs[m] = w[m] · gy and gw[m] = <gy, xs[m]> (entries may be null). */
    void weightedSumBackward(Tensor[] xs, Tensor w, Tensor gy, Tensor[] gxs, Tensor gw);

    // ---------------------------------------------------------------------------------------------------------------
    // losses (scalar outputs of shape [1])

    /**
     * Weighted cross-entropy: mean over samples and voxels of Σ_c −w_c y_c log(clamp(p_c, 0.005, 1)), with per-sample
     * class weights w_c = max(1 − (voxels of class c)/(voxels), floor), p probabilities and y one-hot, [N,C,D,H,W].
     * Floor 0 is RFNet's weighting, floor 1 plain cross-entropy.
     */
    void weightedCrossEntropy(Tensor p, Tensor target, float floor, Tensor loss);

    void weightedCrossEntropyBackward(Tensor p, Tensor target, float floor, Tensor gloss, Tensor gp);

    /** RFNet's weighted cross-entropy (floor 0). */
    default void weightedCrossEntropy(Tensor p, Tensor target, Tensor loss) {
        weightedCrossEntropy(p, target, 0f, loss);
    }

    default void weightedCrossEntropyBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        weightedCrossEntropyBackward(p, target, 0f, gloss, gp);
    }

    /** Soft Dice loss 1 − (1/C) Σ_c (2Σ p_c y_c + s) / (Σ p_c + Σ y_c + s + 1e-7), sums over samples and voxels. */
    void softDice(Tensor p, Tensor target, float smooth, Tensor loss);

    void softDiceBackward(Tensor p, Tensor target, float smooth, Tensor gloss, Tensor gp);

    /** RFNet's soft Dice (smoothing 0). */
    default void softDice(Tensor p, Tensor target, Tensor loss) {
        softDice(p, target, 0f, loss);
    }

    default void softDiceBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        softDiceBackward(p, target, 0f, gloss, gp);
    }

    /** Mean binary cross-entropy of probabilities p against targets t in [0,1], each log clamped at −100 (PyTorch). */
    void binaryCrossEntropy(Tensor p, Tensor target, Tensor loss);

    void binaryCrossEntropyBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp);

    // ---------------------------------------------------------------------------------------------------------------
    // optimiser

    /**
     * One Adam step of PyTorch's semantics on {@code param} in place, at step {@code t} (1-based) with learning rate
     * {@code lr}; {@code m}, {@code v} and {@code vmax} are the optimiser state (vmax unused without amsgrad).
     */
    void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor vmax, float lr, int t, AdamConfig cfg);
}
