// The gate of CLoE (a small MLP and a softmax over the available modalities) and the reliability-weighted fusion
// y = sum_m w[m] x_m of the modality features at each level.
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 gating.cu
//
// Dense layers and the masked softmax are tiny (a handful of logits): one thread per output, no tiling.
// Fusion (weighted sum):
//   version 1: one launch per input, y = w0 x0 then y += w_k x_k: y is read and written M times, so M inputs
//              cost (3M - 1) passes over a feature map.
//   version 2: one launch for all M inputs, float4 loads, the M weights read once per thread into registers:
//              M reads + 1 write, the minimum. The backward likewise writes every gx_k = w[k] gy and accumulates
//              the M dot products <gy, x_k> for gw in the same pass (per-block partials, column-reduced).
#include "common.cuh"

#define CLOE_MAX_INPUTS 8

CLOE_KERNEL void cloe_dense_fwd(const float *x, const float *w, const float *b, float *y, int batch, int in, int out) {
    CLOE_GRID_STRIDE(i, batch * out) {
        const int n = i / out, o = i % out;
        float s = b ? b[o] : 0.f;
        for (int k = 0; k < in; k++) s = fmaf(x[n * in + k], w[o * in + k], s);
        y[i] = s;
    }
}

CLOE_KERNEL void cloe_dense_bwd_x(const float *gy, const float *w, float *gx, int batch, int in, int out) {
    CLOE_GRID_STRIDE(i, batch * in) {
        const int n = i / in, k = i % in;
        float s = 0.f;
        for (int o = 0; o < out; o++) s = fmaf(gy[n * out + o], w[o * in + k], s);
        gx[i] = s;
    }
}

CLOE_KERNEL void cloe_dense_bwd_w(const float *x, const float *gy, float *gw, int batch, int in, int out) {
    CLOE_GRID_STRIDE(i, out * in) {
        const int o = i / in, k = i % in;
        float s = 0.f;
        for (int n = 0; n < batch; n++) s = fmaf(gy[n * out + o], x[n * in + k], s);
        gw[i] = s;
    }
}

CLOE_KERNEL void cloe_dense_bwd_b(const float *gy, float *gb, int batch, int out) {
    CLOE_GRID_STRIDE(o, out) {
        float s = 0.f;
        for (int n = 0; n < batch; n++) s += gy[n * out + o];
        gb[o] = s;
    }
}

// One thread: m is the number of modalities (4 in CLoE).
CLOE_KERNEL void cloe_masked_softmax_fwd(const float *logits, const float *mask, float *y, int m) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    float mx = -INFINITY;
    for (int k = 0; k < m; k++) if (mask[k] != 0.f) mx = fmaxf(mx, logits[k]);
    float sum = 0.f;
    for (int k = 0; k < m; k++) {
        const float e = mask[k] != 0.f ? expf(logits[k] - mx) : 0.f;
        y[k] = e;
        sum += e;
    }
    for (int k = 0; k < m; k++) y[k] = sum > 0.f ? y[k] / sum : 0.f;
}

// Masked entries have y = 0 and so get gx = 0, exactly.
CLOE_KERNEL void cloe_masked_softmax_bwd(const float *y, const float *gy, float *gx, int m) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    float dot = 0.f;
    for (int k = 0; k < m; k++) dot += y[k] * gy[k];
    for (int k = 0; k < m; k++) gx[k] = y[k] * (gy[k] - dot);
}

// ---------------------------------------------------------------------------------------------------------------
// fusion

CLOE_KERNEL void cloe_weighted_sum_v1(const float *x, const float *w, int k, float *y, int n, int accumulate) {
    const float wk = w[k];
    CLOE_GRID_STRIDE(i, n) y[i] = accumulate ? fmaf(wk, x[i], y[i]) : wk * x[i];
}

