/*
3D convolution (PyTorch nn.Conv3d semantics: cross-correlation, NCDHW, weight [Co, Ci, k, k, k]) forward,
backward-data and backward-weight, for kernel 1 or 3, stride 1 or 2, padding 0 or 1 filled with zeros or by
reflection (padding_mode='reflect'). Padding is never materialised: every kernel maps a padded coordinate to the
input voxel it reads (or to "none" for zero padding) inside its address computation.

Compile alone (the build compiles every .cu file in kernels/ as one unit):
  nvcc -std=c++17 -O3 --Werror all-warnings -arch=sm_90 -Xptxas -v -cubin -o conv3d.cubin kernels/conv3d.cu
(the whole set: scripts/build-kernels; resource report: scripts/build-kernels --report)

version 1 is the direct port of the CPU loops: one thread per output element (forward), one thread per input-gradient
element gathering every (output, tap) that read it (backward-data; with reflect padding a border voxel was read through
up to three padded positions per axis), one block per weight element reducing over all output positions (backward-
weight, overwrites gw). FP32, obviously correct, slow; it is the GPU-side oracle.

version 2 is an implicit GEMM with shared-memory tiling. Each pass is a GEMM whose operands are gathered on the fly:
forward       C[m = output position][n = co]  = sum_k A[m][k = (ci, tap)] * W[n][k]
backward-data C[m = input position][n = ci]   = sum_k A[m][k = (co, tap)] * W[co][n][tap], A = gy gathered through
              every padded position that maps to the input voxel (the reflection folded in, so no padded gradient)
backward-wt   C[m = co][n = (ci, tap)]        = sum_k gy[co][k = position] * A[k][n], split over K across blocks
              (gridDim.z); the block of split z writes its partial C to slice z of a [gridDim.z][co * ci * k^3]
              scratch buffer (plain stores: every element of every slice has exactly one writer), and
              cloe_reduce_columns then adds the slices in a fixed order into gw. No atomics, so the same inputs give
              the same bits on every run (training is reproducible; with one split the slice is gw itself).
A 128-thread block computes a 64x64 tile of C in steps of 16 along K: the threads gather the A and B tiles into
shared memory (converting to the operand precision on the way), then multiply:
  fp32: CUDA cores, each thread an 8x4 register tile; exact FP32 products, FP32 sums (the default: the CPU is the oracle)
  tf32: tensor cores, wmma m16n16k8 with precision::tf32 operands (10-bit mantissa, rounded with __float_to_tf32),
        FP32 accumulation; each warp a 32x32 sub-tile (2x2 fragments)
  bf16: tensor cores, wmma m16n16k16 with __nv_bfloat16 operands (8-bit mantissa, rounded to nearest from the FP32
        tensors as they are loaded; weights stay FP32 masters), FP32 accumulation
The epilogue stages C through shared memory so that global writes are coalesced along the position axis.

version 3 is version 2 with the tile shaped to the channel count: with at most 16 output columns (co forward, ci
backward-data) a 64-wide tile computes 75 % zeros, so those GEMMs use 128 x 16 tiles, and backward-weight with at
most 16 output channels 16 x 128 tiles. CLoE's full-resolution layers (the costly ones) have 16 channels at base 16.
Wider layers run the version-2 kernels.
*/
#include "common.cuh"
#include <mma.h>
#include <cuda_bf16.h>

using namespace nvcuda;

// ----------------------------------------------------------------------------------------------------------------
// geometry

// The index helpers and GEMM operand functors below are __host__ __device__ so that kernels/check/conv3d_host_check.cu
// can run them on the CPU against a padded-copy reference (scripts/check-conv-indexing).
#define CLOE_HD __host__ __device__ __forceinline__

struct ConvGeom {
    int n, ci, d, h, w, co, dO, hO, wO, k, stride, pad, reflect;
    CLOE_HD int taps() const { return k * k * k; }
    CLOE_HD int inSpatial() const { return d * h * w; }
    CLOE_HD int outSpatial() const { return dO * hO * wO; }
};

