package org.cloe4j.train;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.cloe4j.data.TrainingGeometry;
import org.cloe4j.io.AtomicFiles;
import org.cloe4j.io.SafeTensors;
import org.cloe4j.model.CloeConfig;
import org.cloe4j.model.CloeModel;
import org.cloe4j.model.ModelCheckpoint;

/**
 * A training checkpoint: a folder {@code RUN/checkpoints/epoch-NNNN/} holding
 * <ul>
 *   <li>{@code model.safetensors} — every parameter by its name (e.g. {@code encoder.flair.e1_c1.conv.weight},
 *       {@code expert_decoder.d3_c2.conv.bias}, {@code gate.fc1.weight}), float32, readable by PyTorch's
 *       safetensors loader; metadata: format, preset, modalities, classes, base;</li>
 *   <li>{@code optimizer.safetensors} — Adam's moments as {@code NAME.exp_avg}, {@code NAME.exp_avg_sq},
 *       {@code NAME.max_exp_avg_sq} (PyTorch's names), metadata: step;</li>
 *   <li>{@code config.json} — the {@link CloeConfig}; {@code state.json} — epochs completed and step count;
 *       {@code geometry.json} — the training grid ({@link TrainingGeometry}), copied from the run folder.</li>
 * </ul>
 * The folder is written under a temporary name and renamed when complete, then {@code checkpoints/latest} names it,
 * so a run interrupted at any point resumes from the last complete checkpoint. Finding a checkpoint and loading its
 * model is {@link ModelCheckpoint}'s (a layer below training, shared with inference and the API); this class writes
 * checkpoints and restores the optimiser and the progress.
 */
public final class Checkpoint {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final int KEEP = 3;

    /** Progress stored beside the weights. */
    public record State(int epochsDone, int step, long seed) {
    }

    private Checkpoint() {
    }

    /** Writes the checkpoint of the epochs completed so far and points {@code latest} at it. */
    public static Path save(Path runDir, CloeModel model, Adam adam, State state) throws IOException {
        Path root = ModelCheckpoint.dir(runDir);
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
        SafeTensors.write(tmp.resolve("model.safetensors"), weights, ModelCheckpoint.metadata(cfg));
        SafeTensors.write(tmp.resolve("optimizer.safetensors"), moments,
                Map.of("format", ModelCheckpoint.FORMAT, "step", Integer.toString(adam.stepCount())));
        AtomicFiles.writeString(tmp.resolve("config.json"), JSON.writeValueAsString(cfg));
        AtomicFiles.writeString(tmp.resolve("state.json"), JSON.writeValueAsString(state));
        Path geometry = runDir.resolve(TrainingGeometry.FILE); // the training grid, when the run recorded one
        if (Files.isRegularFile(geometry)) Files.copy(geometry, tmp.resolve(TrainingGeometry.FILE));
        Path done = root.resolve(name);
        deleteTree(done);
        AtomicFiles.move(tmp, done);
        AtomicFiles.writeString(root.resolve("latest"), name + "\n");
        prune(root, name);
        return done;
    }

    public static State readState(Path ckpt) throws IOException {
        return JSON.readValue(ckpt.resolve("state.json").toFile(), State.class);
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
