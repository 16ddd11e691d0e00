package org.cloe4j.backend;

import static org.cloe4j.backend.GradCheck.uniform;

import java.util.Random;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * adamStep over several steps against a double reference of torch.optim.Adam (PyTorch 2.x, single-tensor path):
 * <pre>
 *   g  = grad + wd·p                      (weight decay as L2, added to the gradient: Adam, not AdamW)
 *   m  = b1·m + (1 − b1)·g
 *   v  = b2·v + (1 − b2)·g²
 *   vmax = max(vmax, v)                   (amsgrad; without it vmax is not used and the denominator uses v)
 *   p −= lr / (1 − b1^t) · m / (sqrt(vmax) / sqrt(1 − b2^t) + eps)
 * </pre>
 * adamStep is not differentiable, so it is compared directly: parameters and all optimiser state after each step.
 */
class AdamStepTest {
    private static final Shape SHAPE = Shape.ncdhw(3, 2, 3, 5, 7); // 630 elements: vector body and scalar tail

    @ParameterizedTest(name = "amsgrad={0}")
    @ValueSource(booleans = {true, false})
    void adamStepFollowsPyTorchAdamOverSeveralSteps(boolean amsgrad) {
        AdamConfig cfg = new AdamConfig(0.9f, 0.999f, 1e-8f, 1e-2f, amsgrad); // large wd so the L2 term matters
        Backend be = GradCheck.backend();
        Random rnd = new Random(amsgrad ? 101 : 102);
        int n = SHAPE.intSize();
        float[] p0 = uniform(rnd, SHAPE, -1, 1);
        Tensor p = be.fromHost(SHAPE, p0);
        Tensor m = be.zeros(SHAPE), v = be.zeros(SHAPE), vmax = be.zeros(SHAPE);
        double[] rp = GradCheck.toDouble(p0), rm = new double[n], rv = new double[n], rvmax = new double[n];
        // the reference uses the very hyper-parameters the backend receives (float values, widened to double)
        double b1 = cfg.beta1(), b2 = cfg.beta2(), eps = cfg.eps(), wd = cfg.weightDecay();
        for (int t = 1; t <= 6; t++) {
            float lr = 1e-2f / t;
            // gradients that shrink at some steps, so vmax differs from v with amsgrad
            float[] g = uniform(rnd, SHAPE, -1, 1);
            double gscale = t % 2 == 0 ? 0.1 : 1.0;
            for (int i = 0; i < n; i++) g[i] *= (float) gscale;
            be.adamStep(p, be.fromHost(SHAPE, g), m, v, vmax, lr, t, cfg);

            double bc1 = 1 - Math.pow(b1, t), bc2 = 1 - Math.pow(b2, t);
            for (int i = 0; i < n; i++) {
                double gi = g[i] + wd * rp[i];
                rm[i] = b1 * rm[i] + (1 - b1) * gi;
                rv[i] = b2 * rv[i] + (1 - b2) * gi * gi;
                rvmax[i] = Math.max(rvmax[i], rv[i]);
                double second = amsgrad ? rvmax[i] : rv[i];
                rp[i] -= (double) lr / bc1 * rm[i] / (Math.sqrt(second) / Math.sqrt(bc2) + eps);
            }
            String step = "adamStep amsgrad=" + amsgrad + " after step " + t;
            // parameters move by ~lr per step; float32 state and arithmetic cost ~1e-7 relative per step
            compare(step + ": param", be.toHost(p), rp, 1e-6, 1e-6);
            compare(step + ": m", be.toHost(m), rm, 1e-8, 1e-5);
            compare(step + ": v", be.toHost(v), rv, 1e-10, 1e-5);
            if (amsgrad) compare(step + ": vmax", be.toHost(vmax), rvmax, 1e-10, 1e-5);
        }
    }

    private static void compare(String what, float[] got, double[] ref, double atol, double rtol) {
        int worst = -1;
        double worstExcess = 0;
        int bad = 0;
        for (int i = 0; i < ref.length; i++) {
            double excess = Math.abs(got[i] - ref[i]) - (atol + rtol * Math.abs(ref[i]));
            if (!(excess <= 0)) {
                bad++;
                if (worst < 0 || !(excess <= worstExcess)) {
                    worst = i;
                    worstExcess = excess;
                }
            }
        }
        if (bad > 0) {
            throw new AssertionError(String.format("%s differs from the double PyTorch reference in %d of %d elements; "
                            + "worst at %s: backend %.9g, reference %.9g (atol %.1g, rtol %.1g)", what, bad, ref.length,
                    GradCheck.index(SHAPE, worst), got[worst], ref[worst], atol, rtol));
        }
    }
}
