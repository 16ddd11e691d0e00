// Activations and the channel softmax of cloe4j.
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 activation.cu
//
// One version each: the pointwise functions (leaky ReLU, sigmoid, ...: one kernel pair that switches on the
// function's code) are single streaming passes (memory bound by construction). The channel softmax gives each thread one voxel and loops over the C channels (stride `spatial` apart, so a warp
// reads C coalesced rows); with C = 4 classes the three passes over the channels hit L1 after the first.
#include "common.cuh"

// ---------------------------------------------------------------------------------------------------------------
// The pointwise functions of org.cloe4j.backend.Pointwise: one case per constant in each of the two switches below,
// labelled with the constant's code and named in a comment (PointwiseKernelCodesTest holds the labels, names and
// Java codes to each other). An unknown code gives NaN, which every parity test catches.

__device__ __forceinline__ float cloe_pointwise_f(int op, float x, float a) {
    switch (op) {
    case 0: /* LEAKY_RELU */ return x > 0.f ? x : a * x;
    // expf of a large negative argument overflows to inf and 1/inf = 0: the right limit, no special case needed.
    case 1: /* SIGMOID */ return 1.f / (1.f + expf(-x));
    case 2: /* SILU */ return x / (1.f + expf(-x));
    default: return __int_as_float(0x7fc00000);
    }
}

// gx of one element from the forward's input x and output y (0 where the function does not read it).
__device__ __forceinline__ float cloe_pointwise_df(int op, float x, float y, float gy, float a) {
    switch (op) {
    case 0: /* LEAKY_RELU */ return x > 0.f ? gy : a * gy;
    case 1: /* SIGMOID */ return gy * y * (1.f - y);
    case 2: /* SILU */ { const float s = 1.f / (1.f + expf(-x)); return gy * (s * (1.f + x * (1.f - s))); }
    default: return __int_as_float(0x7fc00000);
    }
}

// `op` is the same for every thread, so the switch never diverges.
CLOE_KERNEL void cloe_pointwise_fwd(int op, float a, const float *x, float *y, int n) {
    CLOE_GRID_STRIDE(i, n) y[i] = cloe_pointwise_f(op, x[i], a);
}

CLOE_KERNEL void cloe_pointwise_bwd(int op, float a, const float *x, const float *y, const float *gy, float *gx, int n) {
    CLOE_GRID_STRIDE(i, n) gx[i] = cloe_pointwise_df(op, x ? x[i] : 0.f, y ? y[i] : 0.f, gy[i], a);
}

CLOE_KERNEL void cloe_softmax_channels_fwd(const float *x, float *y, int batch, int c, int spatial) {
    CLOE_GRID_STRIDE(i, batch * spatial) {
        const int n = i / spatial, s = i - n * spatial;
        const float *xp = x + (long long)n * c * spatial + s;
        float *yp = y + (long long)n * c * spatial + s;
        float mx = -INFINITY;
        for (int k = 0; k < c; k++) mx = fmaxf(mx, xp[k * spatial]);
        float sum = 0.f;
        for (int k = 0; k < c; k++) { const float e = expf(xp[k * spatial] - mx); yp[k * spatial] = e; sum += e; }
        const float inv = 1.f / sum;
        for (int k = 0; k < c; k++) yp[k * spatial] *= inv;
    }
}

CLOE_KERNEL void cloe_softmax_channels_bwd(const float *y, const float *gy, float *gx, int batch, int c, int spatial) {
    CLOE_GRID_STRIDE(i, batch * spatial) {
        const int n = i / spatial, s = i - n * spatial;
        const long long base = (long long)n * c * spatial + s;
        float dot = 0.f;
        for (int k = 0; k < c; k++) dot += y[base + k * spatial] * gy[base + k * spatial];
        for (int k = 0; k < c; k++) {
            const long long j = base + k * spatial;
            gx[j] = y[j] * (gy[j] - dot);
        }
    }
}
