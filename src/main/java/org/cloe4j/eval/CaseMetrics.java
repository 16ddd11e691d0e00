package org.cloe4j.eval;

/**
 * The per-case numbers BraTS papers report: Dice and HD95 (mm) for WT, TC and ET, in that order, computed from a
 * predicted and a reference map of <b>BraTS labels</b> (0, 1, 2, 4). Conventions as in {@link RegionDice} and
 * {@link SurfaceDistance}.
 *
 * @param dice  Dice of WT, TC, ET
 * @param hd95  HD95 in mm of WT, TC, ET
 */
public record CaseMetrics(double[] dice, double[] hd95) {

    public CaseMetrics {
        dice = dice.clone();
        hd95 = hd95.clone();
    }

    /** Metrics of an {@code nx × ny × nz} prediction (x fastest) against its reference, {@code spacing} in mm. */
    public static CaseMetrics of(byte[] predictionLabels, byte[] referenceLabels, int nx, int ny, int nz, double[] spacing) {
        Region[] regions = Region.values();
        double[] dice = new double[regions.length], hd = new double[regions.length];
        for (int r = 0; r < regions.length; r++) {
            boolean[] p = regions[r].mask(predictionLabels), q = regions[r].mask(referenceLabels);
            dice[r] = RegionDice.dice(p, q);
            hd[r] = SurfaceDistance.hd95(p, q, nx, ny, nz, spacing);
        }
        return new CaseMetrics(dice, hd);
    }

    /** Dice of one region. */
    public double dice(Region r) {
        return dice[r.ordinal()];
    }

    /** HD95 (mm) of one region. */
    public double hd95(Region r) {
        return hd95[r.ordinal()];
    }

    @Override
    public double[] dice() {
        return dice.clone();
    }

    @Override
    public double[] hd95() {
        return hd95.clone();
    }
}
