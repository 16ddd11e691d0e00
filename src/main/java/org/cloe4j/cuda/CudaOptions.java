package org.cloe4j.cuda;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * How a {@link CudaBackend} runs, fixed when it is built: the kernel version of each op that has several, the conv3d
 * engine and its arithmetic, whether the ops that must throw on a bad value read it back, and the launch path.
 * {@link #fromSystemProperties()} reads them once from {@code -Dcloe.cuda.*}; the backend never reads a property on
 * a call. A backend with other options on the same device, stream and allocator is
 * {@link CudaBackend#withOptions(CudaOptions)}.
 *
 * @param versions       kernel version per op ({@link #OPS}; 1 is the simple first one, the default the newest)
 * @param conv           which implementation runs conv3d: {@code kernels} (ours) or {@code cudnn}
 * @param precision      conv3d's arithmetic: {@code fp32} (exact FP32 products, the default: the CPU backend is the
 *                       oracle), {@code tf32} (tensor cores, 10-bit mantissa operands, FP32 accumulation) or
 *                       {@code bf16} (tensor cores, bfloat16 operands rounded from the FP32 tensors on load, FP32
 *                       accumulation). Applies to kernel versions 2 and 3 and to cuDNN (which runs bf16 as TF32: its
 *                       bf16 path needs bf16 tensors); version 1 is always FP32.
 * @param hostChecks     whether the ops that the contract asks to throw on a bad value (an all-zero gate mask) read
 *                       that value back: a 4-byte copy and a synchronisation each. Off while capturing a CUDA graph,
 *                       where host copies are not allowed. (A non-finite loss is the trainer's check.)
 * @param launcher       the launch path: {@code panama} (the default) or {@code jcuda}
 * @param syncEachLaunch whether every launch is followed by a synchronisation and an error check (debugging)
 */
public record CudaOptions(Map<String, Integer> versions, String conv, String precision, boolean hostChecks,
                          String launcher, boolean syncEachLaunch) {

    /** The ops with several kernel versions. */
    public static final List<String> OPS = List.of("upsampleBackward", "pairwiseCosine", "weightedSum", "conv3d", "sumTo",
            "instanceNorm");

    public CudaOptions {
        Map<String, Integer> v = new LinkedHashMap<>();
        for (String op : OPS) v.put(op, latestVersion(op));
        for (Map.Entry<String, Integer> e : versions.entrySet()) {
            int latest = latestVersion(e.getKey());
            if (e.getValue() < 1 || e.getValue() > latest) {
                throw new IllegalArgumentException("kernel version of " + e.getKey() + " must be 1.." + latest + ", got " + e.getValue());
            }
            v.put(e.getKey(), e.getValue());
        }
        versions = Map.copyOf(v);
        Objects.requireNonNull(conv, "conv");
        Objects.requireNonNull(precision, "precision");
        Objects.requireNonNull(launcher, "launcher");
        if (!conv.equals("kernels") && !conv.equals("cudnn")) {
            throw new IllegalArgumentException("conv3d runs on kernels or cudnn, got '" + conv + "'");
        }
        if (!precision.equals("fp32") && !precision.equals("tf32") && !precision.equals("bf16")) {
            throw new IllegalArgumentException("conv3d precision must be fp32, tf32 or bf16, got '" + precision + "'");
        }
        if (!launcher.equals("panama") && !launcher.equals("jcuda")) {
            throw new IllegalArgumentException("the launcher must be panama or jcuda, got '" + launcher + "'");
        }
    }

    /** The newest kernel version of an op that has several (its default). */
    public static int latestVersion(String op) {
        if (!OPS.contains(op)) throw new IllegalArgumentException("no kernel versions for op '" + op + "' (ops: " + OPS + ")");
        return op.equals("instanceNorm") || op.equals("sumTo") || op.equals("conv3d") ? 3 : 2;
    }

    /** The newest version of every op, our conv kernels in FP32, host checks on, the Panama launcher. */
    public static CudaOptions defaults() {
        return new CudaOptions(Map.of(), "kernels", "fp32", true, "panama", false);
    }

    /** Reads {@code -Dcloe.cuda.*} (see {@link #from}). */
    public static CudaOptions fromSystemProperties() {
        return from(System::getProperty);
    }

    /**
     * The options that properties name, the default for each one absent: {@code cloe.cuda.kernel.<op>=N},
     * {@code cloe.cuda.conv=kernels|cudnn}, {@code cloe.cuda.conv.precision=fp32|tf32|bf16},
     * {@code cloe.cuda.hostChecks=false}, {@code cloe.cuda.launcher=panama|jcuda}, {@code cloe.cuda.syncEachLaunch=true}.
     * A bad value throws, naming the property.
     */
    public static CudaOptions from(UnaryOperator<String> properties) {
        Map<String, Integer> versions = new LinkedHashMap<>();
        for (String op : OPS) {
            String key = "cloe.cuda.kernel." + op, v = properties.apply(key);
            if (v == null) continue;
            int latest = latestVersion(op);
            int k;
            try {
                k = Integer.parseInt(v.strip());
            } catch (NumberFormatException e) {
                k = -1;
            }
            if (k < 1 || k > latest) throw new IllegalArgumentException("-D" + key + " must be 1.." + latest + ", got '" + v + "'");
            versions.put(op, k);
        }
        String conv = oneOf(properties, "cloe.cuda.conv", "kernels", "kernels or cudnn", "kernels", "cudnn");
        String precision = oneOf(properties, "cloe.cuda.conv.precision", "fp32", "fp32, tf32 or bf16", "fp32", "tf32", "bf16");
        String launcher = oneOf(properties, "cloe.cuda.launcher", "panama", "panama or jcuda", "panama", "jcuda");
        return new CudaOptions(versions, conv, precision, !"false".equals(properties.apply("cloe.cuda.hostChecks")),
                launcher, Boolean.parseBoolean(properties.apply("cloe.cuda.syncEachLaunch")));
    }

    private static String oneOf(UnaryOperator<String> properties, String key, String dflt, String what, String... allowed) {
        String raw = properties.apply(key);
        String v = raw == null ? dflt : raw.strip();
        if (!List.of(allowed).contains(v)) throw new IllegalArgumentException("-D" + key + " must be " + what + ", got '" + raw + "'");
        return v;
    }

    /** The kernel version this backend runs for {@code op}. */
    public int version(String op) {
        Integer v = versions.get(op);
        if (v == null) throw new IllegalArgumentException("no kernel versions for op '" + op + "' (ops: " + OPS + ")");
        return v;
    }

    public CudaOptions withVersion(String op, int version) {
        Map<String, Integer> v = new LinkedHashMap<>(versions);
        latestVersion(op);
        v.put(op, version);
        return new CudaOptions(v, conv, precision, hostChecks, launcher, syncEachLaunch);
    }

    /** conv3d on {@code conv} ({@code kernels} or {@code cudnn}) in {@code precision}. */
    public CudaOptions withConv(String conv, String precision) {
        return new CudaOptions(versions, conv, precision, hostChecks, launcher, syncEachLaunch);
    }

    public CudaOptions withHostChecks(boolean on) {
        return new CudaOptions(versions, conv, precision, on, launcher, syncEachLaunch);
    }

    public CudaOptions withLauncher(String launcher, boolean syncEachLaunch) {
        return new CudaOptions(versions, conv, precision, hostChecks, launcher, syncEachLaunch);
    }

    /** What conv3d runs with, e.g. "kernels v3 tf32" or "cudnn fp32 (FMA math)". */
    public String convDescription() {
        if (conv.equals("cudnn")) return "cudnn " + (precision.equals("fp32") ? "fp32 (FMA math)" : "tf32 (tensor-op math)");
        int v = version("conv3d");
        return "kernels v" + v + " " + (v == 1 ? "fp32" : precision);
    }
}
