package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * The segmentation losses of CLoE (cross-entropy with RFNet's class weights under a floor, soft Dice with a smoothing
 * term) and the region map's BCE. Floor 0 and smoothing 0 are RFNet's loss exactly (docs/MODEL.md, Loss).
 */
final class CpuLoss {
    static final float CLAMP_MIN = 0.005f;
    static final double DICE_EPS = 1e-7;

    private CpuLoss() {
    }

    private static void check(String op, Tensor p, Tensor target, Tensor loss) {
        ShapeChecks.volume(op, p);
        ShapeChecks.sameShape(op, p, target);
        if (loss != null) ShapeChecks.scalar(op, loss);
    }

    /** w[n][c] = max(1 − (voxels of class c in sample n) / (voxels), floor). */
    private static double[][] classWeights(Tensor target, float floor) {
        Shape s = target.shape();
        int c = s.c();
        int sp = s.spatialSize();
        float[] t = target.data();
        double[][] w = new double[s.n()][c];
        for (int n = 0; n < s.n(); n++) {
            for (int k = 0; k < c; k++) {
                int base = (n * c + k) * sp;
                double cnt = CpuReduce.blocks(sp, 1, (lo, hi, acc) -> {
                    double a = 0;
                    for (int i = lo; i < hi; i++) a += t[base + i];
                    acc[0] = a;
                })[0];
                w[n][k] = Math.max(1.0 - cnt / sp, floor);
            }
        }
        return w;
    }

    private static void checkParameter(String op, String name, float v) {
        if (!(v >= 0f) || Float.isInfinite(v)) throw new IllegalArgumentException(op + ": " + name + " must be finite and >= 0, got " + v);
    }

    static void weightedCrossEntropy(Tensor p, Tensor target, float floor, Tensor loss) {
        check("weightedCrossEntropy", p, target, loss);
        checkParameter("weightedCrossEntropy", "class-weight floor", floor);
        Shape s = p.shape();
        int c = s.c();
        int sp = s.spatialSize();
        double[][] w = classWeights(target, floor);
        float[] pv = p.data();
        float[] tv = target.data();
        double sum = 0;
        for (int n = 0; n < s.n(); n++) {
            for (int k = 0; k < c; k++) {
                int base = (n * c + k) * sp;
                double wk = w[n][k];
                sum += CpuReduce.blocks(sp, 1, (lo, hi, acc) -> {
                    double a = 0;
                    for (int i = lo; i < hi; i++) {
                        float y = tv[base + i];
                        float pi = pv[base + i];
                        if (y != 0) a -= y * Math.log(Math.min(1f, Math.max(CLAMP_MIN, pi)));
                        // PyTorch's 0·log(NaN) is NaN too: a NaN prediction must reach the loss (the trainer checks it)
                        else if (Float.isNaN(pi)) a = Double.NaN;
                    }
                    acc[0] = a;
                })[0] * wk;
            }
        }
        loss.data()[0] = (float) (sum / ((double) s.n() * sp));
    }

    static void weightedCrossEntropyBackward(Tensor p, Tensor target, float floor, Tensor gloss, Tensor gp) {
        check("weightedCrossEntropy backward", p, target, gloss);
        checkParameter("weightedCrossEntropy backward", "class-weight floor", floor);
        ShapeChecks.sameShape("weightedCrossEntropy backward", p, gp);
        Shape s = p.shape();
        int c = s.c();
        int sp = s.spatialSize();
        double[][] w = classWeights(target, floor);
        float scale = (float) (gloss.data()[0] / ((double) s.n() * sp));
        float[] pv = p.data();
        float[] tv = target.data();
        float[] g = gp.data();
        for (int n = 0; n < s.n(); n++) {
            for (int k = 0; k < c; k++) {
                int base = (n * c + k) * sp;
                float f = (float) (-w[n][k]) * scale;
                Parallel.forRange(sp, CpuElementwise.GRAIN, (lo, hi) -> {
                    for (int i = lo; i < hi; i++) {
                        float pi = pv[base + i];
                        // clamp passes the gradient only inside [0.005, 1], as torch.clamp does
                        g[base + i] = pi >= CLAMP_MIN && pi <= 1f ? f * tv[base + i] / pi : 0f;
                    }
                });
            }
        }
    }

