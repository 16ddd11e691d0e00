// The three losses of cloe4j (cross-entropy with class weights max(1 - share, floor), soft Dice with smoothing,
// binary cross-entropy; floor 0 and smoothing 0 are RFNet's), forward and
// backward. Each forward is one streaming pass that leaves per-block partial sums, a column reduction
// (cloe_reduce_columns) and a one-thread finish; each backward recomputes the per-map sums the same way and is
// then one element-wise pass. No atomics: the same inputs always give the same bits.
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 loss.cu
//
// One version: the loss reductions are small next to the network and already a single pass over p and t.
// The map sums split each (n, c) map over gridDim.x blocks, so that N*C = 4 maps still fill the GPU.
#include "common.cuh"

#define CLOE_P_MIN 0.005f

CLOE_KERNEL void cloe_loss_map_sums(const float *p, const float *t, float *sums, int nc, int spatial, int mode) {
    __shared__ float scratch[3 * 32];
    __shared__ float out[3];
    const int map = blockIdx.y;
    const float *pp = p + (long long)map * spatial, *tp = t + (long long)map * spatial;
    float v[3] = {0.f, 0.f, 0.f};
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < spatial; i += blockDim.x * gridDim.x) {
        const float pv = pp[i], tv = tp[i];
        if (mode == 0) {
            v[0] += tv;
            // fmaxf/fminf would turn a NaN into the bound; PyTorch's clamp keeps it (and 0 * log NaN is NaN), so a
            // broken prediction reaches the loss (the trainer checks it, once per step)
            const float pc = isnan(pv) ? pv : fminf(fmaxf(pv, CLOE_P_MIN), 1.f);
            v[1] += tv * logf(pc);
        } else {
            v[0] += pv * tv;
            v[1] += pv;
            v[2] += tv;
        }
    }
    cloe_block_sum_n<3>(v, scratch, out);
    const int K = mode == 0 ? 2 : 3;
    if (threadIdx.x < K) sums[((long long)blockIdx.x * nc + map) * K + threadIdx.x] = out[threadIdx.x];
}

// loss = -(1 / (N S)) sum_{n,c} max(1 - count_nc / S, floor) * sum_s t log(clamp p)
CLOE_KERNEL void cloe_wce_finish(const float *sums, float *loss, int batch, int c, int spatial, float floor) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double acc = 0.0;
    for (int m = 0; m < batch * c; m++) {
        const double w = fmax(1.0 - (double)sums[2 * m] / spatial, (double)floor);
        acc += w * sums[2 * m + 1];
    }
    loss[0] = (float)(-acc / ((double)batch * spatial));
}

CLOE_KERNEL void cloe_wce_bwd(const float *p, const float *t, const float *sums, const float *gloss, float *gp,
                              int batch, int c, int spatial, float floor) {
    const float scale = -gloss[0] / ((float)batch * (float)spatial);
    CLOE_GRID_STRIDE(i, batch * c * spatial) {
        const int m = i / spatial;
        const float w = fmaxf(1.f - sums[2 * m] / spatial, floor);
        const float pv = p[i];
        // clamp passes the gradient inside [min, max] only (PyTorch's clamp backward)
        gp[i] = (pv >= CLOE_P_MIN && pv <= 1.f) ? scale * w * t[i] / pv : 0.f;
    }
}

// loss = 1 - (1/C) sum_c (2 I_c + s) / (P_c + T_c + s + 1e-7), sums over samples and voxels
CLOE_KERNEL void cloe_dice_finish(const float *sums, float *loss, int batch, int c, float smooth) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double acc = 0.0;
    for (int k = 0; k < c; k++) {
        double in = 0.0, ps = 0.0, ts = 0.0;
        for (int n = 0; n < batch; n++) {
            const float *s = sums + 3 * (n * c + k);
            in += s[0]; ps += s[1]; ts += s[2];
        }
        acc += (2.0 * in + smooth) / (ps + ts + smooth + 1e-7);
    }
    loss[0] = (float)(1.0 - acc / c);
}

CLOE_KERNEL void cloe_dice_bwd(const float *p, const float *t, const float *sums, const float *gloss, float *gp,
                               int batch, int c, int spatial, float smooth) {
    const float g = gloss[0];
    CLOE_GRID_STRIDE(i, batch * c * spatial) {
        const int k = (i / spatial) % c;
        float in = 0.f, u = 0.f;
        for (int n = 0; n < batch; n++) {
            const float *s = sums + 3 * (n * c + k);
            in += s[0]; u += s[1] + s[2];
        }
        u += smooth + 1e-7f;
        // d/dp of -(1/C) (2 I + s) / U = -(1/C) (2 t U - (2 I + s)) / U^2
        gp[i] = g * (-1.f / c) * (2.f * t[i] * u - (2.f * in + smooth)) / (u * u);
    }
}

CLOE_KERNEL void cloe_bce_partials(const float *p, const float *t, float *partials, int n) {
    __shared__ float scratch[32];
    float acc = 0.f;
    CLOE_GRID_STRIDE(i, n) {
        const float pv = p[i], tv = t[i];
        // clamp the logs at -100 as PyTorch does, but let a NaN through (fmaxf would replace it by -100)
        const float l1 = logf(pv), l2 = logf(1.f - pv);
        const float lp = isnan(l1) ? l1 : fmaxf(l1, -100.f), lq = isnan(l2) ? l2 : fmaxf(l2, -100.f);
        acc -= tv * lp + (1.f - tv) * lq;
    }
    acc = cloe_block_sum(acc, scratch);
    if (threadIdx.x == 0) partials[blockIdx.x] = acc;
}

CLOE_KERNEL void cloe_bce_bwd(const float *p, const float *t, const float *gloss, float *gp, int n) {
    const float g = gloss[0] / n;
    // PyTorch's binary_cross_entropy_backward: (p - t) / max(p (1 - p), 1e-12)
    CLOE_GRID_STRIDE(i, n) {
        const float pv = p[i];
        gp[i] = g * (pv - t[i]) / fmaxf(pv * (1.f - pv), 1e-12f);
    }
}
