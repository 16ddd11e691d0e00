package org.cloe4j.eval;

import java.util.List;

import org.cloe4j.data.LabelScheme;

/**
 * The regions a cohort is scored on, as sets of model classes: BraTS's WT, TC, ET (classes 1 NCR, 2 ED, 3 ET), or
 * one region per foreground class for other schemes (prostate: PZ, TZ).
 */
record EvalRegions(List<String> names, List<int[]> classes, boolean brats) {

    static EvalRegions of(LabelScheme scheme) {
        return switch (scheme) {
            case BRATS, BRATS_2023, MSD_BRAIN_TUMOUR -> new EvalRegions(List.of("WT", "TC", "ET"),
                    List.of(new int[]{1, 2, 3}, new int[]{1, 3}, new int[]{3}), true);
            case MSD_PROSTATE -> new EvalRegions(List.of("PZ", "TZ"), List.of(new int[]{1}, new int[]{2}), false);
        };
    }

    boolean[] mask(byte[] classMap, int region) {
        int[] set = classes.get(region);
        boolean[] m = new boolean[classMap.length];
        for (int i = 0; i < m.length; i++) {
            for (int c : set) {
                if (classMap[i] == c) {
                    m[i] = true;
                    break;
                }
            }
        }
        return m;
    }
}
