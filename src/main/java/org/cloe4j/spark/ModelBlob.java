package org.cloe4j.spark;

import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;

import org.cloe4j.data.TrainingGeometry;
import org.cloe4j.eval.ReliabilityThresholds;
import org.cloe4j.model.ModelCheckpoint;

/**
 * A checkpoint's files as bytes, so Spark can ship it to the executors (as a broadcast) and no executor has to see
 * the driver's disk. Only what inference needs travels: the weights and the config (and the state file the loader
 * checks for), and when the checkpoint has them the training grid ({@link TrainingGeometry#FILE}: without it an
 * executor would assume 1 mm RAS and segment on another grid than {@code cloe predict}) and the validation agreement
 * levels ({@link ReliabilityThresholds#FILE}); not the optimizer moments. {@link #key} is a SHA-256 over the files, naming the checkpoint in an
 * executor's cache.
 */
public final class ModelBlob implements Serializable {
    private static final long serialVersionUID = 1L;
    static final String[] FILES = {"config.json", "state.json", "model.safetensors"};
    static final String[] OPTIONAL_FILES = {TrainingGeometry.FILE, ReliabilityThresholds.FILE};

    private final LinkedHashMap<String, byte[]> files;
    private final String key;

    private ModelBlob(LinkedHashMap<String, byte[]> files, String key) {
        this.files = files;
        this.key = key;
    }

    /** Reads the checkpoint a user named (checkpoint folder, run folder or model.safetensors). */
    public static ModelBlob read(Path checkpoint) throws IOException {
        Path dir = ModelCheckpoint.resolve(checkpoint);
        LinkedHashMap<String, byte[]> files = new LinkedHashMap<>();
        MessageDigest sha = sha256();
        for (String f : FILES) {
            byte[] b = Files.readAllBytes(dir.resolve(f));
            files.put(f, b);
            sha.update(f.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update(b);
        }
        for (String f : OPTIONAL_FILES) {
            if (!Files.isRegularFile(dir.resolve(f))) continue;
            byte[] b = Files.readAllBytes(dir.resolve(f));
            files.put(f, b);
            sha.update(f.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            sha.update(b);
        }
        return new ModelBlob(files, HexFormat.of().formatHex(sha.digest()));
    }

    public String key() {
        return key;
    }

    public long bytes() {
        long n = 0;
        for (byte[] b : files.values()) n += b.length;
        return n;
    }

    /** Writes the files into {@code dir} (created), a checkpoint folder {@code Cloe.load} reads. */
    public Path writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, byte[]> e : files.entrySet()) Files.write(dir.resolve(e.getKey()), e.getValue());
        return dir;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
