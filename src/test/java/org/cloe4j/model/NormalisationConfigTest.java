package org.cloe4j.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.cloe4j.data.Preprocessor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The input normalisation of the config: the presets' z-score, the median ratio, and checkpoints written before the field. */
class NormalisationConfigTest {
    @Test
    void thePresetsZScoreAMedianConfigRoundTripsAndAnOlderConfigReadsAsTheZScore(@TempDir Path dir) throws Exception {
        for (String preset : new String[]{"paper", "rfnet", "tiny"}) {
            CloeConfig c = CloeConfig.preset(preset, CloeConfig.BRATS, 4);
            assertEquals("zscore", c.normalisation(), preset);
            assertEquals(Preprocessor.Normalisation.ZSCORE, c.inputNormalisation(), preset);
        }
        ObjectMapper json = new ObjectMapper();
        CloeConfig median = CloeConfig.tiny(CloeConfig.BRATS, 4).withNormalisation("median");
        Files.writeString(dir.resolve("config.json"), json.writeValueAsString(median));
        assertEquals(median, ModelCheckpoint.readConfig(dir));
        assertEquals(Preprocessor.Normalisation.MEDIAN, ModelCheckpoint.readConfig(dir).inputNormalisation());
        ObjectNode node = json.valueToTree(median);
        assertTrue(node.has("normalisation"), "the field is written: " + node);
        assertTrue(!node.has("inputNormalisation"), "only the record's fields are written: " + node);
        node.remove("normalisation");
        Files.writeString(dir.resolve("config.json"), json.writeValueAsString(node));
        CloeConfig old = ModelCheckpoint.readConfig(dir);
        assertEquals("zscore", old.normalisation(), "an older checkpoint saw z-scored inputs");
        assertEquals(Preprocessor.Normalisation.ZSCORE, old.inputNormalisation());
        assertEquals(CloeConfig.tiny(CloeConfig.BRATS, 4), old);
        var e = assertThrows(IllegalArgumentException.class, () -> old.withNormalisation("minmax"));
        assertTrue(e.getMessage().contains("minmax"), e.getMessage());
    }
}
