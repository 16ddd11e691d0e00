package org.cloe4j.cuda;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.backend.ShapeChecks.shape;
import static org.cloe4j.cuda.CudaBackend.BLOCK;
import static org.cloe4j.cuda.CudaBackend.n;
import static org.cloe4j.cuda.CudaBackend.p;
import static org.cloe4j.cuda.CudaBackend.spatialOf;

/**
 * The CUDA backend's loss family ({@code kernels/loss.cu}), mirroring {@code CpuLoss}: weighted cross-entropy (class
 * weights under a floor) and soft Dice (with smoothing) (per-map sums split over blocks, a fixed-order column reduction, a one-thread finish) and binary
 * cross-entropy. No loss op reads its value back: a NaN reaches the loss and the trainer checks it.
 */
final class CudaLoss {
    private final CudaBackend be;

    CudaLoss(CudaBackend be) {
        this.be = be;
    }

    private static void lossShapes(String op, Tensor p, Tensor target, Tensor loss) {
        sameShape(op, p, target);
        if (p.shape().rank() < 2) throw new IllegalArgumentException(op + ": expected [N,C,...], got " + p.shape());
        shape(op, "loss", loss, Shape.scalar());
    }

    /** Per-(n, c) map sums [nc * k] of the loss (mode 0: cross-entropy, 1: Dice) into scratch the caller frees. */
    private long mapSums(String op, Tensor p, Tensor t, int mode) {
        Shape s = p.shape();
        int nc = s.n() * s.c(), sp = spatialOf(s), kk = mode == 0 ? 2 : 3;
        int splits = be.splitsPerMap(nc, sp);
        long partials = be.scratch((long) splits * nc * kk, op + " partials");
        long sums = be.scratch((long) nc * kk, op + " sums");
        try {
            be.kern().cloe_loss_map_sums(new Grid(splits, nc, 1, BLOCK), p(p, op), p(t, op), partials, nc, sp, mode);
            be.kern().cloe_reduce_columns(Grid.of(Math.min(nc * kk, 65535), BLOCK), partials, splits, nc * kk, sums, 1f);
        } finally {
            be.free(partials);
        }
        return sums;
    }

    private static void lossParameter(String op, String name, float v) {
        if (!(v >= 0f) || Float.isInfinite(v)) throw new IllegalArgumentException(op + ": " + name + " must be finite and >= 0, got " + v);
    }

    void weightedCrossEntropy(Tensor p, Tensor target, float floor, Tensor loss) {
        be.ready();
        String op = "weightedCrossEntropy";
        lossShapes(op, p, target, loss);
        lossParameter(op, "class-weight floor", floor);
        long sums = mapSums(op, p, target, 0);
        try {
            be.kern().cloe_wce_finish(Grid.of(1, 1), sums, p(loss, op), p.shape().n(), p.shape().c(), spatialOf(p.shape()), floor);
        } finally {
            be.free(sums);
        }
    }

    void weightedCrossEntropyBackward(Tensor p, Tensor target, float floor, Tensor gloss, Tensor gp) {
        be.ready();
        String op = "weightedCrossEntropyBackward";
        lossShapes(op, p, target, gloss);
        lossParameter(op, "class-weight floor", floor);
        sameShape(op, p, gp);
        long sums = mapSums(op, p, target, 0);
        try {
            be.kern().cloe_wce_bwd(be.g1(p.shape().size()), p(p, op), p(target, op), sums, p(gloss, op), p(gp, op), p.shape().n(), p.shape().c(), spatialOf(p.shape()), floor);
        } finally {
            be.free(sums);
        }
    }

    void softDice(Tensor p, Tensor target, float smooth, Tensor loss) {
        be.ready();
        String op = "softDice";
        lossShapes(op, p, target, loss);
        lossParameter(op, "smoothing", smooth);
        long sums = mapSums(op, p, target, 1);
        try {
            be.kern().cloe_dice_finish(Grid.of(1, 1), sums, p(loss, op), p.shape().n(), p.shape().c(), smooth);
        } finally {
            be.free(sums);
        }
    }

    void softDiceBackward(Tensor p, Tensor target, float smooth, Tensor gloss, Tensor gp) {
        be.ready();
        String op = "softDiceBackward";
        lossShapes(op, p, target, gloss);
        lossParameter(op, "smoothing", smooth);
        sameShape(op, p, gp);
        long sums = mapSums(op, p, target, 1);
        try {
            be.kern().cloe_dice_bwd(be.g1(p.shape().size()), p(p, op), p(target, op), sums, p(gloss, op), p(gp, op), p.shape().n(), p.shape().c(), spatialOf(p.shape()), smooth);
        } finally {
            be.free(sums);
        }
    }

    void binaryCrossEntropy(Tensor p, Tensor target, Tensor loss) {
        be.ready();
        String op = "binaryCrossEntropy";
        sameShape(op, p, target);
        shape(op, "loss", loss, Shape.scalar());
        int n = n(p, op), blocks = be.grid(n);
        long partials = be.scratch(blocks, op + " partials");
        try {
            be.kern().cloe_bce_partials(Grid.of(blocks, BLOCK), p(p, op), p(target, op), partials, n);
            be.kern().cloe_reduce_columns(Grid.of(1, BLOCK), partials, blocks, 1, p(loss, op), 1f / n);
        } finally {
            be.free(partials);
        }
    }

    void binaryCrossEntropyBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        be.ready();
        String op = "binaryCrossEntropyBackward";
        sameShape(op, p, target);
        sameShape(op, p, gp);
        shape(op, "gloss", gloss, Shape.scalar());
        int n = n(p, op);
        be.kern().cloe_bce_bwd(be.g1(n), p(p, op), p(target, op), p(gloss, op), p(gp, op), n);
    }
}
