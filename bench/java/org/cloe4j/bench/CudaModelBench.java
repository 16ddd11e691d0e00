package org.cloe4j.bench;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.ConvSpec.Padding;
import org.cloe4j.cuda.ConvVariant;
import org.cloe4j.cuda.CudaBackend;
import org.cloe4j.cuda.CudaEvent;
import org.cloe4j.cuda.CudaOptions;
import org.cloe4j.cuda.CudaStream;
import org.cloe4j.data.Modality;
import org.cloe4j.graph.Graph;
import org.cloe4j.infer.CapturedInference;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModalityMask;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.cloe4j.train.Adam;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The CUDA half of the side-by-side benchmark (issue 6; {@code scripts/gpu-bench-model} runs it next to the PyTorch
 * reference and merges both): CLoE's paper preset (base 16, 112³ window, batch 1, four sequences) on the CUDA
 * backend, per conv precision (our newest kernels in FP32, TF32, BF16):
 * <ul>
 *   <li>train step (forward, backward, AMSGrad Adam with weight decay 1e-4 as PyTorch's reference) and its peak
 *   device memory (the caching allocator's peak of size-classed blocks, parameters and Adam state included);</li>
 *   <li>inference of one window with all four sequences and with one, uncaptured and replayed as a captured CUDA
 *   graph ({@link CapturedInference}), and the same at small windows (32³, 64³) where launch overhead dominates;</li>
 *   <li>per conv layer shape of the network: forward, backward-data and backward-weight TFLOP/s of our kernel against
 *   cuDNN in the same precision (cuDNN TF32 stands in for BF16: its BF16 path needs BF16 tensors).</li>
 * </ul>
 * Times are CUDA-event intervals on the backend's stream (they include any idle gaps, so they are wall times of the
 * GPU timeline), medians over the timed runs after warm-up.
 *
 * <p>Usage: {@code CudaModelBench [--json FILE] [--report FILE] [--precisions fp32,tf32,bf16] [--train-iters N]
 * [--infer-iters N] [--conv-iters N] [--patch P] [--no-model] [--no-layers]}. Without a GPU it prints one skip line
 * and exits 0.
 */
public final class CudaModelBench {
    private static final List<Modality> MODS = CloeConfig.BRATS;

    /** The backend the rows run on: the one built in main, or one with another conv variant sharing its stream. */
    private CudaBackend g;
    private int trainIters = 3, inferIters = 5, convIters = 5, patch = 112, base = 16;
    private final StringBuilder json = new StringBuilder();
    /** Rows are printed as they complete too, so a run cut short by a timeout still leaves its figures in the log. */
    private final List<String> modelRows = new Rows("model");
    private final List<String> layerRows = new Rows("layer");
    private final List<String> latencyRows = new Rows("latency");

    private static final class Rows extends ArrayList<String> {
        private final String tag;

        Rows(String tag) {
            this.tag = tag;
        }

        @Override
        public boolean add(String row) {
            System.out.println("CudaModelBench " + tag + ": " + row);
            System.out.flush();
            return super.add(row);
        }
    }

    private CudaModelBench(CudaBackend g) {
        this.g = g;
    }

    public static void main(String[] args) throws Exception {
        CudaBackend g = new CudaBackend();
        String jsonFile = null, reportFile = null;
        List<String> precisions = List.of("fp32", "tf32", "bf16");
        boolean model = true, layers = true;
        CudaModelBench b = new CudaModelBench(g);
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--json" -> jsonFile = args[++i];
                case "--report" -> reportFile = args[++i];
                case "--precisions" -> precisions = List.of(args[++i].split(","));
                case "--train-iters" -> b.trainIters = Integer.parseInt(args[++i]);
                case "--infer-iters" -> b.inferIters = Integer.parseInt(args[++i]);
                case "--conv-iters" -> b.convIters = Integer.parseInt(args[++i]);
                case "--patch" -> b.patch = Integer.parseInt(args[++i]);
                case "--base" -> b.base = Integer.parseInt(args[++i]);
                case "--no-model" -> model = false;
                case "--no-layers" -> layers = false;
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (!g.isAvailable()) {
            System.out.println("CudaModelBench skipped: no GPU here (" + g.unavailableReason() + ")");
            if (jsonFile != null) Files.writeString(Path.of(jsonFile), "{\"skipped\": \"" + esc(g.unavailableReason()) + "\"}\n");
            return;
        }
        String md = b.run(precisions, model, layers);
        System.out.println(md);
        if (reportFile != null) Files.writeString(Path.of(reportFile), md);
        if (jsonFile != null) Files.writeString(Path.of(jsonFile), b.json.toString());
        g.close();
        System.exit(0);
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ");
    }

    // ---------------------------------------------------------------------------------------------------------------
    // timing

    private interface Op {
        void run();
    }

    /** Median ms over {@code iters} event-timed runs on {@code stream} after {@code warmup} untimed ones. */
    private float time(CudaStream stream, int warmup, int iters, Op op) {
        for (int i = 0; i < warmup; i++) op.run();
        float[] ms = new float[iters];
        try (CudaEvent a = new CudaEvent(g.device()); CudaEvent b = new CudaEvent(g.device())) {
            for (int i = 0; i < iters; i++) {
                a.record(stream);
                op.run();
                b.record(stream);
                ms[i] = b.elapsedSince(a);
            }
        }
        Arrays.sort(ms);
        return ms[iters / 2];
    }

    /** {@code body} with {@link #g} running conv3d as {@code v} (on the same stream and allocator). */
    private float on(ConvVariant v, java.util.function.Supplier<Float> body) {
        CudaBackend root = g;
        g = v.on(root);
        try {
            return body.get();
        } finally {
            g = root;
        }
    }

    private String run(List<String> precisions, boolean model, boolean layers) {
        StringBuilder md = new StringBuilder("## CLoE on CUDA (paper preset: base " + base + ", " + patch + "³, batch 1, four sequences)\n\n");
        md.append("- device: ").append(g.device()).append('\n');
        md.append("- cuDNN: ").append(g.cudnnStatus()).append("\n\n");
        json.append("{\n  \"device\": \"").append(esc(g.device().toString())).append("\",\n  \"base\": ").append(base)
                .append(", \"patch\": ").append(patch).append(",\n  \"model\": [");
        boolean first = true;
        if (model) {
            for (String prec : precisions) {
                ConvVariant v = new ConvVariant("kernels", CudaOptions.latestVersion("conv3d"), prec);
                String row;
                CudaBackend root = g;
                try {
                    g = v.on(root);
                    row = modelRow(prec);
                } catch (Throwable t) {
                    row = "{\"precision\": \"" + prec + "\", \"error\": \"" + esc(t.toString()) + "\"}";
                    modelRows.add("| " + prec + " | FAILED: " + esc(t.toString()) + " | | | | | |");
                } finally {
                    g = root;
                }
                json.append(first ? "\n    " : ",\n    ").append(row);
                first = false;
            }
        }
        json.append("\n  ],\n  \"layers\": [");
        first = true;
        if (layers) {
            for (String prec : precisions) {
                for (Layer l : layers()) {
                    String row;
                    try {
                        row = layerRow(prec, l);
                    } catch (Throwable t) {
                        row = "{\"precision\": \"" + prec + "\", \"layer\": \"" + l + "\", \"error\": \"" + esc(t.toString()) + "\"}";
                        layerRows.add("| " + prec + " | " + l + " | FAILED: " + esc(t.toString()) + " | | | | | |");
                    }
                    json.append(first ? "\n    " : ",\n    ").append(row);
                    first = false;
                }
            }
        }
        json.append("\n  ]\n}\n");
        if (model) {
            md.append("| conv precision | train step ms | peak GiB | infer 4 seq ms | infer 4 seq captured ms | infer 1 seq ms | infer 1 seq captured ms |\n");
            md.append("|---|---|---|---|---|---|---|\n");
            modelRows.forEach(r -> md.append(r).append('\n'));
            md.append('\n');
            md.append("Service latency, one window with all four sequences (ms): uncaptured vs replayed CUDA graph:\n\n");
            md.append("| conv precision | window | uncaptured ms | captured ms | speed-up |\n|---|---|---|---|---|\n");
            latencyRows.forEach(r -> md.append(r).append('\n'));
            md.append('\n');
        }
        if (layers) {
            md.append("Per-layer conv3d (batch 1), ms and TFLOP/s (2·N·Co·Ci·k³·output voxels per pass), ours (newest version) vs cuDNN:\n\n");
            md.append("| precision | layer | pass | ours ms | ours TFLOP/s | cuDNN | cuDNN ms | cuDNN TFLOP/s |\n");
            md.append("|---|---|---|---|---|---|---|---|\n");
            layerRows.forEach(r -> md.append(r).append('\n'));
            md.append('\n');
        }
        return md.toString();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // the whole model

    private static float[] gaussian(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    private String modelRow(String prec) {
        CloeConfig cfg = CloeConfig.paper(MODS, 4).withArchitecture(base, patch);
        CloeModel m = new CloeModel(cfg, g);
        SplittableRandom r = new SplittableRandom(1234);
        int vox = patch * patch * patch;
        Shape one = Shape.ncdhw(1, 1, patch, patch, patch);
        Map<String, Tensor> in = new HashMap<>();
        Map<String, float[]> host = new HashMap<>();
        for (Modality mod : MODS) {
            float[] v = gaussian(r, vox);
            host.put(CloeModel.imageInput(mod), v);
            in.put(CloeModel.imageInput(mod), g.fromHost(one, v));
        }
        float[] onehot = new float[4 * vox], wt = new float[vox];
        for (int i = 0; i < vox; i++) {
            int k = r.nextInt(4);
            onehot[k * vox + i] = 1;
            wt[i] = k > 0 ? 1 : 0;
        }
        in.put("target", g.fromHost(Shape.ncdhw(1, 4, patch, patch, patch), onehot));
        in.put("wt", g.fromHost(one, wt));

        // train step
        CloeModel.Built tb = m.training(ModalityMask.full(MODS));
        float trainMs;
        long peak;
        try (Adam adam = new Adam(m.parameters().all().values(), AdamConfig.cloe())) {
            Op step = () -> {
                m.parameters().zeroGrad();
                try (Graph.Run run = tb.graph().run(g, in)) {
                    run.backward();
                }
                adam.step(cfg.lr());
            };
            step.run();
            g.synchronize();
            g.resetPeak();
            trainMs = time(g.stream(), 0, trainIters, step);
            peak = g.peakBytes();
        }
        for (Tensor t : in.values()) g.release(t);

        // inference, all four and one sequence, uncaptured and captured
        float[] inf = new float[4];
        int k = 0;
        for (ModalityMask mask : List.of(ModalityMask.full(MODS), ModalityMask.of(MODS, List.of(MODS.get(0))))) {
            CloeModel.Built ib = m.inference(mask, patch, true);
            try (CapturedInference ci = new CapturedInference(ib, g)) {
                Map<String, float[]> imgs = new HashMap<>();
                for (String name : ib.graph().inputShapes().keySet()) imgs.put(name, host.get(name));
                ci.setInputs(imgs);
                inf[k++] = time(ci.backend().stream(), 1, inferIters, ci::runUncaptured);
                inf[k++] = time(ci.backend().stream(), 1, inferIters, ci::replay);
            }
        }
        // service latency: small windows (all four sequences), where launch and allocator overhead dominate
        for (int win : new int[]{32, 64}) {
            if (win >= patch) continue;
            CloeModel.Built ib = m.inference(ModalityMask.full(MODS), win, true);
            try (CapturedInference ci = new CapturedInference(ib, g)) {
                float un = time(ci.backend().stream(), 1, inferIters, ci::runUncaptured);
                float cap = time(ci.backend().stream(), 1, inferIters, ci::replay);
                latencyRows.add(String.format(Locale.ROOT, "| %s | %d³ | %.2f | %.2f | %.1fx |", prec, win, un, cap, un / cap));
            }
        }
        double gib = peak / (double) (1L << 30);
        modelRows.add(String.format(Locale.ROOT, "| %s | %.1f | %.2f | %.1f | %.1f | %.1f | %.1f |", prec, trainMs, gib,
                inf[0], inf[1], inf[2], inf[3]));
        return String.format(Locale.ROOT, "{\"precision\": \"%s\", \"conv\": \"%s\", \"train_ms\": %.3f, \"peak_gib\": %.4f, "
                        + "\"infer_all_ms\": %.3f, \"infer_all_captured_ms\": %.3f, \"infer_one_ms\": %.3f, \"infer_one_captured_ms\": %.3f}",
                prec, g.convDescription(), trainMs, gib, inf[0], inf[1], inf[2], inf[3]);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // per conv layer

    /** A conv layer shape of the network (input edge {@code size}). */
    private record Layer(int ci, int co, int size, ConvSpec spec) {
        @Override
        public String toString() {
            return ci + "→" + co + " " + size + "³ k" + spec.k() + (spec.stride() == 2 ? " s2" : "");
        }

        double flops(Shape ys) {
            return 2.0 * ys.n() * co * ci * spec.k() * spec.k() * spec.k() * ys.spatialSize();
        }
    }

    /** The distinct conv shapes of the paper preset's encoder and heads at base {@code base}. */
    private List<Layer> layers() {
        ConvSpec same = ConvSpec.same3(Padding.REFLECT), down = ConvSpec.down3(Padding.REFLECT);
        int b = base, p = patch;
        return List.of(new Layer(1, b, p, same), new Layer(b, b, p, same), new Layer(b, 2 * b, p, down),
                new Layer(2 * b, 2 * b, p / 2, same), new Layer(2 * b, 4 * b, p / 2, down),
                new Layer(4 * b, 4 * b, p / 4, same), new Layer(4 * b, 8 * b, p / 4, down),
                new Layer(8 * b, 8 * b, p / 8, same), new Layer(b, 4, p, ConvSpec.pointwise()));
    }

    private String layerRow(String prec, Layer l) {
        SplittableRandom r = new SplittableRandom(7);
        Shape xs = Shape.ncdhw(1, l.ci(), l.size(), l.size(), l.size()), ws = Shape.ncdhw(l.co(), l.ci(), l.spec().k(), l.spec().k(), l.spec().k());
        Shape ys = l.spec().outputShape(xs, ws);
        Tensor x = g.fromHost(xs, gaussianF(r, xs)), w = g.fromHost(ws, gaussianF(r, ws)), gy = g.fromHost(ys, gaussianF(r, ys));
        Tensor y = g.allocate(ys), gx = g.allocate(xs), gw = g.allocate(ws);
        ConvVariant ours = new ConvVariant("kernels", CudaOptions.latestVersion("conv3d"), prec);
        ConvVariant peer = new ConvVariant("cudnn", 0, prec.equals("fp32") ? "fp32" : "tf32");
        boolean cudnn = g.cudnnStatus().startsWith("loaded");
        String[] passes = {"fwd", "bwd-data", "bwd-weight"};
        Op[] ops = {() -> g.conv3d(x, w, null, y, l.spec()), () -> g.conv3dBackwardData(gy, w, gx, l.spec()),
                () -> g.conv3dBackwardWeight(x, gy, gw, null, l.spec())};
        StringBuilder js = new StringBuilder("{\"precision\": \"" + prec + "\", \"layer\": \"" + l + "\", \"flops\": " + l.flops(ys));
        try {
            for (int i = 0; i < 3; i++) {
                Op op = ops[i];
                float a = on(ours, () -> time(g.stream(), 1, convIters, op));
                float c = cudnn ? on(peer, () -> time(g.stream(), 1, convIters, op)) : Float.NaN;
                double ta = l.flops(ys) / (a * 1e9), tc = l.flops(ys) / (c * 1e9);
                layerRows.add(String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %.1f | %s | %s | %s |", prec, l, passes[i], a, ta,
                        cudnn ? peer.label() : "not loaded", cudnn ? String.format(Locale.ROOT, "%.3f", c) : "-",
                        cudnn ? String.format(Locale.ROOT, "%.1f", tc) : "-"));
                js.append(String.format(Locale.ROOT, ", \"%s_ms\": %.4f, \"%s_cudnn_ms\": %s", passes[i].replace('-', '_'), a,
                        passes[i].replace('-', '_'), cudnn ? String.format(Locale.ROOT, "%.4f", c) : "null"));
            }
        } finally {
            for (Tensor t : List.of(x, w, gy, y, gx, gw)) g.release(t);
        }
        return js.append('}').toString();
    }

    private static float[] gaussianF(SplittableRandom r, Shape s) {
        return gaussian(r, s.intSize());
    }
}