// The input index that padded coordinate p (input-index space, may be -1 or size) reads, or -1 for a zero.
// Reflect padding is at most 1 and sizes are >= 2 (ConvSpec checks), so one reflection suffices.
CLOE_HD int cloe_conv_src(int p, int size, int reflect) {
    if (p >= 0 && p < size) return p;
    if (!reflect) return -1;
    return p < 0 ? -p : 2 * size - 2 - p;
}

// Along one axis: the output coordinate whose tap t read input voxel i through partner a of i, or -1. The padded
// positions that map to i are i itself (a = 0) and, with reflect padding, -1 when i == 1 (a = 1) and size when
// i == size - 2 (a = 2). Written without arrays so that unrolled callers keep everything in registers.
CLOE_HD int cloe_conv_out(int a, int i, int t, int size, int outSize, int stride, int pad,
                                             int reflect) {
    int p;
    if (a == 0) {
        p = i;
    } else if (!reflect || pad == 0) {
        return -1;
    } else if (a == 1) {
        if (i != 1) return -1;
        p = -1;
    } else {
        if (i != size - 2) return -1;
        p = size;
    }
    int q = p + pad - t;
    return q >= 0 && q % stride == 0 && q / stride < outSize ? q / stride : -1;
}

// x[b, c, (od, oh, ow) * stride - pad + (kd, kh, kw)] with the padding folded in (0 for zero padding).
CLOE_HD float cloe_conv_gather(const float *__restrict__ x, const ConvGeom &g, int b, int c,
                                                  int od, int oh, int ow, int kd, int kh, int kw) {
    int id = cloe_conv_src(od * g.stride - g.pad + kd, g.d, g.reflect);
    int ih = cloe_conv_src(oh * g.stride - g.pad + kh, g.h, g.reflect);
    int iw = cloe_conv_src(ow * g.stride - g.pad + kw, g.w, g.reflect);
    if ((id | ih | iw) < 0) return 0.f;
    return x[(((size_t)(b * g.ci + c) * g.d + id) * g.h + ih) * g.w + iw];
}

// sum of gy[b, c, od, oh, ow] over every output that tap (kd, kh, kw) maps onto input voxel (i, j, l).
CLOE_HD float cloe_conv_scatter_sum(const float *__restrict__ gy, const ConvGeom &g, int b, int c,
                                                       int i, int j, int l, int kd, int kh, int kw) {
    int od[3], oh[3], ow[3];
#pragma unroll
    for (int a = 0; a < 3; a++) {
        od[a] = cloe_conv_out(a, i, kd, g.d, g.dO, g.stride, g.pad, g.reflect);
        oh[a] = cloe_conv_out(a, j, kh, g.h, g.hO, g.stride, g.pad, g.reflect);
        ow[a] = cloe_conv_out(a, l, kw, g.w, g.wO, g.stride, g.pad, g.reflect);
    }
    const float *base = gy + (size_t)(b * g.co + c) * g.outSpatial();
    float s = 0.f;
#pragma unroll
    for (int a = 0; a < 3; a++)
#pragma unroll
        for (int e = 0; e < 3; e++)
#pragma unroll
            for (int f = 0; f < 3; f++)
                if ((od[a] | oh[e] | ow[f]) >= 0) s += base[((size_t)od[a] * g.hO + oh[e]) * g.wO + ow[f]];
    return s;
}

#define CLOE_CONV_GEOM ConvGeom g{n, ci, d, h, w, co, dO, hO, wO, k, stride, pad, reflect}

// ----------------------------------------------------------------------------------------------------------------
// version 1: direct

// y[idx] (flat NCDHW index into y) of the direct forward.
CLOE_HD float cloe_conv_fwd_v1_at(const ConvGeom &g, const float *x, const float *wt, const float *bias, int idx) {
    int ow = idx % g.wO, r = idx / g.wO;
    int oh = r % g.hO; r /= g.hO;
    int od = r % g.dO; r /= g.dO;
    int o = r % g.co, b = r / g.co;
    const int k = g.k;
    float s = 0.f;
    const float *wo = wt + (size_t)o * g.ci * g.taps();
    for (int c = 0; c < g.ci; c++)
        for (int kd = 0; kd < k; kd++)
            for (int kh = 0; kh < k; kh++)
                for (int kw = 0; kw < k; kw++)
                    s += cloe_conv_gather(x, g, b, c, od, oh, ow, kd, kh, kw) * wo[((c * k + kd) * k + kh) * k + kw];
    return s + (bias ? bias[o] : 0.f);
}

