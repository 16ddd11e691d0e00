package org.cloe4j.cuda;

import java.util.List;
import java.util.function.Supplier;

/**
 * One way the CUDA backend can run conv3d: our kernels (version 1 direct, version 2 implicit GEMM) in a precision, or
 * cuDNN. The three system properties it stands for ({@code cloe.cuda.conv}, {@code cloe.cuda.kernel.conv3d},
 * {@code cloe.cuda.conv.precision}) are read on every conv3d call, so {@link #run} switches the variant for the
 * calls inside it; tests and benchmarks use it to go through every variant. Not thread-safe (system properties).
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

    /** Runs {@code body} with this variant's properties set, restoring the previous values afterwards. */
    public <T> T call(Supplier<T> body) {
        String[] keys = {"cloe.cuda.conv", "cloe.cuda.kernel.conv3d", "cloe.cuda.conv.precision"};
        String[] values = {path, path.equals("cudnn") ? null : Integer.toString(version), precision};
        String[] old = new String[keys.length];
        for (int i = 0; i < keys.length; i++) {
            old[i] = System.getProperty(keys[i]);
            if (values[i] == null) System.clearProperty(keys[i]);
            else System.setProperty(keys[i], values[i]);
        }
        try {
            return body.get();
        } finally {
            for (int i = 0; i < keys.length; i++) {
                if (old[i] == null) System.clearProperty(keys[i]);
                else System.setProperty(keys[i], old[i]);
            }
        }
    }

    public void run(Runnable body) {
        call(() -> {
            body.run();
            return null;
        });
    }

    @Override
    public String toString() {
        return label();
    }
}