CLOE_KERNEL void cloe_weighted_sum_v2(const float *x0, const float *x1, const float *x2, const float *x3, const float *x4,
                                      const float *x5, const float *x6, const float *x7, const float *w, float *y,
                                      int m, int n) {
    const float *const xs[CLOE_MAX_INPUTS] = {x0, x1, x2, x3, x4, x5, x6, x7};
    float wk[CLOE_MAX_INPUTS];
#pragma unroll
    for (int k = 0; k < CLOE_MAX_INPUTS; k++) wk[k] = k < m ? w[k] : 0.f;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x, stride = blockDim.x * gridDim.x;
    const int n4 = n >> 2;
    for (int i = tid; i < n4; i += stride) {
        float4 acc = make_float4(0.f, 0.f, 0.f, 0.f);
#pragma unroll
        for (int k = 0; k < CLOE_MAX_INPUTS; k++) {
            if (k < m) {
                const float4 v = reinterpret_cast<const float4 *>(xs[k])[i];
                acc.x = fmaf(wk[k], v.x, acc.x); acc.y = fmaf(wk[k], v.y, acc.y);
                acc.z = fmaf(wk[k], v.z, acc.z); acc.w = fmaf(wk[k], v.w, acc.w);
            }
        }
        reinterpret_cast<float4 *>(y)[i] = acc;
    }
    for (int i = (n4 << 2) + tid; i < n; i += stride) {
        float acc = 0.f;
#pragma unroll
        for (int k = 0; k < CLOE_MAX_INPUTS; k++) if (k < m) acc = fmaf(wk[k], xs[k][i], acc);
        y[i] = acc;
    }
}

CLOE_KERNEL void cloe_weighted_sum_bwd_gx_v1(const float *gy, const float *w, int k, float *gx, int n) {
    const float wk = w[k];
    CLOE_GRID_STRIDE(i, n) gx[i] = wk * gy[i];
}

CLOE_KERNEL void cloe_weighted_sum_bwd_v2(const float *x0, const float *x1, const float *x2, const float *x3,
                                          const float *x4, const float *x5, const float *x6, const float *x7,
                                          const float *w, const float *gy, float *g0, float *g1, float *g2, float *g3,
                                          float *g4, float *g5, float *g6, float *g7, float *partials, int m, int n) {
    __shared__ float scratch[CLOE_MAX_INPUTS * 32];
    __shared__ float out[CLOE_MAX_INPUTS];
    const float *const xs[CLOE_MAX_INPUTS] = {x0, x1, x2, x3, x4, x5, x6, x7};
    float *const gs[CLOE_MAX_INPUTS] = {g0, g1, g2, g3, g4, g5, g6, g7};
    float wk[CLOE_MAX_INPUTS], acc[CLOE_MAX_INPUTS];
#pragma unroll
    for (int k = 0; k < CLOE_MAX_INPUTS; k++) { wk[k] = k < m ? w[k] : 0.f; acc[k] = 0.f; }
    const int tid = blockIdx.x * blockDim.x + threadIdx.x, stride = blockDim.x * gridDim.x;
    const int n4 = n >> 2;
    for (int i = tid; i < n4; i += stride) {
        const float4 g = reinterpret_cast<const float4 *>(gy)[i];
#pragma unroll
        for (int k = 0; k < CLOE_MAX_INPUTS; k++) {
            if (k < m) {
                const float4 v = reinterpret_cast<const float4 *>(xs[k])[i];
                acc[k] += g.x * v.x + g.y * v.y + g.z * v.z + g.w * v.w;
                if (gs[k]) reinterpret_cast<float4 *>(gs[k])[i] = make_float4(wk[k] * g.x, wk[k] * g.y, wk[k] * g.z, wk[k] * g.w);
            }
        }
    }
    for (int i = (n4 << 2) + tid; i < n; i += stride) {
        const float g = gy[i];
#pragma unroll
        for (int k = 0; k < CLOE_MAX_INPUTS; k++) {
            if (k < m) {
                acc[k] = fmaf(g, xs[k][i], acc[k]);
                if (gs[k]) gs[k][i] = wk[k] * g;
            }
        }
    }
    cloe_block_sum_n<CLOE_MAX_INPUTS>(acc, scratch, out);
    if (threadIdx.x < m) partials[(long long)blockIdx.x * m + threadIdx.x] = out[threadIdx.x];
}
