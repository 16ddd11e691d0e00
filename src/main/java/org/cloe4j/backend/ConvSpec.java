package org.cloe4j.backend;

import org.cloe4j.tensor.Shape;

/**
 * The geometry of a 3D convolution: cubic kernel {@code k} (1 or 3), {@code stride} (1 or 2), symmetric
 * {@code pad} (0 or 1) filled with zeros or by reflection (PyTorch's {@code padding_mode='reflect'}).
 */
public record ConvSpec(int k, int stride, int pad, Padding padding) {
    /** How the border is extended. */
    public enum Padding { ZERO, REFLECT }

    public ConvSpec {
        if (k != 1 && k != 3) throw new IllegalArgumentException("conv3d: kernel size must be 1 or 3, got " + k);
        if (stride != 1 && stride != 2) throw new IllegalArgumentException("conv3d: stride must be 1 or 2, got " + stride);
        if (pad < 0 || pad > 1) throw new IllegalArgumentException("conv3d: padding must be 0 or 1, got " + pad);
        if (padding == null) throw new IllegalArgumentException("conv3d: padding mode missing");
    }

    /** 3³ kernel, stride 1, reflect padding 1: the block conv of CLoE. */
    public static ConvSpec same3(Padding padding) {
        return new ConvSpec(3, 1, 1, padding);
    }

    /** 3³ kernel, stride 2: the encoder's down-sampling conv. */
    public static ConvSpec down3(Padding padding) {
        return new ConvSpec(3, 2, 1, padding);
    }

    /** 1³ kernel, no padding. */
    public static ConvSpec pointwise() {
        return new ConvSpec(1, 1, 0, Padding.ZERO);
    }

    public int outSize(int in) {
        return (in + 2 * pad - k) / stride + 1;
    }

    /** Output shape for input {@code x} [N,Ci,D,H,W] and weight [Co,Ci,k,k,k]; throws naming the shapes on mismatch. */
    public Shape outputShape(Shape x, Shape w) {
        if (x.rank() != 5 || w.rank() != 5) {
            throw new IllegalArgumentException("conv3d: input " + x + " and weight " + w + " must both have rank 5");
        }
        if (w.dim(1) != x.c() || w.dim(2) != k || w.dim(3) != k || w.dim(4) != k) {
            throw new IllegalArgumentException("conv3d: weight " + w + " does not fit input " + x + " with kernel " + k);
        }
        for (int i = 2; i < 5; i++) {
            int s = x.dim(i);
            if (s + 2 * pad < k) throw new IllegalArgumentException("conv3d: input " + x + " is smaller than kernel " + k);
            if (padding == Padding.REFLECT && pad > 0 && s < 2) {
                throw new IllegalArgumentException("conv3d: reflect padding needs every spatial size >= 2, input " + x);
            }
        }
        return Shape.ncdhw(x.n(), w.dim(0), outSize(x.d()), outSize(x.h()), outSize(x.w()));
    }
}
