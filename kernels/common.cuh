// Shared helpers of the cloe4j kernels: the C ABI header, grid-stride loops and block reductions.
// Every kernel file includes this; nothing here is a kernel.
#pragma once
#include "../native/cloe_kernels.h"

// Block sizes the launchers use; reductions below assume blockDim.x is a multiple of 32 and <= 1024.
#define CLOE_WARP 32

__device__ __forceinline__ float cloe_warp_sum(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float cloe_warp_max(float v) {
#pragma unroll
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

// Sum over the block; every thread gets the result. `scratch` holds at least 32 floats of shared memory and is
// reusable after the call returns (the trailing barrier protects it).
__device__ __forceinline__ float cloe_block_sum(float v, float *scratch) {
    const int lane = threadIdx.x % CLOE_WARP, warp = threadIdx.x / CLOE_WARP;
    const int warps = (blockDim.x + CLOE_WARP - 1) / CLOE_WARP;
    v = cloe_warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    float t = lane < warps ? scratch[lane] : 0.f;
    t = cloe_warp_sum(t);
    __syncthreads();
    return t;
}

// Several independent block sums at once: v[K] in registers, results written to out[K] (shared, K floats) by
// one pass through shared memory of size K * 32 floats. All threads must call it.
template <int K>
__device__ __forceinline__ void cloe_block_sum_n(float (&v)[K], float *scratch, float *out) {
    const int lane = threadIdx.x % CLOE_WARP, warp = threadIdx.x / CLOE_WARP;
    const int warps = (blockDim.x + CLOE_WARP - 1) / CLOE_WARP;
#pragma unroll
    for (int k = 0; k < K; k++) {
        float s = cloe_warp_sum(v[k]);
        if (lane == 0) scratch[k * CLOE_WARP + warp] = s;
    }
    __syncthreads();
    // warp w finishes sums w, w + warps, ...
    for (int k = warp; k < K; k += warps) {
        float s = lane < warps ? scratch[k * CLOE_WARP + lane] : 0.f;
        s = cloe_warp_sum(s);
        if (lane == 0) out[k] = s;
    }
    __syncthreads();
}

#define CLOE_GRID_STRIDE(i, n) \
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)
