package org.cloe4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.cloe4j.backend.Backend;
import org.cloe4j.graph.Parameter;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.io.SafeTensors;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;

/**
 * A training checkpoint: a folder {@code RUN/checkpoints/epoch-NNNN/} holding
 * <ul>
 *   <li>{@code model.safetensors} — every parameter by its name (e.g. {@code encoder.flair.e1_c1.conv.weight},
 *       {@code expert_decoder.d3_c2.conv.bias}, {@code gate.fc1.weight}), float32, readable by PyTorch's
 *       safetensors loader; metadata: format, preset, modalities, classes, base;</li>
 *   <li>{@code optimizer.safetensors} — Adam's moments as {@code NAME.exp_avg}, {@code NAME.exp_avg_sq},
 *       {@code NAME.max_exp_avg_sq} (PyTorch's names), metadata: step;</li>
 *   <li>{@code config.json} — the {@link CloeConfig}; {@code state.json} — epochs completed and step count.</li>
 * </ul>
 * The folder is written under a temporary name and renamed when complete, then {@code checkpoints/latest} names it,
 * so a run interrupted at any point resumes from the last complete checkpoint.
 */
public final class Checkpoint {
    public static final String FORMAT = "cloe4j-1";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final int KEEP = 3;

    /** Progress stored beside the weights. */
    public record State(int epochsDone, int step, long seed) {
    }

    private Checkpoint() {
    }

    public static Path dir(Path runDir) {
        return runDir.resolve("checkpoints");
    }

    /** Writes the checkpoint of the epochs completed so far and points {@code latest} at it. */
    public static Path save(Path runDir, CloeModel model, Adam adam, State state) throws IOException {
        Path root = dir(runDir);
        Files.createDirectories(root);
        String name = String.format("epoch-%04d", state.epochsDone());
        Path tmp = root.resolve("." + name + ".partial");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        CloeConfig cfg = model.config();
        Map<String, SafeTensors.Entry> weights = new LinkedHashMap<>();
        Map<String, SafeTensors.Entry> moments = new LinkedHashMap<>();
        for (Parameter p : model.parameters().all().values()) {
            weights.put(p.name(), SafeTensors.Entry.of(p.shape().dims(), p.toHost()));
            float[][] m = adam.moments(p);
            moments.put(p.name() + ".exp_avg", SafeTensors.Entry.of(p.shape().dims(), m[0]));
            moments.put(p.name() + ".exp_avg_sq", SafeTensors.Entry.of(p.shape().dims(), m[1]));
            moments.put(p.name() + ".max_exp_avg_sq", SafeTensors.Entry.of(p.shape().dims(), m[2]));
        }
        SafeTensors.write(tmp.resolve("model.safetensors"), weights, modelMetadata(cfg));
        SafeTensors.write(tmp.resolve("optimizer.safetensors"), moments,
                Map.of("format", FORMAT, "step", Integer.toString(adam.stepCount())));
        AtomicFiles.writeString(tmp.resolve("config.json"), JSON.writeValueAsString(cfg));
        AtomicFiles.writeString(tmp.resolve("state.json"), JSON.writeValueAsString(state));
        Path done = root.resolve(name);
        deleteTree(done);
        AtomicFiles.move(tmp, done);
        AtomicFiles.writeString(root.resolve("latest"), name + "\n");
        prune(root, name);
        return done;
    }

