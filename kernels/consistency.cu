// CLoE's agreement reductions (MEC / REC): all pairwise cosine similarities of the M experts' maps and of their
// region-weighted versions, s[a][b] = cos(r * x_a, r * x_b), and the backward pass.
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 consistency.cu
//
// version 1: one launch per pair (a <= b): a grid-stride dot product <r a, r b> reduced per block and added with
//            atomicAdd. M(M+1)/2 launches, and every map is read M + 1 times: 4 experts x 4 classes x 112^3 read
//            ~3.5 GB for 225 MB of input. The reference, and the "before" of the benchmark.
// version 2: one pass over memory: each thread loads one float4 of every expert (and the region map once) and
//            accumulates all K = M(M+1)/2 products in registers (2K when the plain and the region-weighted
//            sums are wanted together, which is what MEC and REC need); a block reduction writes one row of K
//            partials per block and cloe_reduce_columns adds the rows. M is a template parameter so the K
//            accumulators live in registers; the C ABI has one entry point per M (1..8).
// Backward: the dots are recomputed (one v2 pass), a tiny kernel turns them and gs into the matrix A with
//            gz_a = sum_b A[a][b] z_b, and one pass per voxel over the channels writes every gx_m and the
//            region gradient (a per-voxel channel sum, so each thread owns its output: no atomics).
#include "common.cuh"

#define CLOE_MAX_EXPERTS 8

__host__ __device__ constexpr int cloe_pairs(int m) { return m * (m + 1) / 2; }

// Packed upper-triangle index of (a, b), a <= b, row-major.
__device__ __forceinline__ int cloe_pair_index(int a, int b, int m) {
    if (a > b) { const int t = a; a = b; b = t; }
    return a * m - a * (a - 1) / 2 + (b - a);
}

// ---------------------------------------------------------------------------------------------------------------
// version 1

CLOE_KERNEL void cloe_dot_v1(const float *a, const float *b, const float *r, float *out, int batch, int c, int spatial) {
    __shared__ float scratch[32];
    const int per = c * spatial;
    float acc = 0.f;
    CLOE_GRID_STRIDE(i, batch * per) {
        float w = 1.f;
        if (r) { const float rv = r[(i / per) * spatial + i % spatial]; w = rv * rv; }
        acc += w * a[i] * b[i];
    }
    acc = cloe_block_sum(acc, scratch);
    if (threadIdx.x == 0) atomicAdd(out, acc);
}

// ---------------------------------------------------------------------------------------------------------------
// version 2

template <int M, bool BOTH>
__device__ __forceinline__ void accumulate(const float (&v)[M], float rw2, bool weighted, float (&acc)[(BOTH ? 2 : 1) * cloe_pairs(M)]) {
    constexpr int K = cloe_pairs(M);
    int k = 0;
#pragma unroll
    for (int a = 0; a < M; a++) {
#pragma unroll
        for (int b = a; b < M; b++, k++) {
            const float p = v[a] * v[b];
            if (BOTH) { acc[k] += p; acc[K + k] = fmaf(rw2, p, acc[K + k]); }
            else acc[k] = weighted ? fmaf(rw2, p, acc[k]) : acc[k] + p;
        }
    }
}

template <int M, bool BOTH>
__device__ void pairwise_dots(const float *const (&xs)[CLOE_MAX_EXPERTS], const float *r, float *partials,
                              int batch, int c, int spatial) {
    constexpr int KK = (BOTH ? 2 : 1) * cloe_pairs(M);
    __shared__ float scratch[KK * 32];
    __shared__ float out[KK];
    float acc[KK];
#pragma unroll
    for (int k = 0; k < KK; k++) acc[k] = 0.f;
    const bool weighted = r != nullptr;
    const int per = c * spatial;
    const int total = batch * per;
    const int tid = blockIdx.x * blockDim.x + threadIdx.x, stride = blockDim.x * gridDim.x;
    if ((spatial & 3) == 0) {
        // float4 body: 4 consecutive elements share (n, c) because spatial is a multiple of 4
        const int total4 = total >> 2;
        for (int i4 = tid; i4 < total4; i4 += stride) {
            const int i = i4 << 2;
            float4 rv = make_float4(1.f, 1.f, 1.f, 1.f);
            if (weighted) rv = *reinterpret_cast<const float4 *>(r + (i / per) * spatial + i % spatial);
            float4 x4[M];
#pragma unroll
            for (int a = 0; a < M; a++) x4[a] = *reinterpret_cast<const float4 *>(xs[a] + i);
            float v[M];
#pragma unroll
            for (int a = 0; a < M; a++) v[a] = x4[a].x;
            accumulate<M, BOTH>(v, rv.x * rv.x, weighted, acc);
#pragma unroll
            for (int a = 0; a < M; a++) v[a] = x4[a].y;
            accumulate<M, BOTH>(v, rv.y * rv.y, weighted, acc);
#pragma unroll
            for (int a = 0; a < M; a++) v[a] = x4[a].z;
            accumulate<M, BOTH>(v, rv.z * rv.z, weighted, acc);
#pragma unroll
            for (int a = 0; a < M; a++) v[a] = x4[a].w;
            accumulate<M, BOTH>(v, rv.w * rv.w, weighted, acc);
        }
    } else {
        for (int i = tid; i < total; i += stride) {
            float rw = 1.f;
            if (weighted) rw = r[(i / per) * spatial + i % spatial];
            float v[M];
#pragma unroll
            for (int a = 0; a < M; a++) v[a] = xs[a][i];
            accumulate<M, BOTH>(v, rw * rw, weighted, acc);
        }
    }
    cloe_block_sum_n<KK>(acc, scratch, out);
    for (int k = threadIdx.x; k < KK; k += blockDim.x) partials[(long long)blockIdx.x * KK + k] = out[k];
}