// gx[idx] (flat NCDHW index into gx) of the direct backward-data.
CLOE_HD float cloe_conv_bwd_data_v1_at(const ConvGeom &g, const float *gy, const float *wt, int idx) {
    int l = idx % g.w, r = idx / g.w;
    int j = r % g.h; r /= g.h;
    int i = r % g.d; r /= g.d;
    int c = r % g.ci, b = r / g.ci;
    const int k = g.k;
    float s = 0.f;
    for (int o = 0; o < g.co; o++)
        for (int kd = 0; kd < k; kd++)
            for (int kh = 0; kh < k; kh++)
                for (int kw = 0; kw < k; kw++)
                    s += cloe_conv_scatter_sum(gy, g, b, o, i, j, l, kd, kh, kw)
                         * wt[(((size_t)o * g.ci + c) * k + kd) * k * k + kh * k + kw];
    return s;
}

// Term q (over n * output positions) of the direct backward-weight sum for weight element e.
CLOE_HD float cloe_conv_bwd_weight_v1_term(const ConvGeom &g, const float *x, const float *gy, int e, int q) {
    const int k = g.k, taps = g.taps(), sp = g.outSpatial();
    int t = e % taps, oc = e / taps;
    int c = oc % g.ci, o = oc / g.ci;
    int kw = t % k, kh = (t / k) % k, kd = t / (k * k);
    int b = q / sp, r = q % sp;
    int ow = r % g.wO, oh = (r / g.wO) % g.hO, od = r / (g.wO * g.hO);
    return cloe_conv_gather(x, g, b, c, od, oh, ow, kd, kh, kw) * gy[(size_t)(b * g.co + o) * sp + r];
}

CLOE_KERNEL void cloe_conv3d_fwd_v1(const float *x, const float *wt, const float *bias, float *y, int n, int ci,
                                    int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad,
                                    int reflect) {
    CLOE_CONV_GEOM;
    const int total = n * co * g.outSpatial();
    CLOE_GRID_STRIDE(idx, total) y[idx] = cloe_conv_fwd_v1_at(g, x, wt, bias, idx);
}

CLOE_KERNEL void cloe_conv3d_bwd_data_v1(const float *gy, const float *wt, float *gx, int n, int ci, int d, int h,
                                         int w, int co, int dO, int hO, int wO, int k, int stride, int pad,
                                         int reflect) {
    CLOE_CONV_GEOM;
    const int total = n * ci * g.inSpatial();
    CLOE_GRID_STRIDE(idx, total) gx[idx] = cloe_conv_bwd_data_v1_at(g, gy, wt, idx);
}

// One block per weight element; overwrites gw.
CLOE_KERNEL void cloe_conv3d_bwd_weight_v1(const float *x, const float *gy, float *gw, int n, int ci, int d, int h,
                                           int w, int co, int dO, int hO, int wO, int k, int stride, int pad,
                                           int reflect) {
    __shared__ float scratch[CLOE_WARP];
    CLOE_CONV_GEOM;
    const int weights = co * ci * g.taps(), terms = n * g.outSpatial();
    for (int e = blockIdx.x; e < weights; e += gridDim.x) {
        float s = 0.f;
        for (int q = threadIdx.x; q < terms; q += blockDim.x) s += cloe_conv_bwd_weight_v1_term(g, x, gy, e, q);
        s = cloe_block_sum(s, scratch);
        if (threadIdx.x == 0) gw[e] = s;
    }
}

// ----------------------------------------------------------------------------------------------------------------
// version 2: implicit GEMM, shared-memory tiles, CUDA cores (fp32) or tensor cores (tf32, bf16)

#define CLOE_IG_BM 64
#define CLOE_IG_BN 64
#define CLOE_IG_BK 16
#define CLOE_IG_THREADS 128