    /** Per class: {Σ p y, Σ p, Σ y} over samples and voxels. */
    private static double[][] diceSums(Tensor p, Tensor target) {
        Shape s = p.shape();
        int c = s.c();
        int sp = s.spatialSize();
        float[] pv = p.data();
        float[] tv = target.data();
        double[][] sums = new double[c][3];
        for (int k = 0; k < c; k++) {
            for (int n = 0; n < s.n(); n++) {
                int base = (n * c + k) * sp;
                double[] r = CpuReduce.blocks(sp, 3, (lo, hi, acc) -> {
                    double i0 = 0, i1 = 0, i2 = 0;
                    for (int i = lo; i < hi; i++) {
                        float a = pv[base + i];
                        float b = tv[base + i];
                        i0 += a * b;
                        i1 += a;
                        i2 += b;
                    }
                    acc[0] = i0;
                    acc[1] = i1;
                    acc[2] = i2;
                });
                for (int j = 0; j < 3; j++) sums[k][j] += r[j];
            }
        }
        return sums;
    }

    /** 1 − (1/C) Σ_c (2 Σ p_c y_c + s) / (Σ p_c + Σ y_c + s + 1e-7), sums over samples and voxels. */
    static void softDice(Tensor p, Tensor target, float smooth, Tensor loss) {
        check("softDice", p, target, loss);
        checkParameter("softDice", "smoothing", smooth);
        double[][] sums = diceSums(p, target);
        double mean = 0;
        for (double[] k : sums) mean += (2 * k[0] + smooth) / (k[1] + k[2] + smooth + DICE_EPS);
        loss.data()[0] = (float) (1.0 - mean / sums.length);
    }

    static void softDiceBackward(Tensor p, Tensor target, float smooth, Tensor gloss, Tensor gp) {
        check("softDice backward", p, target, gloss);
        checkParameter("softDice backward", "smoothing", smooth);
        ShapeChecks.sameShape("softDice backward", p, gp);
        Shape s = p.shape();
        int c = s.c();
        int sp = s.spatialSize();
        double[][] sums = diceSums(p, target);
        float[] tv = target.data();
        float[] g = gp.data();
        double gl = gloss.data()[0];
        for (int k = 0; k < c; k++) {
            double den = sums[k][1] + sums[k][2] + smooth + DICE_EPS;
            // d/dp of −(1/C)·(2I + s)/den = −(1/C)·(2y·den − (2I + s))/den²
            float a = (float) (-gl / c * 2 / den);
            float b = (float) (gl / c * (2 * sums[k][0] + smooth) / (den * den));
            for (int n = 0; n < s.n(); n++) {
                int base = (n * c + k) * sp;
                Parallel.forRange(sp, CpuElementwise.GRAIN, (lo, hi) -> {
                    for (int i = lo; i < hi; i++) g[base + i] = a * tv[base + i] + b;
                });
            }
        }
    }

    static void binaryCrossEntropy(Tensor p, Tensor target, Tensor loss) {
        ShapeChecks.sameShape("binaryCrossEntropy", p, target);
        ShapeChecks.scalar("binaryCrossEntropy", loss);
        float[] pv = p.data();
        float[] tv = target.data();
        double sum = CpuReduce.blocks(pv.length, 1, (lo, hi, acc) -> {
            double a = 0;
            for (int i = lo; i < hi; i++) {
                double lp = Math.max(-100.0, Math.log(pv[i]));
                double lq = Math.max(-100.0, Math.log(1.0 - pv[i]));
                a -= tv[i] * lp + (1 - tv[i]) * lq;
            }
            acc[0] = a;
        })[0];
        loss.data()[0] = (float) (sum / pv.length);
    }

    static void binaryCrossEntropyBackward(Tensor p, Tensor target, Tensor gloss, Tensor gp) {
        ShapeChecks.sameShape("binaryCrossEntropy backward", p, target);
        ShapeChecks.sameShape("binaryCrossEntropy backward", p, gp);
        ShapeChecks.scalar("binaryCrossEntropy backward", gloss);
        float[] pv = p.data();
        float[] tv = target.data();
        float[] g = gp.data();
        float scale = gloss.data()[0] / pv.length;
        Parallel.forRange(pv.length, CpuElementwise.GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                // PyTorch: (p − t) / max(p(1 − p), 1e-12)
                double den = Math.max((double) pv[i] * (1.0 - pv[i]), 1e-12);
                g[i] = (float) (scale * (pv[i] - tv[i]) / den);
            }
        });
    }
}