#define CLOE_PAIRWISE_DOTS(M)                                                                                      \
    CLOE_KERNEL void cloe_pairwise_dots_v2_m##M(const float *x0, const float *x1, const float *x2, const float *x3, \
                                                const float *x4, const float *x5, const float *x6, const float *x7, \
                                                const float *r, float *partials, int batch, int c, int spatial,    \
                                                int both) {                                                        \
        const float *const xs[CLOE_MAX_EXPERTS] = {x0, x1, x2, x3, x4, x5, x6, x7};                               \
        if (both && r) pairwise_dots<M, true>(xs, r, partials, batch, c, spatial);                                 \
        else pairwise_dots<M, false>(xs, r, partials, batch, c, spatial);                                          \
    }
CLOE_PAIRWISE_DOTS(1)
CLOE_PAIRWISE_DOTS(2)
CLOE_PAIRWISE_DOTS(3)
CLOE_PAIRWISE_DOTS(4)
CLOE_PAIRWISE_DOTS(5)
CLOE_PAIRWISE_DOTS(6)
CLOE_PAIRWISE_DOTS(7)
CLOE_PAIRWISE_DOTS(8)

// ---------------------------------------------------------------------------------------------------------------
// finish: cosines from dots; backward coefficients

CLOE_KERNEL void cloe_cosine_finish(const float *dots, float *s, int m) {
    CLOE_GRID_STRIDE(i, m * m) {
        const int a = i / m, b = i % m;
        const float na = sqrtf(dots[cloe_pair_index(a, a, m)]), nb = sqrtf(dots[cloe_pair_index(b, b, m)]);
        s[i] = (na > 0.f && nb > 0.f) ? dots[cloe_pair_index(a, b, m)] / (na * nb) : 0.f;
    }
}

// s_ab = d_ab / (n_a n_b); for a != b, ds_ab/dz_a = z_b / (n_a n_b) - s_ab z_a / n_a^2. s_aa is constant (1 or 0),
// so the diagonal of gs contributes nothing. gs need not be symmetric: s_ab and s_ba are the same function.
CLOE_KERNEL void cloe_cosine_bwd_coeffs(const float *dots, const float *gs, float *coeffs, int m) {
    CLOE_GRID_STRIDE(a, m) {
        const float na = sqrtf(dots[cloe_pair_index(a, a, m)]);
        float diag = 0.f;
        for (int b = 0; b < m; b++) {
            if (b == a) continue;
            const float nb = sqrtf(dots[cloe_pair_index(b, b, m)]);
            float coef = 0.f;
            if (na > 0.f && nb > 0.f) {
                const float g = gs[a * m + b] + gs[b * m + a];
                const float sab = dots[cloe_pair_index(a, b, m)] / (na * nb);
                coef = g / (na * nb);
                diag -= g * sab / (na * na);
            }
            coeffs[a * m + b] = coef;
        }
        coeffs[a * m + a] = diag;
    }
}

template <int M>
__device__ void cosine_bwd_apply(const float *const (&xs)[CLOE_MAX_EXPERTS], const float *r, const float *coeffs,
                                 float *const (&gs)[CLOE_MAX_EXPERTS], float *gr, int batch, int c, int spatial) {
    __shared__ float A[M * M];
    for (int i = threadIdx.x; i < M * M; i += blockDim.x) A[i] = coeffs[i];
    __syncthreads();
    CLOE_GRID_STRIDE(i, batch * spatial) {
        const int n = i / spatial, s = i - n * spatial;
        const float rv = r ? r[i] : 1.f;
        float racc = 0.f;
        for (int k = 0; k < c; k++) {
            const long long j = ((long long)n * c + k) * spatial + s;
            float x[M];
#pragma unroll
            for (int a = 0; a < M; a++) x[a] = xs[a][j];
#pragma unroll
            for (int a = 0; a < M; a++) {
                float gz = 0.f;
#pragma unroll
                for (int b = 0; b < M; b++) gz = fmaf(A[a * M + b], rv * x[b], gz);
                if (gs[a]) gs[a][j] = rv * gz;
                racc = fmaf(gz, x[a], racc);
            }
        }
        if (gr) gr[i] = racc;
    }
}

#define CLOE_COSINE_BWD_APPLY(M)                                                                                   \
    CLOE_KERNEL void cloe_cosine_bwd_apply_m##M(const float *x0, const float *x1, const float *x2, const float *x3, \
                                                const float *x4, const float *x5, const float *x6, const float *x7, \
                                                const float *r, const float *coeffs, float *g0, float *g1,         \
                                                float *g2, float *g3, float *g4, float *g5, float *g6, float *g7,  \
                                                float *gr, int batch, int c, int spatial) {                        \
        const float *const xs[CLOE_MAX_EXPERTS] = {x0, x1, x2, x3, x4, x5, x6, x7};                               \
        float *const gs[CLOE_MAX_EXPERTS] = {g0, g1, g2, g3, g4, g5, g6, g7};                                     \
        cosine_bwd_apply<M>(xs, r, coeffs, gs, gr, batch, c, spatial);                                             \
    }
CLOE_COSINE_BWD_APPLY(1)
CLOE_COSINE_BWD_APPLY(2)
CLOE_COSINE_BWD_APPLY(3)
CLOE_COSINE_BWD_APPLY(4)
CLOE_COSINE_BWD_APPLY(5)
CLOE_COSINE_BWD_APPLY(6)
CLOE_COSINE_BWD_APPLY(7)
CLOE_COSINE_BWD_APPLY(8)