enum { CLOE_PREC_FP32 = 0, CLOE_PREC_TF32 = 1, CLOE_PREC_BF16 = 2 };

// Operand storage in shared memory, its row padding (keeps wmma pointers 32-byte aligned and ldm a multiple of
// 16 bytes) and the FP32 -> operand rounding.
template <int PREC> struct IgOperand {
    typedef float T;
    static constexpr int PAD = 4;
    __device__ static T cvt(float v) { return v; }
};
template <> struct IgOperand<CLOE_PREC_TF32> {
    typedef float T;
    static constexpr int PAD = 4;
    __device__ static T cvt(float v) { return wmma::__float_to_tf32(v); }
};
template <> struct IgOperand<CLOE_PREC_BF16> {
    typedef __nv_bfloat16 T;
    static constexpr int PAD = 8;
    __device__ static T cvt(float v) { return __float2bfloat16_rn(v); }
};

// Forward: M = positions, N = co, K = ci * taps.
struct IgForward {
    ConvGeom g;
    const float *x, *wt, *bias;
    float *y;
    static constexpr bool A_M_FAST = true, B_N_FAST = false;
    CLOE_HD float a(int m, int kk) const {
        int ow = m % g.wO, r = m / g.wO;
        int oh = r % g.hO; r /= g.hO;
        int od = r % g.dO, b = r / g.dO;
        int t = kk % g.taps(), c = kk / g.taps();
        return cloe_conv_gather(x, g, b, c, od, oh, ow, t / (g.k * g.k), (t / g.k) % g.k, t % g.k);
    }
    CLOE_HD float b(int kk, int nn) const { return wt[(size_t)nn * g.ci * g.taps() + kk]; }
    CLOE_HD void store(int m, int nn, float v) const {
        int sp = g.outSpatial(), b = m / sp;
        y[(size_t)(b * g.co + nn) * sp + m % sp] = v + (bias ? bias[nn] : 0.f);
    }
};

// Backward-data: M = input positions, N = ci, K = co * taps.
struct IgBackwardData {
    ConvGeom g;
    const float *gy, *wt;
    float *gx;
    static constexpr bool A_M_FAST = true, B_N_FAST = false;
    CLOE_HD float a(int m, int kk) const {
        int l = m % g.w, r = m / g.w;
        int j = r % g.h; r /= g.h;
        int i = r % g.d, b = r / g.d;
        int t = kk % g.taps(), o = kk / g.taps();
        return cloe_conv_scatter_sum(gy, g, b, o, i, j, l, t / (g.k * g.k), (t / g.k) % g.k, t % g.k);
    }
    CLOE_HD float b(int kk, int nn) const {
        int t = kk % g.taps(), o = kk / g.taps();
        return wt[((size_t)o * g.ci + nn) * g.taps() + t];
    }
    CLOE_HD void store(int m, int nn, float v) const {
        int sp = g.inSpatial(), b = m / sp;
        gx[(size_t)(b * g.ci + nn) * sp + m % sp] = v;
    }
};

// Backward-weight: M = co, N = ci * taps, K = n * output positions; split z's partial sums go to slice z of gw
// (a [gridDim.z][M * N] partials buffer), reduced afterwards in a fixed order.
struct IgBackwardWeight {
    ConvGeom g;
    const float *x, *gy;
    float *gw;
    static constexpr bool A_M_FAST = false, B_N_FAST = false;
    CLOE_HD float a(int m, int kk) const {
        int sp = g.outSpatial();
        return gy[(size_t)((kk / sp) * g.co + m) * sp + kk % sp];
    }
    CLOE_HD float b(int kk, int nn) const {
        int sp = g.outSpatial(), b = kk / sp, r = kk % sp;
        int ow = r % g.wO, oh = (r / g.wO) % g.hO, od = r / (g.wO * g.hO);
        int t = nn % g.taps(), c = nn / g.taps();
        return cloe_conv_gather(x, g, b, c, od, oh, ow, t / (g.k * g.k), (t / g.k) % g.k, t % g.k);
    }
    CLOE_HD void store(int m, int nn, float v) const {
#ifdef __CUDA_ARCH__
        gw[(size_t)blockIdx.z * g.co * g.ci * g.taps() + (size_t)m * g.ci * g.taps() + nn] = v;
#else
        gw[(size_t)m * g.ci * g.taps() + nn] += v;  // the host check (kernels/check) runs the splits serially: the sum of the slices
#endif
    }
};

