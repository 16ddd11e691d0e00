package org.cloe4j.bench;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.Pointwise;
import org.cloe4j.cuda.CudaBackend;
import org.cloe4j.cuda.CudaOptions;
import org.cloe4j.cuda.CudaEvent;
import org.cloe4j.cuda.CudaException;
import org.cloe4j.cuda.ffm.cuda_h;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Times every CUDA kernel family with CUDA events at CLoE's paper shapes (4 experts x 4 classes x 112^3 for MEC/REC,
 * gate and fusion) and prints achieved GB/s next to the device's copy bandwidth, measured first in the same run
 * (cuMemcpyDtoD of 1 GiB: read + write bytes over time). Each version of an op is timed, so the table shows each step
 * of the speed-up. The working sets (hundreds of MB) dwarf the 50 MB L2, so no L2 flush is needed between runs.
 *
 * <p>Bytes are the minimum traffic of the op (every input read once, every output written once); a kernel that
 * reads more (version 1 of the pairwise cosines reads each map M + 1 times) shows it as a lower percentage.
 * Exits cleanly, printing why, without a GPU. Usage: {@code CudaKernelBench [report.md]}.
 */
public final class CudaKernelBench {
    private static final int RUNS = 10;

    /** The backend the rows run on: the one built in main, or one with another kernel version sharing its stream. */
    private CudaBackend g;
    private final List<String> rows = new ArrayList<>();
    private double copyGBs;

    private CudaKernelBench(CudaBackend g) {
        this.g = g;
    }

    public static void main(String[] args) throws IOException {
        String md = run();
        System.out.println(md);
        if (args.length > 0) Files.writeString(Path.of(args[0]), md);
    }

    /** The benchmark table as Markdown, or a one-line note when there is no GPU. */
    public static String run() {
        CudaBackend g = new CudaBackend();
        if (!g.isAvailable()) return "CUDA kernel benchmarks skipped: no GPU here (" + g.unavailableReason() + ")\n";
        return new CudaKernelBench(g).all();
    }

    private interface Op {
        void run();
    }

    /** Median milliseconds of RUNS timed runs after one warm-up. */
    private float time(Op op) {
        op.run();
        float[] ms = new float[RUNS];
        try (CudaEvent a = new CudaEvent(g.device()); CudaEvent b = new CudaEvent(g.device())) {
            for (int i = 0; i < RUNS; i++) {
                a.record(g.stream());
                op.run();
                b.record(g.stream());
                ms[i] = b.elapsedSince(a);
            }
        }
        Arrays.sort(ms);
        return ms[RUNS / 2];
    }

    private void row(String op, String version, String shape, long bytes, Op body) {
        float ms = time(body);
        double gbs = bytes / (ms * 1e6);
        rows.add(String.format(Locale.ROOT, "| %s | %s | %s | %.4f | %.1f | %.0f %% |", op, version, shape, ms, gbs, 100 * gbs / copyGBs));
    }

    private void versions(String op, String prop, String shape, long[] bytes, Op body) {
        CudaBackend base = g;
        try {
            for (int v = 1; v <= CudaOptions.latestVersion(prop); v++) {
                g = base.withOptions(base.options().withVersion(prop, v));
                row(op, "v" + v, shape, bytes[v - 1], body);
            }
        } finally {
            g = base;
        }
    }

    private Tensor filled(Shape s, float v) {
        Tensor t = g.allocate(s);
        g.fill(t, v);
        return t;
    }

