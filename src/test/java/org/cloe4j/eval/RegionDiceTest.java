package org.cloe4j.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Dice per BraTS region, on maps of BraTS labels 0/1/2/4. */
class RegionDiceTest {

    @Test
    void regionsGroupTheLabelsAsBratsDoes() {
        byte[] labels = {0, 1, 2, 4};
        assertArrayEquals(new boolean[] {false, true, true, true}, Region.WT.mask(labels));
        assertArrayEquals(new boolean[] {false, true, false, true}, Region.TC.mask(labels));
        assertArrayEquals(new boolean[] {false, false, false, true}, Region.ET.mask(labels));
    }

    @Test
    void handComputedDicePerRegion() {
        //            voxel: 0  1  2  3  4  5  6  7
        byte[] reference = {0, 1, 2, 2, 4, 4, 0, 0};
        byte[] predicted = {0, 2, 2, 0, 4, 1, 4, 0};
        // WT: ref {1..5} (5), pred {1,2,4,5,6} (5), both {1,2,4,5} (4) -> 8/10
        // TC: ref {1,4,5} (3), pred {4,5,6} (3), both {4,5} (2) -> 4/6
        // ET: ref {4,5} (2), pred {4,6} (2), both {4} (1) -> 2/4
        assertArrayEquals(new double[] {0.8, 4.0 / 6, 0.5}, RegionDice.diceAll(predicted, reference), 1e-12);
    }

    @Test
    void bothEmptyIsOneAndOneEmptyIsZero() {
        byte[] none = {0, 0, 2, 0};
        byte[] et = {0, 4, 2, 0};
        assertEquals(1.0, RegionDice.dice(none, none, Region.ET));
        assertEquals(0.0, RegionDice.dice(et, none, Region.ET));
        assertEquals(0.0, RegionDice.dice(none, et, Region.ET));
        assertEquals(1.0, RegionDice.dice(et, et, Region.TC));
    }
}
