// Element-wise, broadcast and reduction kernels of cloe4j.
//
// Compile (the build does all files at once, see scripts/build-kernels):
//   nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 elementwise.cu
//
// sum_to (the adjoint of broadcasting):
//   version 1: one thread per output element walks every reduced input element. Fine when there are many
//              outputs (a bias gradient over few channels leaves most of the GPU idle, though).
//   version 2: one block per output element, threads stride over the reduced elements and meet in a block
//              reduction: better for "few outputs, many inputs" (bias gradients), but 16 outputs are still only
//              16 blocks.
//   version 3: adaptive. Few outputs (<= 4096): each output split over many blocks (grid (splits, ny)), partial
//              sums column-reduced, so a 16-channel bias gradient of a 112^3 map uses the whole GPU. Many
//              outputs: the version 1 kernel, whose one thread per output already fills it.
// The other kernels have one version: each is a single streaming pass already at the memory bound.
#include "common.cuh"

CLOE_KERNEL void cloe_add_inplace(float *acc, const float *x, int n) {
    CLOE_GRID_STRIDE(i, n) acc[i] += x[i];
}

CLOE_KERNEL void cloe_scale(const float *x, float s, float *y, int n) {
    CLOE_GRID_STRIDE(i, n) y[i] = s * x[i];
}

CLOE_KERNEL void cloe_broadcast_binary(const float *a, const float *b, float *y, int op, int n,
                                       int d0, int d1, int d2, int d3, int d4,
                                       int as0, int as1, int as2, int as3, int as4,
                                       int bs0, int bs1, int bs2, int bs3, int bs4) {
    CLOE_GRID_STRIDE(i, n) {
        // unravel the output index (row-major, d4 fastest) and walk both inputs with their strides
        int r = i;
        const int i4 = r % d4; r /= d4;
        const int i3 = r % d3; r /= d3;
        const int i2 = r % d2; r /= d2;
        const int i1 = r % d1; r /= d1;
        const int i0 = r;
        (void)d0;
        const float va = a[i0 * as0 + i1 * as1 + i2 * as2 + i3 * as3 + i4 * as4];
        const float vb = b[i0 * bs0 + i1 * bs1 + i2 * bs2 + i3 * bs3 + i4 * bs4];
        y[i] = op == 0 ? va + vb : va * vb;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// sum_to

// The x index of output element `o` combined with reduced element `k`: the kept dims take their coordinate from o
// (in y's shape, reduced dims have size 1), the reduced dims take theirs from k.
__device__ __forceinline__ int sum_to_index(int o, int k, const int (&xd)[5], int mask) {
    int idx = 0, stride = 1;
#pragma unroll
    for (int d = 4; d >= 0; d--) {
        int coord;
        if (mask & (1 << d)) { coord = k % xd[d]; k /= xd[d]; }
        else { coord = o % xd[d]; o /= xd[d]; }
        idx += coord * stride;
        stride *= xd[d];
    }
    return idx;
}

__device__ __forceinline__ int sum_to_count(const int (&xd)[5], int mask) {
    int c = 1;
#pragma unroll
    for (int d = 0; d < 5; d++) if (mask & (1 << d)) c *= xd[d];
    return c;
}

CLOE_KERNEL void cloe_sum_to_v1(const float *x, float *y, int ny, int x0, int x1, int x2, int x3, int x4, int reduceMask) {
    const int xd[5] = {x0, x1, x2, x3, x4};
    const int count = sum_to_count(xd, reduceMask);
    CLOE_GRID_STRIDE(o, ny) {
        float s = 0.f;
        for (int k = 0; k < count; k++) s += x[sum_to_index(o, k, xd, reduceMask)];
        y[o] = s;
    }
}

CLOE_KERNEL void cloe_sum_to_v2(const float *x, float *y, int ny, int x0, int x1, int x2, int x3, int x4, int reduceMask) {
    __shared__ float scratch[32];
    const int xd[5] = {x0, x1, x2, x3, x4};
    const int count = sum_to_count(xd, reduceMask);
    for (int o = blockIdx.x; o < ny; o += gridDim.x) {
        float s = 0.f;
        for (int k = threadIdx.x; k < count; k += blockDim.x) s += x[sum_to_index(o, k, xd, reduceMask)];
        s = cloe_block_sum(s, scratch);
        if (threadIdx.x == 0) y[o] = s;
    }
}

CLOE_KERNEL void cloe_sum_to_split_v3(const float *x, float *partials, int ny, int x0, int x1, int x2, int x3, int x4,
                                      int reduceMask) {
    __shared__ float scratch[32];
    const int xd[5] = {x0, x1, x2, x3, x4};
    const int count = sum_to_count(xd, reduceMask);
    const int o = blockIdx.y;
    float s = 0.f;
    for (int k = blockIdx.x * blockDim.x + threadIdx.x; k < count; k += blockDim.x * gridDim.x) {
        s += x[sum_to_index(o, k, xd, reduceMask)];
    }
    s = cloe_block_sum(s, scratch);
    if (threadIdx.x == 0) partials[(long long)blockIdx.x * ny + o] = s;
}

// ---------------------------------------------------------------------------------------------------------------
// channel copies (concat / slice), conv bias, column sums of per-block partials

CLOE_KERNEL void cloe_copy_channels(const float *src, float *dst, int batch, int channels, int spatial,
                                    int srcC, int srcOff, int dstC, int dstOff) {
    const int per = channels * spatial;
    CLOE_GRID_STRIDE(i, batch * per) {
        const int n = i / per, rest = i - n * per;
        const int c = rest / spatial, s = rest - c * spatial;
        dst[((long long)n * dstC + dstOff + c) * spatial + s] = src[((long long)n * srcC + srcOff + c) * spatial + s];
    }
}

CLOE_KERNEL void cloe_bias_add_channels(float *y, const float *b, int batch, int c, int spatial) {
    CLOE_GRID_STRIDE(i, batch * c * spatial) y[i] += b[(i / spatial) % c];
}

CLOE_KERNEL void cloe_reduce_columns(const float *partials, int rows, int cols, float *out, float scale) {
    __shared__ float scratch[32];
    for (int k = blockIdx.x; k < cols; k += gridDim.x) {
        float s = 0.f;
        for (int r = threadIdx.x; r < rows; r += blockDim.x) s += partials[(long long)r * cols + k];
        s = cloe_block_sum(s, scratch);
        if (threadIdx.x == 0) out[k] = scale * s;
    }
}
