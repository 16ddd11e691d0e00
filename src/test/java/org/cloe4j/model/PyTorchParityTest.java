package org.cloe4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.data.Modality;
import org.cloe4j.graph.Graph;
import org.cloe4j.graph.Parameter;
import org.cloe4j.graph.Value;
import org.cloe4j.io.SafeTensors;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The PyTorch reference (bench/pytorch/cloe_reference.py) as the oracle of the CPU backend: a tiny CLoE's training
 * graph runs forward and backward here, its weights, inputs, outputs, loss terms and every parameter's gradient are
 * written to a folder, and the script recomputes all of them in float64 and prints PARITY OK or PARITY FAIL (its
 * tolerances and their reasons are in the script). Skipped when /usr/bin/python3 (or -Dcloe.python) cannot import
 * torch and numpy (scripts/setup-test-deps installs Debian's python3-torch).
 *
 * <p>The training graph exposes only the loss terms and the prediction, so u, v and w come from the full inference
 * graph of the same mask on the same images (the same ops on the same features); the compact inference graph's
 * outputs are checked as {@code infer.*}.
 */
class PyTorchParityTest {
    /** Debian's python3 (where python3-torch installs); -Dcloe.python=... names another interpreter. */
    private static final String PYTHON = System.getProperty("cloe.python", "/usr/bin/python3");
    private static final Path SCRIPT = Path.of("bench", "pytorch", "cloe_reference.py");
    private static final List<Modality> MODS = CloeConfig.BRATS;
    private static final int WINDOW = 16;
    private static final int CLASSES = 4;
    private static final float SEG_SHARPEN = 4f;
    /** The checkpoint writer's JSON settings. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private static String torchProblem;

    @BeforeAll
    static void findTorch() {
        try {
            Result r = exec(List.of(PYTHON, "-c", "import torch, numpy; print(torch.__version__)"), 120);
            String[] lines = r.output.strip().split("\n");
            torchProblem = r.exit == 0 ? null : lines[lines.length - 1];
        } catch (IOException e) {
            torchProblem = e.getMessage();
        }
    }

    private final CpuBackend be = new CpuBackend();

    @ParameterizedTest(name = "present {0}")
    @ValueSource(strings = {"flair,t1ce,t2", "t1ce", "flair,t1ce,t2;rfnet-loss", "flair,t1ce,t2;raw-gate",
        "flair,t1ce,t2;corrupt=t1ce", "flair,t2;corrupt=flair"})
    void cpuBackendMatchesThePyTorchReference(String which, @TempDir Path tmp) throws Exception {
        // "…;rfnet-loss": RFNet's segmentation loss (class-weight floor 0, Dice smoothing 0), the loss of older checkpoints
        // "…;raw-gate": the gate fed u, v as they are (older checkpoints); the presets centre and scale them
        // "…;corrupt=M": the training graph of a sample whose sequence M the reliability augmentation corrupted
        String[] parts = which.split(";");
        String present = parts[0];
        boolean rfnetLoss = which.contains(";rfnet-loss");
        boolean rawGate = which.contains(";raw-gate");
        String corrupt = which.contains(";corrupt=") ? which.substring(which.indexOf(";corrupt=") + 9) : null;
        assumeTrue(torchProblem == null,
                "PyTorch not installed: run scripts/setup-test-deps (" + PYTHON + " -c 'import torch' failed: "
                        + torchProblem + ")");
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT.toAbsolutePath() + " missing");
        // -Dcloe.parity.keep=DIR keeps each case's state folder (DIR/<present>) for running the script by hand
        String keep = System.getProperty("cloe.parity.keep");
        Path dir = keep == null ? tmp : Files.createDirectories(Path.of(keep, which.replace(',', '+').replace(';', '-')));
        CloeConfig cfg = CloeConfig.tiny(MODS, CLASSES).withArchitecture(4, WINDOW).withSeed(20261126L);
        if (rfnetLoss) cfg = cfg.withSegLoss(0f, 0f);
        if (rawGate) cfg = cfg.withReliability(cfg.reliabilityAugmentation(), CloeConfig.RAW_GATE_INPUT);
        assertEquals(rawGate ? "raw" : "centred", cfg.gateInput(), "the gate input under test");
        CloeModel model = new CloeModel(cfg, be);
        ModalityMask mask = ModalityMask.of(MODS, java.util.Arrays.stream(present.split(",")).map(Modality::of).toList());
        // sharper logits than at initialisation, so that some probabilities of the true class fall below WCE's
        // clamp at 0.005 (where the gradient must vanish) instead of all lying near 1/C
        for (String seg : List.of("expert_decoder.seg.weight", "fusion_decoder.seg.weight")) {
            Parameter w = model.parameters().get(seg);
            float[] v = w.toHost();
            for (int i = 0; i < v.length; i++) v[i] *= SEG_SHARPEN;
            w.load(v);
        }

        Map<String, SafeTensors.Entry> state = new LinkedHashMap<>();
        Map<String, Tensor> in = inputs(state, 7 + present.length());

        // the training graph: forward, loss terms, backward
        int corruptedIndex = corrupt == null ? -1 : MODS.indexOf(Modality.of(corrupt));
        CloeModel.Built train = model.training(mask, corruptedIndex);
        model.parameters().zeroGrad();
        try (Graph.Run run = train.graph().run(be, in)) {
            put(state, "prediction", run.get(train.prediction()));
            state.put("loss", scalar(run.scalar(train.loss())));
            for (Map.Entry<String, Value> t : train.terms().entrySet()) {
                state.put("term." + t.getKey(), scalar(run.scalar(t.getValue())));
            }
            run.backward();
        }
        int grads = 0;
        for (Parameter p : model.parameters().all().values()) {
            if (p.grad() == null) continue;
            state.put("grad." + p.name(), SafeTensors.Entry.of(p.shape().dims(), be.toHost(p.grad())));
            grads++;
        }
        assertTrue(grads > 0, "no gradients");

        // u, v, w of the same mask: the full inference graph runs the training graph's ops on the same features
        CloeModel.Built full = model.inference(mask, WINDOW, false);
        try (Graph.Run run = full.graph().run(be, in)) {
            put(state, "w", run.get(full.w()));
            if (full.u() != null) {
                put(state, "u", run.get(full.u()));
                put(state, "v", run.get(full.v()));
            }
        }
        // the compact inference graph: only the present encoders run
        CloeModel.Built compact = model.inference(mask, WINDOW, true);
        Map<String, Tensor> only = new HashMap<>();
        for (Modality m : mask.presentModalities()) only.put(CloeModel.imageInput(m), in.get(CloeModel.imageInput(m)));
        try (Graph.Run run = compact.graph().run(be, only)) {
            put(state, "infer.prediction", run.get(compact.prediction()));
            put(state, "infer.w", run.get(compact.w()));
            if (compact.u() != null) {
                put(state, "infer.u", run.get(compact.u()));
                put(state, "infer.v", run.get(compact.v()));
            }
        }

        writeCheckpoint(dir, model);
        SafeTensors.write(dir.resolve("state.safetensors"), state,
                Map.of("present", String.join(",", mask.presentModalities().stream().map(Modality::name).toList()), "mask_bits", Integer.toString(mask.bits()),
                        "corrupted", corrupt == null ? "" : corrupt));

        long t0 = System.nanoTime();
        Result r = exec(List.of(PYTHON, SCRIPT.toString(), "check", dir.toString()), 300);
        String out = r.output;
        String msg = "cloe_reference.py check (exit " + r.exit + ", " + (System.nanoTime() - t0) / 1_000_000
                + " ms), present " + present + ":\n" + out;
        assertEquals(0, r.exit, msg);
        assertTrue(out.strip().endsWith("PARITY OK"), msg);
        System.out.println(msg);
    }

    /** Random z-scored-like images, a random 4-class label map with its one-hot target and whole-tumour mask. */
    private Map<String, Tensor> inputs(Map<String, SafeTensors.Entry> state, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Shape img = Shape.ncdhw(1, 1, WINDOW, WINDOW, WINDOW);
        int vox = WINDOW * WINDOW * WINDOW;
        Map<String, Tensor> in = new HashMap<>();
        for (Modality m : MODS) {
            float[] v = new float[vox];
            for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
            in.put(CloeModel.imageInput(m), Tensor.wrap(img, v));
            state.put(CloeModel.imageInput(m), SafeTensors.Entry.of(img.dims(), v));
        }
        // a tumour-like blob (ET core, NCR, ED shell) around a random centre, plus some scattered labels
        float[] onehot = new float[CLASSES * vox];
        float[] wt = new float[vox];
        double cz = 5 + r.nextDouble() * 6;
        double cy = 5 + r.nextDouble() * 6;
        double cx = 5 + r.nextDouble() * 6;
        for (int z = 0; z < WINDOW; z++) {
            for (int y = 0; y < WINDOW; y++) {
                for (int x = 0; x < WINDOW; x++) {
                    int i = (z * WINDOW + y) * WINDOW + x;
                    double d = Math.sqrt((z - cz) * (z - cz) + (y - cy) * (y - cy) + (x - cx) * (x - cx));
                    int c = d < 2 ? 3 : d < 3.5 ? 1 : d < 5.5 ? 2 : 0;
                    if (r.nextDouble() < 0.03) c = r.nextInt(CLASSES);
                    onehot[c * vox + i] = 1;
                    wt[i] = c > 0 ? 1 : 0;
                }
            }
        }
        Shape vol = Shape.ncdhw(1, CLASSES, WINDOW, WINDOW, WINDOW);
        in.put("target", Tensor.wrap(vol, onehot));
        in.put("wt", Tensor.wrap(img, wt));
        state.put("target", SafeTensors.Entry.of(vol.dims(), onehot));
        state.put("wt", SafeTensors.Entry.of(img.dims(), wt));
        return in;
    }

    /** model.safetensors and config.json as the trainer's checkpoint writes them. */
    private static void writeCheckpoint(Path dir, CloeModel model) throws IOException {
        CloeConfig cfg = model.config();
        Map<String, SafeTensors.Entry> weights = new LinkedHashMap<>();
        for (Parameter p : model.parameters().all().values()) {
            weights.put(p.name(), SafeTensors.Entry.of(p.shape().dims(), p.toHost()));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", ModelCheckpoint.FORMAT);
        meta.put("preset", cfg.preset());
        meta.put("modalities", String.join(",", cfg.modalities().stream().map(Modality::name).toList()));
        meta.put("classes", Integer.toString(cfg.classes()));
        meta.put("base", Integer.toString(cfg.base()));
        SafeTensors.write(dir.resolve("model.safetensors"), weights, meta);
        Files.writeString(dir.resolve("config.json"), JSON.writeValueAsString(cfg));
    }

    private void put(Map<String, SafeTensors.Entry> state, String name, Tensor t) {
        assertNotNull(t, name);
        state.put(name, SafeTensors.Entry.of(t.shape().dims(), be.toHost(t)));
    }

    private static SafeTensors.Entry scalar(float v) {
        return new SafeTensors.Entry(new long[]{1}, new float[]{v});
    }

    private record Result(int exit, String output) {
    }

    /** Runs a command with stderr merged into stdout; a run past {@code seconds} is killed and reported. */
    private static Result exec(List<String> cmd, int seconds) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try (InputStream s = p.getInputStream()) {
                s.transferTo(buf);
            } catch (IOException ignored) {
                // the process died; what was read so far is reported
            }
        });
        reader.start();
        try {
            if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                reader.join(5000);
                return new Result(-1, "timed out after " + seconds + " s: " + String.join(" ", cmd) + "\n"
                        + buf.toString(StandardCharsets.UTF_8));
            }
            reader.join(5000);
            return new Result(p.exitValue(), buf.toString(StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while running " + cmd, e);
        }
    }
}