    private static Map<String, String> modelMetadata(CloeConfig cfg) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("preset", cfg.preset());
        m.put("modalities", String.join(",", cfg.modalities()));
        m.put("classes", Integer.toString(cfg.classes()));
        m.put("base", Integer.toString(cfg.base()));
        return m;
    }

    /** The newest complete checkpoint of a run, or null when there is none. */
    public static Path latest(Path runDir) throws IOException {
        Path root = dir(runDir);
        if (!Files.isDirectory(root)) return null;
        Path pointer = root.resolve("latest");
        if (Files.isRegularFile(pointer)) {
            Path p = root.resolve(Files.readString(pointer).trim());
            if (isComplete(p)) return p;
        }
        try (Stream<Path> s = Files.list(root)) {
            return s.filter(p -> p.getFileName().toString().startsWith("epoch-")).filter(Checkpoint::isComplete)
                    .max(Comparator.comparing(p -> p.getFileName().toString())).orElse(null);
        }
    }

    private static boolean isComplete(Path p) {
        return Files.isRegularFile(p.resolve("state.json")) && Files.isRegularFile(p.resolve("model.safetensors"))
                && Files.isRegularFile(p.resolve("config.json"));
    }

    /**
     * Finds the checkpoint folder a user named: a checkpoint folder, a run folder (its latest checkpoint) or a
     * {@code model.safetensors} file inside a checkpoint folder.
     */
    public static Path resolve(Path given) throws IOException {
        if (!Files.exists(given)) throw new IOException("checkpoint " + given + " does not exist");
        if (Files.isRegularFile(given)) {
            Path parent = given.toAbsolutePath().getParent();
            if (isComplete(parent)) return parent;
            throw new IOException(given + " is not inside a complete cloe4j checkpoint folder (config.json, state.json)");
        }
        if (isComplete(given)) return given;
        Path l = latest(given);
        if (l != null) return l;
        throw new IOException(given + " holds no complete cloe4j checkpoint (expected model.safetensors, config.json, state.json)");
    }

    public static CloeConfig readConfig(Path ckpt) throws IOException {
        try {
            return JSON.readValue(ckpt.resolve("config.json").toFile(), CloeConfig.class);
        } catch (IOException e) {
            throw new IOException(ckpt.resolve("config.json") + ": not a readable cloe4j config: " + e.getMessage(), e);
        }
    }

    public static State readState(Path ckpt) throws IOException {
        return JSON.readValue(ckpt.resolve("state.json").toFile(), State.class);
    }

    /** Builds the checkpoint's model on {@code backend} and loads its weights. */
    public static CloeModel loadModel(Path ckpt, Backend backend) throws IOException {
        CloeConfig cfg = readConfig(ckpt);
        CloeModel model = new CloeModel(cfg, backend);
        loadWeights(ckpt, model);
        return model;
    }

    /** Loads the weights into a model of the same architecture; a missing, extra or misshapen tensor is named. */
    public static void loadWeights(Path ckpt, CloeModel model) throws IOException {
        Path file = ckpt.resolve("model.safetensors");
        SafeTensors.Contents c = SafeTensors.read(file);
        String fmt = c.metadata().get("format");
        if (!FORMAT.equals(fmt)) throw new IOException(file + ": not a cloe4j model (format " + fmt + ")");
        String mods = String.join(",", model.config().modalities());
        if (!mods.equals(c.metadata().get("modalities"))) {
            throw new IOException(file + ": checkpoint is for modalities [" + c.metadata().get("modalities")
                    + "], the model has [" + mods + "]");
        }
        Map<String, SafeTensors.Entry> t = c.tensors();
        for (Parameter p : model.parameters().all().values()) {
            SafeTensors.Entry e = t.get(p.name());
            if (e == null) throw new IOException(file + ": tensor '" + p.name() + "' missing (another preset or architecture?)");
            if (!java.util.Arrays.equals(e.shape(), toLong(p.shape().dims()))) {
                throw new IOException(file + ": tensor '" + p.name() + "' has shape " + java.util.Arrays.toString(e.shape())
                        + ", the model expects " + p.shape() + " (another preset or base width?)");
            }
            for (float v : e.data()) {
                if (!Float.isFinite(v)) throw new IOException(file + ": tensor '" + p.name() + "' holds " + v);
            }
            p.load(e.data());
        }
        List<String> extra = new ArrayList<>(t.keySet());
        extra.removeAll(model.parameters().all().keySet());
        if (!extra.isEmpty()) throw new IOException(file + ": unexpected tensors " + extra + " (another architecture?)");
    }

    /** Restores Adam's moments and step count. */
    public static void loadOptimizer(Path ckpt, CloeModel model, Adam adam) throws IOException {
        Path file = ckpt.resolve("optimizer.safetensors");
        SafeTensors.Contents c = SafeTensors.read(file);
        Map<Parameter, float[][]> moments = new LinkedHashMap<>();
        for (Parameter p : model.parameters().all().values()) {
            float[][] m = new float[3][];
            String[] suffix = {".exp_avg", ".exp_avg_sq", ".max_exp_avg_sq"};
            for (int i = 0; i < 3; i++) {
                SafeTensors.Entry e = c.tensors().get(p.name() + suffix[i]);
                if (e == null || e.data().length != p.shape().size()) {
                    throw new IOException(file + ": optimiser state '" + p.name() + suffix[i] + "' missing or misshapen");
                }
                m[i] = e.data();
            }
            moments.put(p, m);
        }
        adam.restore(Integer.parseInt(c.metadata().getOrDefault("step", "0")), moments);
    }

    private static long[] toLong(int[] d) {
        long[] l = new long[d.length];
        for (int i = 0; i < d.length; i++) l[i] = d[i];
        return l;
    }

    private static void prune(Path root, String keepName) throws IOException {
        List<Path> all;
        try (Stream<Path> s = Files.list(root)) {
            all = s.filter(p -> p.getFileName().toString().startsWith("epoch-")).sorted().toList();
        }
        for (int i = 0; i < all.size() - KEEP; i++) {
            if (!all.get(i).getFileName().toString().equals(keepName)) deleteTree(all.get(i));
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(q);
        }
    }
}