// C tile BM x BN (blockIdx.x over M, blockIdx.y over N) of the GEMM over k in [blockIdx.z * kChunk, min(K, +kChunk)).
// Tile shapes: 64x64 (v2), 128x16 and 16x128 (v3, for 16 channels). FP32: each thread a TM x 4 register tile;
// tensor cores: WARPS_M x WARPS_N warps, each FM x FN 16x16 fragments.
template <class P, int PREC, int BM = CLOE_IG_BM, int BN = CLOE_IG_BN>
__device__ __forceinline__ void cloe_igemm(const P &p, int M, int N, int K, int kChunk) {
    typedef IgOperand<PREC> Op;
    typedef typename Op::T T;
    constexpr int BK = CLOE_IG_BK;
    constexpr int LDA = BK + Op::PAD, LDB = BN + Op::PAD, LDC = BN + 4;
    constexpr int THREADS_N = BN / 4, THREADS_M = CLOE_IG_THREADS / THREADS_N, TM = BM / THREADS_M;
    constexpr int WARPS_N = BN >= 128 ? 4 : (BN >= 64 ? 2 : 1), WARPS_M = 4 / WARPS_N;
    constexpr int FM = BM / WARPS_M / 16, FN = BN / WARPS_N / 16;
    static_assert(THREADS_M * THREADS_N == CLOE_IG_THREADS && TM * THREADS_M == BM, "FP32 thread tiling");
    static_assert(FM >= 1 && FN >= 1 && FM * 16 * WARPS_M == BM && FN * 16 * WARPS_N == BN, "warp tiling");
    __shared__ __align__(32) T As[BM * LDA];
    __shared__ __align__(32) T Bs[BK * LDB];
    __shared__ __align__(32) float Cs[BM * LDC];

    const int tid = threadIdx.x;
    const int m0 = blockIdx.x * BM, n0 = blockIdx.y * BN;
    const int kBegin = blockIdx.z * kChunk, kEnd = min(K, kBegin + kChunk);

    // accumulators: fp32 a TM x 4 register tile per thread; tensor cores FM x FN 16x16 fragments per warp
    float acc[TM][4];
    const int warp = tid / CLOE_WARP, wm = warp / WARPS_N, wn = warp % WARPS_N;
    constexpr int FK = PREC == CLOE_PREC_BF16 ? 16 : 8;
    typedef typename std::conditional<PREC == CLOE_PREC_BF16, __nv_bfloat16, wmma::precision::tf32>::type FragT;
    wmma::fragment<wmma::accumulator, 16, 16, FK, float> cf[FM][FN];
    if constexpr (PREC == CLOE_PREC_FP32) {
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) acc[i][j] = 0.f;
    } else {
#pragma unroll
        for (int i = 0; i < FM; i++)
#pragma unroll
            for (int j = 0; j < FN; j++) wmma::fill_fragment(cf[i][j], 0.f);
    }

    for (int k0 = kBegin; k0 < kEnd; k0 += BK) {
        // gather the A (BM x BK) and B (BK x BN) tiles; zeros outside the problem
        for (int e = tid; e < BM * BK; e += CLOE_IG_THREADS) {
            int r = P::A_M_FAST ? e % BM : e / BK, c = P::A_M_FAST ? e / BM : e % BK;
            int m = m0 + r, kk = k0 + c;
            As[r * LDA + c] = Op::cvt(m < M && kk < kEnd ? p.a(m, kk) : 0.f);
        }
        for (int e = tid; e < BK * BN; e += CLOE_IG_THREADS) {
            int r = P::B_N_FAST ? e / BN : e % BK, c = P::B_N_FAST ? e % BN : e / BK;
            int kk = k0 + r, nn = n0 + c;
            Bs[r * LDB + c] = Op::cvt(nn < N && kk < kEnd ? p.b(kk, nn) : 0.f);
        }
        __syncthreads();
        if constexpr (PREC == CLOE_PREC_FP32) {
            const int tn = tid % THREADS_N, tm = tid / THREADS_N;
#pragma unroll
            for (int kk = 0; kk < BK; kk++) {
                float av[TM], bv[4];
#pragma unroll
                for (int i = 0; i < TM; i++) av[i] = As[(tm * TM + i) * LDA + kk];
#pragma unroll
                for (int j = 0; j < 4; j++) bv[j] = Bs[kk * LDB + tn * 4 + j];
#pragma unroll
                for (int i = 0; i < TM; i++)
#pragma unroll
                    for (int j = 0; j < 4; j++) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
            }
        } else {
#pragma unroll
            for (int kk = 0; kk < BK; kk += FK) {
                wmma::fragment<wmma::matrix_a, 16, 16, FK, FragT, wmma::row_major> af[FM];
                wmma::fragment<wmma::matrix_b, 16, 16, FK, FragT, wmma::row_major> bf[FN];
#pragma unroll
                for (int i = 0; i < FM; i++) wmma::load_matrix_sync(af[i], As + (wm * FM * 16 + i * 16) * LDA + kk, LDA);
#pragma unroll
                for (int j = 0; j < FN; j++) wmma::load_matrix_sync(bf[j], Bs + kk * LDB + wn * FN * 16 + j * 16, LDB);
#pragma unroll
                for (int i = 0; i < FM; i++)
#pragma unroll
                    for (int j = 0; j < FN; j++) wmma::mma_sync(cf[i][j], af[i], bf[j], cf[i][j]);
            }
        }
        __syncthreads();
    }

    // stage C in shared memory, then write it with the position axis fastest (coalesced for y and gx)
    if constexpr (PREC == CLOE_PREC_FP32) {
        const int tn = tid % THREADS_N, tm = tid / THREADS_N;
#pragma unroll
        for (int i = 0; i < TM; i++)
#pragma unroll
            for (int j = 0; j < 4; j++) Cs[(tm * TM + i) * LDC + tn * 4 + j] = acc[i][j];
    } else {
#pragma unroll
        for (int i = 0; i < FM; i++)
#pragma unroll
            for (int j = 0; j < FN; j++)
                wmma::store_matrix_sync(Cs + (wm * FM * 16 + i * 16) * LDC + wn * FN * 16 + j * 16, cf[i][j], LDC,
                                        wmma::mem_row_major);
    }
    __syncthreads();
    for (int e = tid; e < BM * BN; e += CLOE_IG_THREADS) {
        int r = e % BM, c = e / BM;
        int m = m0 + r, nn = n0 + c;
        if (m < M && nn < N) p.store(m, nn, Cs[r * LDC + c]);
    }
}

