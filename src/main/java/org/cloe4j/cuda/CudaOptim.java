package org.cloe4j.cuda;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.tensor.Tensor;

import static org.cloe4j.backend.ShapeChecks.sameShape;
import static org.cloe4j.cuda.CudaBackend.n;
import static org.cloe4j.cuda.CudaBackend.p;

/** The CUDA backend's optim family: Adam ({@code kernels/optim.cu}), mirroring {@code CpuOptim}. */
final class CudaOptim {
    private final CudaBackend be;

    CudaOptim(CudaBackend be) {
        this.be = be;
    }

    void adamStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor vmax, float lr, int t, AdamConfig cfg) {
        be.ready();
        String op = "adamStep";
        sameShape(op, param, grad);
        sameShape(op, param, m);
        sameShape(op, param, v);
        if (cfg.amsgrad()) {
            if (vmax == null) throw new IllegalArgumentException(op + ": amsgrad needs vmax");
            sameShape(op, param, vmax);
        }
        if (t < 1) throw new IllegalArgumentException(op + ": step t is 1-based, got " + t);
        double bc1 = 1 - Math.pow(cfg.beta1(), t), bc2 = 1 - Math.pow(cfg.beta2(), t);
        int n = n(param, op);
        be.kern().cloe_adam_step(be.g1(n), p(param, op), p(grad, op), p(m, op), p(v, op), cfg.amsgrad() ? p(vmax, op) : 0L, lr, cfg.beta1(), cfg.beta2(), cfg.eps(), cfg.weightDecay(), (float) bc1, (float) Math.sqrt(bc2), cfg.amsgrad() ? 1 : 0, n);
    }
}
