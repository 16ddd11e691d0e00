package org.cloe4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The segmentation-loss fields of the config: the presets' loss, and checkpoints written before the fields existed. */
class SegLossConfigTest {
    @Test
    void thePresetsTrainWithPlainCrossEntropyAndASmoothedDice() {
        for (String preset : new String[]{"paper", "rfnet", "tiny"}) {
            CloeConfig c = CloeConfig.preset(preset, CloeConfig.BRATS, 4);
            assertEquals(1f, c.ceWeightFloor(), preset);
            assertEquals(1f, c.diceSmooth(), preset);
        }
    }

    @Test
    void aConfigWrittenBeforeTheLossFieldsReadsAsRfnetsLoss(@TempDir Path dir) throws Exception {
        ObjectMapper json = new ObjectMapper();
        ObjectNode node = json.valueToTree(CloeConfig.tiny(CloeConfig.BRATS, 4));
        assertTrue(node.has("ceWeightFloor") && node.has("diceSmooth"), "the fields are written: " + node);
        node.remove("ceWeightFloor");
        node.remove("diceSmooth");
        Files.writeString(dir.resolve("config.json"), json.writeValueAsString(node));
        CloeConfig old = ModelCheckpoint.readConfig(dir);
        assertEquals(0f, old.ceWeightFloor(), "class-weight floor of an older checkpoint");
        assertEquals(0f, old.diceSmooth(), "Dice smoothing of an older checkpoint");
        assertEquals(CloeConfig.tiny(CloeConfig.BRATS, 4).withSegLoss(0f, 0f), old);
    }

    @Test
    void lossParametersOutOfRangeAreRefused() {
        CloeConfig c = CloeConfig.tiny(CloeConfig.BRATS, 4);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> c.withSegLoss(1.5f, 1f)).getMessage()
                .contains("ceWeightFloor"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> c.withSegLoss(1f, -1f)).getMessage()
                .contains("diceSmooth"));
    }

    @Test
    void thePresetsAugmentMultisiteAndAnOlderConfigReadsAsRfnetsAugmentation(@TempDir Path dir) throws Exception {
        for (String preset : new String[]{"paper", "rfnet", "tiny"}) {
            assertEquals("multisite", CloeConfig.preset(preset, CloeConfig.BRATS, 4).augmentation(), preset);
        }
        assertEquals("appearance", CloeConfig.tiny(CloeConfig.BRATS, 4).withAugmentation("appearance").augmentation(),
                "the presets' augmentation before multisite is still read");
        ObjectMapper json = new ObjectMapper();
        ObjectNode node = json.valueToTree(CloeConfig.tiny(CloeConfig.BRATS, 4));
        assertEquals("multisite", node.get("augmentation").asText(), "the field is written: " + node);
        node.remove("augmentation");
        Files.writeString(dir.resolve("config.json"), json.writeValueAsString(node));
        CloeConfig old = ModelCheckpoint.readConfig(dir);
        assertEquals("rfnet", old.augmentation(), "augmentation of an older checkpoint");
        assertEquals(CloeConfig.tiny(CloeConfig.BRATS, 4).withAugmentation("rfnet"), old);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> old.withAugmentation("heavy")).getMessage()
                .contains("augmentation"));
    }
}