// extern "C" entry points, one per pass and precision. Launch: block CLOE_IG_THREADS (128); grid
// (ceil(M / 64), ceil(N / 64), 1) for fwd / bwd_data, (ceil(co / 64), ceil(ci * taps / 64), splits) for bwd_weight
// with kChunk a multiple of 16 and splits * kChunk >= n * output positions.
#define CLOE_CONV_V2(SUFFIX, PREC)                                                                                   \
    CLOE_KERNEL void __launch_bounds__(CLOE_IG_THREADS, 4) cloe_conv3d_fwd_v2_##SUFFIX(                                 \
        const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co,    \
        int dO, int hO, int wO, int k, int stride, int pad, int reflect) {                                           \
        CLOE_CONV_GEOM;                                                                                              \
        IgForward p{g, x, wt, bias, y};                                                                              \
        cloe_igemm<IgForward, PREC>(p, n * g.outSpatial(), co, ci * g.taps(), ci * g.taps());                        \
    }                                                                                                                \
    CLOE_KERNEL void __launch_bounds__(CLOE_IG_THREADS, 4) cloe_conv3d_bwd_data_v2_##SUFFIX(                            \
        const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO,     \
        int wO, int k, int stride, int pad, int reflect) {                                                           \
        CLOE_CONV_GEOM;                                                                                              \
        IgBackwardData p{g, gy, wt, gx};                                                                             \
        cloe_igemm<IgBackwardData, PREC>(p, n * g.inSpatial(), ci, co * g.taps(), co * g.taps());                    \
    }                                                                                                                \
    CLOE_KERNEL void __launch_bounds__(CLOE_IG_THREADS, 4) cloe_conv3d_bwd_weight_v2_##SUFFIX(                          \
        const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO,      \
        int wO, int k, int stride, int pad, int reflect, int kChunk) {                                               \
        CLOE_CONV_GEOM;                                                                                              \
        IgBackwardWeight p{g, x, gy, gw};                                                                            \
        cloe_igemm<IgBackwardWeight, PREC>(p, co, ci * g.taps(), n * g.outSpatial(), kChunk);                        \
    }

