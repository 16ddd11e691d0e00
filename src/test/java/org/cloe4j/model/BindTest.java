package org.cloe4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.data.Modality;
import org.cloe4j.data.Patch;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** {@link CloeModel#bind}: the one place a patch becomes graph inputs, for training and for inference. */
class BindTest {
    private static final int W = 16;
    private static final int VOX = W * W * W;
    private final CloeModel model = new CloeModel(CloeConfig.tiny(CloeConfig.BRATS, 4).withArchitecture(4, W),
            new CpuBackend());

    /** A patch whose channels are in another order than the model's, channel k filled with k + 1 (voxel-tagged). */
    private static final List<Modality> SHUFFLED = List.of(Modality.T2, Modality.FLAIR, Modality.T1, Modality.T1CE);

    private static Patch patch(byte[] labels) {
        float[] img = new float[4 * VOX];
        for (int k = 0; k < 4; k++) for (int i = 0; i < VOX; i++) img[k * VOX + i] = (k + 1) * 1000 + i;
        return new Patch(img, labels, 4, W, W, W);
    }

    @Test
    void aCompactInferenceGraphGetsOnlyThePresentModalitiesEachFromItsOwnChannel() {
        CloeModel.Built b = model.inference(ModalityMask.of(CloeConfig.BRATS, List.of(Modality.T1, Modality.FLAIR)), W, true);
        Map<String, Tensor> in = model.bind(b, SHUFFLED, patch(null));
        assertEquals(Set.of("image.flair", "image.t1"), in.keySet());
        // flair is channel 1 of the patch (values 2000 + i), t1 channel 2 (3000 + i)
        float[] flair = model.backend().toHost(in.get("image.flair"));
        float[] t1 = model.backend().toHost(in.get("image.t1"));
        assertEquals(2000f, flair[0]);
        assertEquals(2000f + VOX - 1, flair[VOX - 1]);
        assertEquals(3000f + 7, t1[7]);
        assertEquals(b.graph().inputShapes().keySet(), in.keySet(), "exactly the graph's inputs");
    }

    @Test
    void aTrainingGraphAlsoGetsTheOneHotTargetAndTheWholeTumourMask() {
        CloeModel.Built b = model.training(ModalityMask.full(CloeConfig.BRATS));
        byte[] labels = new byte[VOX];
        labels[0] = 0;
        labels[1] = 3;
        labels[2] = 1;
        Map<String, Tensor> in = model.bind(b, SHUFFLED, patch(labels));
        assertEquals(b.graph().inputShapes().keySet(), in.keySet(), "exactly the graph's inputs");
        float[] target = model.backend().toHost(in.get("target"));
        float[] wt = model.backend().toHost(in.get("wt"));
        assertArrayEquals(new float[]{1, 0, 0, 0}, new float[]{target[0], target[VOX], target[2 * VOX], target[3 * VOX]});
        assertArrayEquals(new float[]{0, 0, 0, 1}, new float[]{target[1], target[VOX + 1], target[2 * VOX + 1], target[3 * VOX + 1]});
        assertArrayEquals(new float[]{0, 1, 1}, new float[]{wt[0], wt[1], wt[2]});
    }

    @Test
    void badPatchesAreRefusedNamingTheProblem() {
        CloeModel.Built train = model.training(ModalityMask.full(CloeConfig.BRATS));
        byte[] labels = new byte[VOX];
        labels[5] = 7;
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.bind(train, SHUFFLED, patch(labels)));
        assertTrue(e.getMessage().contains("class 7"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> model.bind(train, SHUFFLED, patch(null)));
        assertTrue(e.getMessage().contains("labels"), e.getMessage());
        List<Modality> noT1ce = List.of(Modality.T2, Modality.FLAIR, Modality.T1, Modality.ADC);
        e = assertThrows(IllegalArgumentException.class,
                () -> model.bind(model.inference(ModalityMask.full(CloeConfig.BRATS), W, true), noT1ce, patch(null)));
        assertTrue(e.getMessage().contains("t1ce"), e.getMessage());
    }
}
