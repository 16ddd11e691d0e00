package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ConvSpec.Padding;
import org.cloe4j.backend.cpu.CpuConv3dTest.Case;
import org.junit.jupiter.api.Test;

/**
 * backwardWeight on shapes large enough for {@link ConvWeightGradient}'s one-plane tiles (a ring of staged input
 * planes walked along the planes of one row tile), which CpuConv3dTest's small shapes never reach: several row tiles,
 * whole-plane tiles of one plane, batch 2 (the ring restarts at a new sample), slabs that start inside a sample,
 * stride 2 and 1³ kernels, and the transposed kernel of 3³ convs with 32·m output channels. Against the same
 * double-precision reference and tolerance as CpuConv3dTest (its backwardWeightAndBiasMatchReference). About 3–7 s.
 */
class ConvWeightGradientTilingTest {
    private final CpuConv3dTest t = new CpuConv3dTest();

    @Test
    void rowTilesStrideOne() {
        // 16 output channels of 40×42 staged gy exceed one tile: row tiles of one plane.
        t.backwardWeightAndBiasMatchReference(new Case(2, 3, 16, 5, 40, 40, 3, 1, Padding.REFLECT));
    }

    @Test
    void rowTilesStrideTwo() {
        t.backwardWeightAndBiasMatchReference(new Case(2, 3, 16, 9, 80, 79, 3, 2, Padding.REFLECT));
    }

    @Test
    void wholePlaneTilesOfOnePlane() {
        t.backwardWeightAndBiasMatchReference(new Case(1, 5, 20, 6, 28, 28, 3, 1, Padding.ZERO));
    }

    // 3³ kernels with a multiple of 32 output channels (or 16 with an even number of inputs) take the transposed kernel (gy staged position-major, 32 output
    // channels in the lanes): row tiles, stride 2, whole-plane tiles of several planes with two output blocks, and
    // two input-channel blocks.
    @Test
    void transposedRowTilesStrideOne() {
        t.backwardWeightAndBiasMatchReference(new Case(2, 3, 32, 5, 40, 40, 3, 1, Padding.REFLECT));
    }

    @Test
    void transposedRowTilesStrideTwo() {
        t.backwardWeightAndBiasMatchReference(new Case(2, 3, 32, 9, 80, 79, 3, 2, Padding.REFLECT));
    }

    @Test
    void transposedWholePlaneTiles() {
        t.backwardWeightAndBiasMatchReference(new Case(1, 5, 64, 6, 14, 14, 3, 1, Padding.ZERO));
    }

    @Test
    void transposedSeveralInputBlocks() {
        t.backwardWeightAndBiasMatchReference(new Case(1, 20, 32, 4, 10, 13, 3, 2, Padding.REFLECT));
    }

    // 16 output channels and an even number of inputs: the transposed kernel's one-vector form (input channel pairs)
    @Test
    void transposedSixteenOutputsStrideOne() {
        t.backwardWeightAndBiasMatchReference(new Case(2, 4, 16, 5, 40, 40, 3, 1, Padding.REFLECT));
    }

    @Test
    void transposedSixteenOutputsStrideTwo() {
        t.backwardWeightAndBiasMatchReference(new Case(1, 18, 16, 6, 30, 29, 3, 2, Padding.ZERO));
    }

    @Test
    void rowTilesOneByOne() {
        t.backwardWeightAndBiasMatchReference(new Case(2, 6, 16, 3, 40, 40, 1, 1, Padding.ZERO));
    }
}
