package org.cloe4j.cuda;

import java.util.List;

/**
 * One way the CUDA backend can run conv3d: our kernels (version 1 direct, version 2 implicit GEMM) in a precision, or
 * cuDNN: the three conv choices of {@link CudaOptions}. Tests and benchmarks go through every variant with
 * {@link #on}, a backend of that variant on the same device, stream and allocator.
 */
public record ConvVariant(String path, int version, String precision) {

    public ConvVariant {
        if (!path.equals("kernels") && !path.equals("cudnn")) throw new IllegalArgumentException("path " + path);
        if (!List.of("fp32", "tf32", "bf16").contains(precision)) throw new IllegalArgumentException("precision " + precision);
    }

    /** Our kernels: v1 (FP32 only), v2 and v3 in FP32, TF32 and BF16. */
    public static List<ConvVariant> kernels() {
        return List.of(new ConvVariant("kernels", 1, "fp32"),
                new ConvVariant("kernels", 2, "fp32"), new ConvVariant("kernels", 2, "tf32"), new ConvVariant("kernels", 2, "bf16"),
                new ConvVariant("kernels", 3, "fp32"), new ConvVariant("kernels", 3, "tf32"), new ConvVariant("kernels", 3, "bf16"));
    }

    /** cuDNN with FMA math (FP32) and with tensor-op math (TF32). */
    public static List<ConvVariant> cudnn() {
        return List.of(new ConvVariant("cudnn", 0, "fp32"), new ConvVariant("cudnn", 0, "tf32"));
    }

    /** Whether the operands are rounded (TF32 or BF16 tensor cores). */
    public boolean reduced() {
        return !precision.equals("fp32");
    }

    public String label() {
        return path.equals("cudnn") ? "cudnn " + precision : "v" + version + " " + precision;
    }

    /** {@code base} with conv3d running as this variant (the other choices kept). */
    public CudaOptions applyTo(CudaOptions base) {
        CudaOptions o = base.withConv(path, precision);
        return path.equals("cudnn") ? o : o.withVersion("conv3d", version);
    }

    /** A backend running conv3d as this variant, sharing {@code be}'s device, stream and allocator. */
    public CudaBackend on(CudaBackend be) {
        return be.withOptions(applyTo(be.options()));
    }

    @Override
    public String toString() {
        return label();
    }
}
