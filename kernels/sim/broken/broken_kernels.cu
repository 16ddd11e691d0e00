// Deliberately broken copies of real kernels, for the simulator's own tests (kernels/sim/broken/sim_selftest.cpp):
// each carries one bug of a kind that a GPU run would show only as a wrong number, a hang or nothing at all, and the
// self-test checks that the simulator catches it. NOT part of the kernel build (scripts/build-kernels compiles
// kernels/*.cu only).
//
//   BUG_TILE_EDGE    cloe_igemm with the K bound of the tile gather off by one (the last k of every chunk dropped)
//   BUG_NO_SYNC      cloe_igemm without the __syncthreads between gathering the tiles and multiplying them
//   BUG_WMMA_LAYOUT  cloe_igemm (tensor cores) loading the B fragment as col_major from a row-major tile
//   cloe_broken_scale_past_end   cloe_scale with i <= n: one write past the end of y
#include "../../conv3d.cu"

enum { BUG_NONE = 0, BUG_TILE_EDGE = 1, BUG_NO_SYNC = 2, BUG_WMMA_LAYOUT = 3 };

// A copy of cloe_igemm (kernels/conv3d.cu) with the bugs above behind BUG.
template <class P, int PREC, int BUG, int BM = CLOE_IG_BM, int BN = CLOE_IG_BN>
__device__ __forceinline__ void broken_igemm(const P &p, int M, int N, int K, int kChunk) {
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
            const int kLimit = BUG == BUG_TILE_EDGE ? kEnd - 1 : kEnd;  // BUG_TILE_EDGE: off by one
            Bs[r * LDB + c] = Op::cvt(nn < N && kk < kLimit ? p.b(kk, nn) : 0.f);
        }
        if constexpr (BUG != BUG_NO_SYNC) __syncthreads();  // BUG_NO_SYNC: the barrier is missing
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
                typedef typename std::conditional<BUG == BUG_WMMA_LAYOUT, wmma::col_major, wmma::row_major>::type LayoutB;
                wmma::fragment<wmma::matrix_b, 16, 16, FK, FragT, LayoutB> bf[FN];  // BUG_WMMA_LAYOUT: col_major
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


#define CLOE_BROKEN_CONV_FWD(NAME, PREC, BUG)                                                                       \
    extern "C" __global__ void NAME(const float *x, const float *wt, const float *bias, float *y, int n, int ci,    \
                                    int d, int h, int w, int co, int dO, int hO, int wO, int k, int stride, int pad,\
                                    int reflect) {                                                                  \
        CLOE_CONV_GEOM;                                                                                             \
        IgForward p{g, x, wt, bias, y};                                                                             \
        broken_igemm<IgForward, PREC, BUG>(p, n * g.outSpatial(), co, ci * g.taps(), ci * g.taps());               \
    }

CLOE_BROKEN_CONV_FWD(cloe_broken_conv3d_fwd_tile_edge, CLOE_PREC_FP32, BUG_TILE_EDGE)
CLOE_BROKEN_CONV_FWD(cloe_broken_conv3d_fwd_no_sync, CLOE_PREC_FP32, BUG_NO_SYNC)
CLOE_BROKEN_CONV_FWD(cloe_broken_conv3d_fwd_wmma_layout, CLOE_PREC_TF32, BUG_WMMA_LAYOUT)
// the copy with no bug: shows that the copy itself is faithful (it must match the real kernel bit for bit)
CLOE_BROKEN_CONV_FWD(cloe_copy_conv3d_fwd_v2_fp32, CLOE_PREC_FP32, BUG_NONE)
CLOE_BROKEN_CONV_FWD(cloe_copy_conv3d_fwd_v2_tf32, CLOE_PREC_TF32, BUG_NONE)

// cloe_scale (kernels/elementwise.cu) with i <= n: the last thread writes one float past the end of y.
extern "C" __global__ void cloe_broken_scale_past_end(const float *x, float s, float *y, int n) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i <= n; i += blockDim.x * gridDim.x) y[i] = s * (i < n ? x[i] : 1.f);
}