    private Tensor random(Shape s, long seed) {
        float[] h = new float[s.intSize()];
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < h.length; i++) h[i] = (float) r.nextDouble(-1, 1);
        return g.fromHost(s, h);
    }

    private String all() {
        // device copy bandwidth, in the same run
        long copyBytes = 1L << 30;
        Tensor src = filled(Shape.of((int) (copyBytes / 4)), 1f), dst = g.allocate(Shape.of((int) (copyBytes / 4)));
        float copyMs = time(() -> {
            int rc = cuda_h.cuMemcpyDtoDAsync_v2(dst.devicePointer(), src.devicePointer(), copyBytes, g.stream().handle());
            if (rc != 0) throw new CudaException("cuMemcpyDtoDAsync_v2(1 GiB)", rc, "CUresult(" + rc + ")", "");
        });
        copyGBs = 2.0 * copyBytes / (copyMs * 1e6);
        g.release(src);
        g.release(dst);

        int m = 4;
        Shape vol = Shape.ncdhw(1, 4, 112, 112, 112);
        String vs = "4 x " + vol;
        long n = vol.size(), b = 4 * n;
        Tensor[] xs = new Tensor[m];
        for (int k = 0; k < m; k++) xs[k] = random(vol, k);
        Tensor region = filled(Shape.ncdhw(1, 1, 112, 112, 112), 0.5f);
        long rb = 4L * 112 * 112 * 112;
        Tensor s = g.allocate(Shape.of(m, m));
        int pairs = m * (m + 1) / 2;

        // MEC / REC
        versions("pairwiseCosine (MEC)", "pairwiseCosine", vs, new long[]{m * b, m * b}, () -> g.pairwiseCosine(xs, null, s));
        versions("pairwiseCosine (REC)", "pairwiseCosine", vs, new long[]{m * b + rb, m * b + rb}, () -> g.pairwiseCosine(xs, region, s));
        Tensor gs = filled(Shape.of(m, m), 0.1f);
        Tensor[] gx = new Tensor[m];
        for (int k = 0; k < m; k++) gx[k] = g.allocate(vol);
        Tensor gr = g.allocate(region.shape());
        row("pairwiseCosineBackward (REC)", "v2", vs, 2 * m * b + 2 * rb, () -> g.pairwiseCosineBackward(xs, region, gs, gx, gr));
        rows.add("| (pairwiseCosine v1 reads " + (pairs + 0) + " pairs x 2 maps: its real traffic is " + pairs * 2 / m + "x the minimum) | | | | | |");

        // fusion
        Tensor w = filled(Shape.of(m), 0.25f), y = g.allocate(vol), gw = g.allocate(Shape.of(m));
        versions("weightedSum (fusion)", "weightedSum", vs, new long[]{(m + 1) * b, (m + 1) * b}, () -> g.weightedSum(xs, w, y));
        versions("weightedSumBackward", "weightedSum", vs, new long[]{(2L * m + 1) * b, (2L * m + 1) * b}, () -> g.weightedSumBackward(xs, w, y, gx, gw));

        // gate: tiny, latency bound — bytes are negligible, the time is what matters
        Tensor feat = filled(Shape.of(1, 64), 0.1f), wd = filled(Shape.of(m, 64), 0.01f), bd = filled(Shape.of(m), 0f);
        Tensor logits = g.allocate(Shape.of(1, m)), mask = filled(Shape.of(m), 1f), gate = g.allocate(Shape.of(m));
        row("gate (dense 64->4 + masked softmax)", "-", "[1,64]", 4L * (64 + 4 * 64 + 4 + 4 + 4 * 3), () -> {
            g.dense(feat, wd, bd, logits);
            g.maskedSoftmax(logits.reshape(Shape.of(m)), mask, gate);
        });

        // the rest of the op set at one decoder-sized volume
        Shape feat3 = Shape.ncdhw(1, 16, 112, 112, 112);
        String fs = feat3.toString();
        long fb = 4 * feat3.size();
        Tensor x = random(feat3, 9), o = g.allocate(feat3), o2 = g.allocate(feat3);
        row("leakyRelu", "-", fs, 2 * fb, () -> g.pointwise(Pointwise.LEAKY_RELU, 0.01f, x, o));
        Tensor cb = filled(Shape.ncdhw(1, 16, 1, 1, 1), 1f);
        row("add (broadcast bias)", "-", fs, 2 * fb, () -> g.add(x, cb, o));
        Tensor st = g.allocate(Shape.of(1, 16)), st2 = g.allocate(Shape.of(1, 16));
        // minimum traffic: read x, write y (v3 reads x twice: 3 * fb of real traffic); backward: read x, gy, write gx
        versions("instanceNorm", "instanceNorm", fs, new long[]{2 * fb, 2 * fb, 2 * fb}, () -> g.instanceNorm(x, null, null, o, st, st2, 1e-5f));
        versions("instanceNormBackward", "instanceNorm", fs, new long[]{3 * fb, 3 * fb, 3 * fb}, () -> g.instanceNormBackward(x, o, st, st2, null, o2, null, null));
        Tensor bias = g.allocate(Shape.ncdhw(1, 16, 1, 1, 1));
        versions("sumTo (bias grad)", "sumTo", fs, new long[]{fb, fb, fb}, () -> g.sumTo(x, bias));
        Shape half = Shape.ncdhw(1, 16, 56, 56, 56);
        Tensor xh = random(half, 11), gxh = g.allocate(half);
        row("upsample2x", "-", half + "->" + feat3, fb + fb / 8, () -> g.upsample2x(xh, o));
        versions("upsample2xBackward", "upsampleBackward", feat3 + "->" + half, new long[]{fb + fb / 8, fb + fb / 8}, () -> g.upsample2xBackward(o, gxh));
        Tensor p = g.allocate(vol), t = filled(vol, 0.25f), loss = g.allocate(Shape.scalar()), gl = filled(Shape.scalar(), 1f);
        g.softmaxChannels(xs[0], p);
        row("softmaxChannels", "-", vol.toString(), 2 * b, () -> g.softmaxChannels(xs[0], p));
        row("weightedCrossEntropy", "-", vol.toString(), 2 * b, () -> g.weightedCrossEntropy(p, t, loss));
        Tensor gp = g.allocate(vol);
        // the backward reads p and t twice (map sums, then the element-wise pass) and writes gp
        row("weightedCrossEntropyBackward", "-", vol.toString(), 5 * b, () -> g.weightedCrossEntropyBackward(p, t, gl, gp));
        row("softDice", "-", vol.toString(), 2 * b, () -> g.softDice(p, t, loss));
        row("binaryCrossEntropy", "-", vol.toString(), 2 * b, () -> g.binaryCrossEntropy(p, t, loss));
        Shape params = Shape.of(8_000_000);
        Tensor pp = filled(params, 0.1f), pg = filled(params, 0.01f), m1 = filled(params, 0f), v1 = filled(params, 0f), vm = filled(params, 0f);
        row("adamStep (amsgrad)", "-", params.toString(), 4L * params.size() * 9, () -> g.adamStep(pp, pg, m1, v1, vm, 1e-3f, 1, AdamConfig.cloe()));

        StringBuilder sb = new StringBuilder();
        sb.append("## CUDA kernel benchmarks\n\n");
        sb.append(String.format(Locale.ROOT, "Device: %s, launcher %s. Device copy bandwidth (cuMemcpyDtoD, 1 GiB, read + write): **%.0f GB/s**. "
                + "Times are medians of %d runs (CUDA events); %% is achieved bandwidth over the copy bandwidth.%n%n",
                g.device(), g.launcherName(), copyGBs, RUNS));
        sb.append("| op | version | shape | ms | GB/s | % of copy |\n|---|---|---|---|---|---|\n");
        for (String r : rows) sb.append(r).append('\n');
        return sb.toString();
    }
}
