// Activations and the channel softmax of cloe4j.
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 activation.cu
//
// One version each: leaky ReLU and sigmoid are single streaming passes (memory bound by construction). The
// channel softmax gives each thread one voxel and loops over the C channels (stride `spatial` apart, so a warp
// reads C coalesced rows); with C = 4 classes the three passes over the channels hit L1 after the first.
#include "common.cuh"

CLOE_KERNEL void cloe_leaky_relu_fwd(const float *x, float *y, float slope, int n) {
    CLOE_GRID_STRIDE(i, n) { const float v = x[i]; y[i] = v > 0.f ? v : slope * v; }
}

CLOE_KERNEL void cloe_leaky_relu_bwd(const float *x, const float *gy, float *gx, float slope, int n) {
    CLOE_GRID_STRIDE(i, n) gx[i] = x[i] > 0.f ? gy[i] : slope * gy[i];
}

CLOE_KERNEL void cloe_sigmoid_fwd(const float *x, float *y, int n) {
    // expf of a large negative argument overflows to inf and 1/inf = 0: the right limit, no special case needed.
    CLOE_GRID_STRIDE(i, n) y[i] = 1.f / (1.f + expf(-x[i]));
}

CLOE_KERNEL void cloe_sigmoid_bwd(const float *y, const float *gy, float *gx, int n) {
    CLOE_GRID_STRIDE(i, n) { const float v = y[i]; gx[i] = gy[i] * v * (1.f - v); }
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
