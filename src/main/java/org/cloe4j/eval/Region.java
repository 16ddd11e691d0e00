package org.cloe4j.eval;

/**
 * The BraTS evaluation regions, as sets of BraTS labels (0 background, 1 NCR, 2 ED, 4 ET):
 * whole tumour WT = {1, 2, 4}, tumour core TC = {1, 4}, enhancing tumour ET = {4}.
 */
public enum Region {
    WT(1, 2, 4),
    TC(1, 4),
    ET(4);

    private final int[] labels;

    Region(int... labels) {
        this.labels = labels;
    }

    /** Whether BraTS label {@code label} belongs to this region. */
    public boolean contains(int label) {
        for (int l : labels) if (l == label) return true;
        return false;
    }

    /** The region's voxels in a map of BraTS labels (0/1/2/4). */
    public boolean[] mask(byte[] bratsLabels) {
        boolean[] m = new boolean[bratsLabels.length];
        for (int i = 0; i < m.length; i++) m[i] = contains(bratsLabels[i]);
        return m;
    }
}
