package org.cloe4j.eval;

/**
 * Dice per BraTS region with the BraTS conventions: both masks empty gives 1 (nothing to find, nothing found), one
 * empty and the other not gives 0. Inputs are label maps in <b>BraTS labels</b> (0, 1, 2, 4) — convert the model's
 * classes with {@code LabelMaps.toBratsLabels} first.
 */
public final class RegionDice {

    private RegionDice() {}

    /** Dice of two boolean masks, 2|A∩B| / (|A| + |B|); 1 when both are empty. */
    public static double dice(boolean[] prediction, boolean[] reference) {
        if (prediction.length != reference.length) {
            throw new IllegalArgumentException("masks differ in size: " + prediction.length + " vs " + reference.length);
        }
        long both = 0, a = 0, b = 0;
        for (int i = 0; i < prediction.length; i++) {
            if (prediction[i]) a++;
            if (reference[i]) b++;
            if (prediction[i] && reference[i]) both++;
        }
        return a + b == 0 ? 1.0 : 2.0 * both / (a + b);
    }

    /** Dice of {@code region} between a predicted and a reference map of BraTS labels. */
    public static double dice(byte[] predictionLabels, byte[] referenceLabels, Region region) {
        return dice(region.mask(predictionLabels), region.mask(referenceLabels));
    }

    /** Dice of WT, TC and ET, in that order, between maps of BraTS labels. */
    public static double[] diceAll(byte[] predictionLabels, byte[] referenceLabels) {
        Region[] r = Region.values();
        double[] out = new double[r.length];
        for (int i = 0; i < r.length; i++) out[i] = dice(predictionLabels, referenceLabels, r[i]);
        return out;
    }
}
