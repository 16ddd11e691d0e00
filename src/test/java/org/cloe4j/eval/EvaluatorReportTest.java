package org.cloe4j.eval;

import org.cloe4j.data.Modality;
import org.cloe4j.model.ModalityMask;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A report's mean Dice is looked up by the modality set itself, not by its printed label. */
class EvaluatorReportTest {

    @Test
    void diceIsFoundByTheMaskAndAMissingMaskIsNamed() {
        List<Modality> mods = Modality.BRATS;
        ModalityMask full = ModalityMask.full(mods), flair = ModalityMask.of(mods, List.of(Modality.FLAIR));
        Evaluator.Row a = new Evaluator.Row(flair, new double[]{0.1, 0.2, 0.3}, 0.3, new double[3]);
        Evaluator.Row b = new Evaluator.Row(full, new double[]{0.7, 0.8, 0.9}, 0.9, new double[3]);
        Evaluator.Report r = new Evaluator.Report(List.of("WT", "TC", "ET"), true, List.of(), List.of(a, b), null);
        assertEquals(0.7, r.dice(full, "WT"));
        assertEquals(0.3, r.dice(flair, "ET"));
        ModalityMask t2 = ModalityMask.of(mods, List.of(Modality.T2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.dice(t2, "WT"));
        assertTrue(e.getMessage().contains("T2"), e.getMessage());
    }
}