CLOE_CONV_V2(fp32, CLOE_PREC_FP32)
CLOE_CONV_V2(tf32, CLOE_PREC_TF32)
CLOE_CONV_V2(bf16, CLOE_PREC_BF16)

// version 3: version 2 with the tile shaped to 16 channels, where a 64-wide tile computes 75 % zeros (CLoE's widest
// maps have 16 channels): fwd / bwd_data with at most 16 output columns (co / ci) use 128 x 16 tiles, bwd_weight
// with at most 16 output channels 16 x 128 tiles. Wider layers run the version-2 kernels (the dispatcher picks).
// (bwd_data: launch bounds for 3 blocks per SM, 4 would spill in FP32.) Launch: block 128; grid
// (ceil(M / 128), ceil(N / 16), 1) for fwd / bwd_data, (ceil(co / 16), ceil(ci * taps / 128),
// splits) for bwd_weight.
#define CLOE_CONV_V3(SUFFIX, PREC)                                                                                   \
    CLOE_KERNEL void __launch_bounds__(CLOE_IG_THREADS, 4) cloe_conv3d_fwd_v3_##SUFFIX(                              \
        const float *x, const float *wt, const float *bias, float *y, int n, int ci, int d, int h, int w, int co,    \
        int dO, int hO, int wO, int k, int stride, int pad, int reflect) {                                           \
        CLOE_CONV_GEOM;                                                                                              \
        IgForward p{g, x, wt, bias, y};                                                                              \
        cloe_igemm<IgForward, PREC, 128, 16>(p, n * g.outSpatial(), co, ci * g.taps(), ci * g.taps());               \
    }                                                                                                                \
    CLOE_KERNEL void __launch_bounds__(CLOE_IG_THREADS, 3) cloe_conv3d_bwd_data_v3_##SUFFIX(                         \
        const float *gy, const float *wt, float *gx, int n, int ci, int d, int h, int w, int co, int dO, int hO,     \
        int wO, int k, int stride, int pad, int reflect) {                                                           \
        CLOE_CONV_GEOM;                                                                                              \
        IgBackwardData p{g, gy, wt, gx};                                                                             \
        cloe_igemm<IgBackwardData, PREC, 128, 16>(p, n * g.inSpatial(), ci, co * g.taps(), co * g.taps());           \
    }                                                                                                                \
    CLOE_KERNEL void __launch_bounds__(CLOE_IG_THREADS, 4) cloe_conv3d_bwd_weight_v3_##SUFFIX(                       \
        const float *x, const float *gy, float *gw, int n, int ci, int d, int h, int w, int co, int dO, int hO,      \
        int wO, int k, int stride, int pad, int reflect, int kChunk) {                                               \
        CLOE_CONV_GEOM;                                                                                              \
        IgBackwardWeight p{g, x, gy, gw};                                                                            \
        cloe_igemm<IgBackwardWeight, PREC, 16, 128>(p, co, ci * g.taps(), n * g.outSpatial(), kChunk);               \
    }

CLOE_CONV_V3(fp32, CLOE_PREC_FP32)
CLOE_CONV_V3(tf32, CLOE_PREC_TF32)
CLOE_CONV_V3(bf16, CLOE_PREC_BF16)
