package org.cloe4j.backend.cpu;

import org.cloe4j.backend.ShapeChecks;
import org.cloe4j.backend.AdamConfig;
import org.cloe4j.tensor.Tensor;

/** Adam with PyTorch's semantics (L2 weight decay added to the gradient, optional amsgrad). */
final class CpuOptim {
    private CpuOptim() {
    }

    static void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor vmax, float lr, int t, AdamConfig cfg) {
        ShapeChecks.sameShape("adamStep", param, grad);
        ShapeChecks.sameShape("adamStep", param, m);
        ShapeChecks.sameShape("adamStep", param, v);
        if (cfg.amsgrad()) {
            if (vmax == null) throw new IllegalArgumentException("adamStep: amsgrad needs the vmax state, got null");
            ShapeChecks.sameShape("adamStep", param, vmax);
        }
        if (t < 1) throw new IllegalArgumentException("adamStep: step must start at 1, got " + t);
        float[] p = param.data();
        float[] g = grad.data();
        float[] mv = m.data();
        float[] vv = v.data();
        float[] vm = cfg.amsgrad() ? vmax.data() : null;
        float b1 = cfg.beta1();
        float b2 = cfg.beta2();
        double bc1 = 1 - Math.pow(b1, t);
        double sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t));
        float stepSize = (float) (lr / bc1);
        float eps = cfg.eps();
        float wd = cfg.weightDecay();
        Parallel.forRange(p.length, CpuElementwise.GRAIN, (lo, hi) -> {
            for (int i = lo; i < hi; i++) {
                float gi = g[i] + wd * p[i];
                mv[i] = b1 * mv[i] + (1 - b1) * gi;
                vv[i] = b2 * vv[i] + (1 - b2) * gi * gi;
                float second = vv[i];
                if (vm != null) {
                    vm[i] = Math.max(vm[i], vv[i]);
                    second = vm[i];
                }
                float denom = (float) (Math.sqrt(second) / sqrtBc2) + eps;
                p[i] -= stepSize * mv[i] / denom;
            }
        });
    }
}
