/**
 * Segmentation metrics with BraTS conventions: {@link org.cloe4j.eval.RegionDice} (WT, TC, ET Dice) and
 * {@link org.cloe4j.eval.SurfaceDistance} (HD95 in mm from an exact Euclidean distance transform). Inputs are label
 * maps in BraTS labels (0, 1, 2, 4), or boolean masks.
 */
package org.cloe4j.eval;
