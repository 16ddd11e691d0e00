package org.cloe4j.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.cloe4j.backend.Backend;
import org.cloe4j.data.Modality;
import org.cloe4j.graph.Parameter;
import org.cloe4j.io.SafeTensors;

/**
 * The model half of a checkpoint folder ({@code RUN/checkpoints/epoch-NNNN/}): finding the folder a user named,
 * reading its {@code config.json} and loading {@code model.safetensors} into a model. Training writes checkpoints
 * (with the optimiser's state beside the weights); training, inference and the API all load models through this
 * class, so the format is defined in one place below them.
 *
 * <p>{@code model.safetensors} holds every parameter by its name as float32, with the metadata {@link #metadata}
 * gives (format, preset, modalities, classes, base).
 */
public final class ModelCheckpoint {
    /** The {@code format} metadata of every file this project writes. */
    public static final String FORMAT = "cloe4j-1";
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ModelCheckpoint() {
    }

    /** The folder of a run's checkpoints. */
    public static Path dir(Path runDir) {
        return runDir.resolve("checkpoints");
    }

    /** The metadata stored in {@code model.safetensors} for a model of {@code cfg}. */
    public static Map<String, String> metadata(CloeConfig cfg) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("format", FORMAT);
        m.put("preset", cfg.preset());
        m.put("modalities", names(cfg));
        m.put("classes", Integer.toString(cfg.classes()));
        m.put("base", Integer.toString(cfg.base()));
        return m;
    }

    /** The {@code modalities} metadata: the names in channel order, comma-separated. */
    private static String names(CloeConfig cfg) {
        return String.join(",", cfg.modalities().stream().map(Modality::name).toList());
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
            return s.filter(p -> p.getFileName().toString().startsWith("epoch-")).filter(ModelCheckpoint::isComplete)
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
        String mods = names(model.config());
        if (!mods.equals(c.metadata().get("modalities"))) {
            throw new IOException(file + ": checkpoint is for modalities [" + c.metadata().get("modalities")
                    + "], the model has [" + mods + "]");
        }
        Map<String, SafeTensors.Entry> t = c.tensors();
        for (Parameter p : model.parameters().all().values()) {
            SafeTensors.Entry e = t.get(p.name());
            if (e == null) throw new IOException(file + ": tensor '" + p.name() + "' missing (another preset or architecture?)");
            if (!Arrays.equals(e.shape(), toLong(p.shape().dims()))) {
                throw new IOException(file + ": tensor '" + p.name() + "' has shape " + Arrays.toString(e.shape())
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

    private static long[] toLong(int[] d) {
        long[] l = new long[d.length];
        for (int i = 0; i < d.length; i++) l[i] = d[i];
        return l;
    }
}
