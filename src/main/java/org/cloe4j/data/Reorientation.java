package org.cloe4j.data;

import java.util.Arrays;

/**
 * An exact change of voxel order, an axis permutation and flips, that turns an image of orientation {@code from}
 * into the same image in orientation {@code to}: no value is interpolated, each voxel is moved. Output axis t is
 * input axis {@link #inputAxis}[t], reversed when {@link #flipped}[t]. {@link #affine} gives the output's
 * voxel-to-world affine, so that every voxel keeps its world position; {@link #inverse} undoes it.
 *
 * <p>Dims are {@code {nx, ny, nz}} (voxel axes i, j, k) and arrays are in file order, i fastest.
 */
public final class Reorientation {
    private final int[] inDims;
    private final int[] inputAxis;
    private final boolean[] flipped;

    private Reorientation(int[] inDims, int[] inputAxis, boolean[] flipped) {
        this.inDims = inDims.clone();
        this.inputAxis = inputAxis.clone();
        this.flipped = flipped.clone();
    }

    /** The reordering of an image of {@code inDims} voxels in orientation {@code from} into orientation {@code to}. */
    public static Reorientation between(Orientation from, Orientation to, int[] inDims) {
        int[] fw = from.worldAxis(), tw = to.worldAxis();
        boolean[] fp = from.positive(), tp = to.positive();
        int[] axis = new int[3];
        boolean[] flip = new boolean[3];
        for (int t = 0; t < 3; t++) {
            for (int k = 0; k < 3; k++) {
                if (fw[k] == tw[t]) {
                    axis[t] = k;
                    flip[t] = fp[k] != tp[t];
                }
            }
        }
        return new Reorientation(inDims, axis, flip);
    }

    /** Whether it moves nothing. */
    public boolean isIdentity() {
        for (int t = 0; t < 3; t++) if (inputAxis[t] != t || flipped[t]) return false;
        return true;
    }

    public int[] inputDims() {
        return inDims.clone();
    }

    /** Dims of the reoriented image. */
    public int[] outputDims() {
        return new int[] {inDims[inputAxis[0]], inDims[inputAxis[1]], inDims[inputAxis[2]]};
    }

    /** The reordering back: from this one's output to its input. */
    public Reorientation inverse() {
        int[] axis = new int[3];
        boolean[] flip = new boolean[3];
        for (int t = 0; t < 3; t++) {
            axis[inputAxis[t]] = t;
            flip[inputAxis[t]] = flipped[t];
        }
        return new Reorientation(outputDims(), axis, flip);
    }

    /** The values of an input-ordered array ({@code nx·ny·nz}) in output order. */
    public float[] apply(float[] in) {
        if (in.length != (long) inDims[0] * inDims[1] * inDims[2]) {
            throw new IllegalArgumentException("array has " + in.length + " values, dims " + Arrays.toString(inDims));
        }
        int[] out = outputDims();
        int[] stride = {1, inDims[0], inDims[0] * inDims[1]};
        // for each output axis: step in the input array and the input offset of output index 0
        long[] step = new long[3];
        long base = 0;
        for (int t = 0; t < 3; t++) {
            int k = inputAxis[t];
            step[t] = flipped[t] ? -stride[k] : stride[k];
            if (flipped[t]) base += (long) (inDims[k] - 1) * stride[k];
        }
        float[] result = new float[in.length];
        int o = 0;
        for (int z = 0; z < out[2]; z++) {
            for (int y = 0; y < out[1]; y++) {
                long p = base + z * step[2] + y * step[1];
                for (int x = 0; x < out[0]; x++, o++, p += step[0]) result[o] = in[(int) p];
            }
        }
        return result;
    }

    /** The output's voxel-to-world affine (12 numbers) for an input affine, every voxel keeping its world position. */
    public double[] affine(double[] in) {
        double[] out = new double[12];
        for (int r = 0; r < 3; r++) {
            double t = in[r * 4 + 3];
            for (int a = 0; a < 3; a++) {
                int k = inputAxis[a];
                double col = in[r * 4 + k];
                out[r * 4 + a] = flipped[a] ? -col : col;
                if (flipped[a]) t += col * (inDims[k] - 1);
            }
            out[r * 4 + 3] = t;
        }
        return out;
    }
}
