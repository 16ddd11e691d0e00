// Adam with PyTorch's semantics (torch.optim.Adam): L2 weight decay added to the gradient, optional amsgrad.
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 optim.cu
//
// One version: a single fused pass reading p, g, m, v (, vmax) and writing them back; the bias corrections are
// computed once on the host in double and passed in, as PyTorch does per step.
#include "common.cuh"

CLOE_KERNEL void cloe_adam_step(float *p, const float *g, float *m, float *v, float *vmax, float lr, float beta1,
                                float beta2, float eps, float wd, float bc1, float bc2sqrt, int amsgrad, int n) {
    const float step = lr / bc1;
    CLOE_GRID_STRIDE(i, n) {
        const float pv = p[i];
        const float gv = g[i] + wd * pv;
        const float mv = beta1 * m[i] + (1.f - beta1) * gv;
        const float vv = beta2 * v[i] + (1.f - beta2) * gv * gv;
        m[i] = mv;
        v[i] = vv;
        float vd = vv;
        if (amsgrad) { vd = fmaxf(vmax[i], vv); vmax[i] = vd; }
        const float denom = sqrtf(vd) / bc2sqrt + eps;
        p[i] = pv - step * mv / denom;
    }
}
