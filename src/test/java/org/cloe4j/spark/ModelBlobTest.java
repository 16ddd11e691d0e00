package org.cloe4j.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;

import org.cloe4j.data.TrainingGeometry;
import org.cloe4j.eval.ReliabilityThresholds;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What of a checkpoint travels to the executors: everything inference reads, the training grid included. */
class ModelBlobTest {
    @TempDir Path tmp;

    private Path checkpoint(String name, boolean withExtras) throws Exception {
        Path ckpt = Files.createDirectories(tmp.resolve(name));
        for (String f : ModelBlob.FILES) Files.writeString(ckpt.resolve(f), f + " bytes");
        Files.writeString(ckpt.resolve("optimizer.safetensors"), "moments"); // never needed for inference
        if (withExtras) {
            Files.writeString(ckpt.resolve(TrainingGeometry.FILE), "{\"spacing_mm\": [2, 2, 2]}");
            Files.writeString(ckpt.resolve(ReliabilityThresholds.FILE), "{\"k\": 3}");
        }
        return ckpt;
    }

    @Test
    void theTrainingGridAndTheAgreementLevelsTravelWithTheWeights() throws Exception {
        Path src = checkpoint("with", true);
        Path there = ModelBlob.read(src).writeTo(tmp.resolve("executor"));
        for (String f : new String[] {"config.json", "state.json", "model.safetensors", TrainingGeometry.FILE,
                ReliabilityThresholds.FILE}) {
            assertArrayEquals(Files.readAllBytes(src.resolve(f)), Files.readAllBytes(there.resolve(f)), f);
        }
        assertFalse(Files.exists(there.resolve("optimizer.safetensors")), "the optimizer moments stay behind");
    }

    @Test
    void aCheckpointWithoutThemStillShipsAndHasAnotherKey() throws Exception {
        ModelBlob plain = ModelBlob.read(checkpoint("plain", false));
        Path there = plain.writeTo(tmp.resolve("executor2"));
        assertFalse(Files.exists(there.resolve(TrainingGeometry.FILE)));
        assertNotEquals(plain.key(), ModelBlob.read(checkpoint("with2", true)).key(),
                "the executor cache key covers the training grid");
    }
}
