package org.cloe4j.data;

import java.util.List;

/**
 * A case ready for the model: modalities stacked channel-first and cropped to the brain box, each channel z-scored
 * over the brain mask, labels as classes 0..C-1 (BraTS: 0 background, 1 NCR, 2 ED, 3 ET).
 * {@code image} is {@code channels × depth × height × width} with width fastest (D = z, H = y, W = x of the files).
 *
 * @param id         case id
 * @param modalities channel order (all of the cohort's modalities, present or not)
 * @param available  for each channel, whether the modality was given; a missing one is all zeros
 * @param image      normalised voxels, {@code C·D·H·W}
 * @param labels     classes per voxel ({@code D·H·W}), or null for an unlabelled case
 * @param depth      D (z)
 * @param height     H (y)
 * @param width      W (x)
 * @param crop       where the crop sits in the original volume
 * @param geometry   header of the original volume (its dims and geometry), to write results back
 * @param scheme     label scheme, to turn classes back into file labels
 */
public record PreparedCase(String id, List<Modality> modalities, boolean[] available, float[] image, byte[] labels,
                           int depth, int height, int width, CropBox crop, NiftiHeader geometry, LabelScheme scheme) {

    public PreparedCase {
        modalities = List.copyOf(modalities);
        int n = depth * height * width;
        if (available.length != modalities.size()) throw new IllegalArgumentException("one availability flag per modality");
        if (image.length != (long) modalities.size() * n) {
            throw new IllegalArgumentException("image has " + image.length + " values, expected " + modalities.size() + "×" + n);
        }
        if (labels != null && labels.length != n) throw new IllegalArgumentException("labels have " + labels.length + " values, expected " + n);
        if (crop.nz() != depth || crop.ny() != height || crop.nx() != width) throw new IllegalArgumentException("crop box and dims differ");
    }

    /** Number of channels (modalities). */
    public int channels() {
        return modalities.size();
    }

    /** Voxels per channel, D·H·W. */
    public int voxels() {
        return depth * height * width;
    }

    /** Shape as (C, D, H, W). */
    public int[] shape() {
        return new int[] {channels(), depth, height, width};
    }

    /** Whether labels are known. */
    public boolean hasLabels() {
        return labels != null;
    }
}
