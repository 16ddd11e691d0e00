package org.cloe4j.train;

/** The poly learning-rate schedule lr·(1 − epoch/epochs)^power (power 0.9 in CLoE and RFNet). */
public record PolySchedule(float baseLr, int epochs, double power) {
    public PolySchedule {
        if (epochs <= 0) throw new IllegalArgumentException("epochs must be positive, got " + epochs);
    }

    public static PolySchedule of(float baseLr, int epochs) {
        return new PolySchedule(baseLr, epochs, 0.9);
    }

    /** The learning rate during {@code epoch} (0-based). */
    public float lr(int epoch) {
        return (float) (baseLr * Math.pow(1.0 - (double) Math.min(epoch, epochs) / epochs, power));
    }
}
