package org.cloe4j.data;

/**
 * How the label values stored in a cohort's segmentation files map to the model's classes 0..C-1, and back to the
 * values written in predicted label maps.
 * <ul>
 * <li>{@link #BRATS}: files hold 0 background, 1 NCR, 2 ED, 4 ET; classes 0, 1, 2, 3 (4 → 3); written back as 0/1/2/4.
 * <li>{@link #BRATS_2023}: BraTS 2023–2024 files hold 0 background, 1 NETC, 2 SNFH, 3 ET (the same sub-regions as
 *     NCR, ED, ET before); classes 0, 1, 2, 3 as they are; written back as 0/1/2/3. Label 4, the resection cavity of
 *     BraTS 2024's post-treatment gliomas, is not tumour and is read as background.
 * <li>{@link #MSD_BRAIN_TUMOUR}: MSD Task01 files hold 1 oedema, 2 non-enhancing tumour, 3 enhancing tumour, which
 *     are BraTS labels 2, 1, 4, so classes 2, 1, 3; predictions are written in BraTS labels 0/1/2/4.
 * <li>{@link #MSD_PROSTATE}: MSD Task05 files hold 1 peripheral zone, 2 transition zone; classes 0, 1, 2 as they are.
 * </ul>
 */
public enum LabelScheme {
    BRATS(new int[] {0, 1, 2, -1, 3}, new int[] {0, 1, 2, 4}),
    BRATS_2023(new int[] {0, 1, 2, 3, 0}, new int[] {0, 1, 2, 3}),
    MSD_BRAIN_TUMOUR(new int[] {0, 2, 1, 3}, new int[] {0, 1, 2, 4}),
    MSD_PROSTATE(new int[] {0, 1, 2}, new int[] {0, 1, 2});

    private final int[] fileToClass;
    private final int[] classToOutput;

    LabelScheme(int[] fileToClass, int[] classToOutput) {
        this.fileToClass = fileToClass;
        this.classToOutput = classToOutput;
    }

    /** Number of classes the model predicts, background included. */
    public int classes() {
        return classToOutput.length;
    }

    /** The class of a label value read from a file, or -1 when the value is not part of this scheme. */
    public int classOf(float fileLabel) {
        int v = (int) fileLabel;
        if (v != fileLabel || v < 0 || v >= fileToClass.length) return -1;
        return fileToClass[v];
    }

    /** The label value written for class {@code c} (BraTS labels 0/1/2/4 for the brain schemes). */
    public int outputLabel(int c) {
        return classToOutput[c];
    }

    /**
     * A label map holding this scheme's output labels rewritten in {@code to}'s output labels, class by class (e.g.
     * {@link #BRATS} to {@link #BRATS_2023}: ET 4 becomes 3); both must have the same number of classes.
     */
    public Volume relabel(Volume labels, LabelScheme to) {
        if (to.classes() != classes()) throw new IllegalArgumentException(this + " and " + to + " have different classes");
        if (to == this) return labels;
        float[] v = labels.data().clone();
        for (int i = 0; i < v.length; i++) {
            int c = -1;
            for (int k = 0; k < classToOutput.length; k++) if (classToOutput[k] == v[i]) c = k;
            if (c < 0) throw new IllegalArgumentException("label " + v[i] + " is not an output label of " + this);
            v[i] = to.outputLabel(c);
        }
        return labels.withData(v);
    }

    /** The label values files may hold, for error messages. */
    String allowedFileLabels() {
        StringBuilder sb = new StringBuilder("{");
        for (int v = 0; v < fileToClass.length; v++) {
            if (fileToClass[v] >= 0) sb.append(sb.length() > 1 ? ", " : "").append(v);
        }
        return sb.append('}').toString();
    }

    /**
     * Converts a label volume read from {@code file} to classes, refusing any value outside the scheme with a
     * {@link DataException} naming the file, the value and the voxel.
     */
    public byte[] toClasses(Volume labels) {
        float[] v = labels.data();
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            int c = classOf(v[i]);
            if (c < 0) {
                int nx = labels.nx(), ny = labels.ny();
                throw new DataException(labels.source(), "label " + v[i] + " at voxel (" + i % nx + ", " + (i / nx) % ny
                        + ", " + i / (nx * ny) + ") is not one of " + allowedFileLabels());
            }
            out[i] = (byte) c;
        }
        return out;
    }
}
