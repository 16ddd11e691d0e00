package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.cloe4j.data.Modality;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The corruption study's files: one model's CSV read back for a comparison, and the comparison table. */
class CorruptionStudyFilesTest {
    private static final List<CorruptionStudy.Condition> CONDS =
            List.of(CorruptionStudy.Condition.parse("noise:1.0"), CorruptionStudy.Condition.parse("wrong-sequence"));

    private static List<CorruptionStudy.Row> rows(double shift) {
        return List.of(new CorruptionStudy.Row("clean", 0.25 + shift, 0.96, new double[]{0.81, 0.72, 0.63}),
                new CorruptionStudy.Row("noise 1.0", 0.11 + shift, 0.70, new double[]{0.71, 0.62, 0.53}),
                new CorruptionStudy.Row("wrong-sequence", 0.05 + shift, 0.60, new double[]{0.61, 0.52, 0.43}),
                new CorruptionStudy.Row("flair left out", 0, Double.NaN, new double[]{0.75, 0.66, 0.57}));
    }

    @Test
    void aWrittenStudyReadsBackAndAComparisonListsEveryModelPerCondition(@TempDir Path dir) throws Exception {
        CorruptionStudy.write(rows(0), dir.resolve("CLoE"), "t", Modality.FLAIR);
        List<CorruptionStudy.Row> back = CorruptionStudy.read(dir.resolve("CLoE/corruption.csv"), CONDS, Modality.FLAIR);
        assertEquals(4, back.size());
        for (int j = 0; j < 4; j++) {
            assertEquals(rows(0).get(j).condition(), back.get(j).condition());
            assertEquals(rows(0).get(j).w(), back.get(j).w(), 1e-4, "w is written with 4 decimals");
            for (int g = 0; g < 3; g++) assertEquals(rows(0).get(j).dice()[g], back.get(j).dice()[g], 1e-4);
        }
        assertTrue(Double.isNaN(back.get(3).u()), "the left-out row has no u");
        // another list of conditions, or no file: not reused
        assertNull(CorruptionStudy.read(dir.resolve("CLoE/corruption.csv"), CONDS.subList(0, 1), Modality.FLAIR));
        assertNull(CorruptionStudy.read(dir.resolve("CLoE/corruption.csv"), CONDS, Modality.T2));
        assertNull(CorruptionStudy.read(dir.resolve("none.csv"), CONDS, Modality.FLAIR));

        Map<String, List<CorruptionStudy.Row>> by = new LinkedHashMap<>();
        by.put("CLoE", back);
        by.put("no-gate", rows(0.1));
        String md = CorruptionStudy.writeComparison(by, dir, "cmp", Modality.FLAIR);
        assertTrue(md.contains("| noise 1.0 | CLoE | 0.110 | 0.700 | 71.00 | 62.00 | 53.00 |"), md);
        assertTrue(md.contains("| noise 1.0 | no-gate | 0.210 | 0.700 | 71.00 | 62.00 | 53.00 |"), md);
        assertEquals(1 + 4 * 2, Files.readAllLines(dir.resolve("comparison.csv")).size(), "a row per condition and model");

        by.put("bad", rows(0).subList(0, 3));
        assertThrows(IllegalArgumentException.class, () -> CorruptionStudy.writeComparison(by, dir, "cmp", Modality.FLAIR));
    }
}
