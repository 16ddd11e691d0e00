// cuda_sim: nvcuda::wmma for the shapes and types the kernels use, with tensor-core precision:
//   m16n16k8  precision::tf32 operands (the multiplier reads the top 19 bits: sign, exponent, 10-bit mantissa),
//   m16n16k16 __nv_bfloat16 operands,
// products exact, FP32 accumulation (in k order; the hardware's internal summation order is not specified, so the
// last bits can differ from a GPU). Any other shape, type or use fails to compile.
//
// Every *_sync operation is a warp rendezvous (all 32 lanes must call it, as on the hardware). Operand fragments
// hold the whole tile in every lane; an accumulator's 256 elements are spread over the lanes (8 each), so each lane
// computes only its share of an mma. Pointers must be 32-byte aligned and ldm a multiple of 16 bytes, as the
// hardware requires; a violation stops the launch with an error.
#pragma once
#include "../cuda_sim.h"
#include "cuda_bf16.h"

namespace nvcuda {
namespace wmma {

struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
namespace precision {
struct tf32 {};
}

inline float __float_to_tf32(float f) {
    // cvt.rna.tf32.f32: round to nearest, ties away from zero, to a 10-bit mantissa; NaN and inf unchanged
    unsigned u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) != 0x7f800000u) {
        u += 0x1000u;
        u &= 0xffffe000u;
    }
    std::memcpy(&f, &u, 4);
    return f;
}

namespace detail {
template <class T> struct storage;
template <> struct storage<precision::tf32> { typedef float type; };
template <> struct storage<__nv_bfloat16> { typedef __nv_bfloat16 type; };
template <> struct storage<float> { typedef float type; };
template <class T> struct is_operand : std::false_type {};
template <> struct is_operand<precision::tf32> : std::true_type {};
template <> struct is_operand<__nv_bfloat16> : std::true_type {};
template <int M, int N, int K, class T> struct shape_ok : std::false_type {};
template <> struct shape_ok<16, 16, 8, precision::tf32> : std::true_type {};
template <> struct shape_ok<16, 16, 16, __nv_bfloat16> : std::true_type {};
inline float value(float v) {
    unsigned u;
    std::memcpy(&u, &v, 4);
    u &= 0xffffe000u;  // the tf32 multiplier ignores the low 13 mantissa bits
    std::memcpy(&v, &u, 4);
    return v;
}
inline float value(__nv_bfloat16 v) { return __bfloat162float(v); }
inline void check_ptr(const void *p, unsigned ldm, unsigned elem, const char *op) {
    if (((uintptr_t)p & 31u) != 0) cloe_sim_trap(op);
    if ((ldm * elem) % 16u != 0) cloe_sim_trap(op);
}
inline int lane() { return cloe_sim_detail::lane(); }
}  // namespace detail

template <class Use, int M, int N, int K, class T, class Layout = void> class fragment;

// Operand fragments: matrix_a is M x K, matrix_b is K x N; the whole tile in every lane.
template <int M, int N, int K, class T, class Layout> class fragment<matrix_a, M, N, K, T, Layout> {
    static_assert(detail::shape_ok<M, N, K, T>::value, "cuda_sim: wmma shape/type not simulated");
    static_assert(std::is_same<Layout, row_major>::value || std::is_same<Layout, col_major>::value,
                  "cuda_sim: matrix_a needs row_major or col_major");
public:
    typedef typename detail::storage<T>::type element_type;
    static constexpr int rows = M, cols = K, num_elements = M * K;
    element_type x[M * K];  // row-major tile
};
template <int M, int N, int K, class T, class Layout> class fragment<matrix_b, M, N, K, T, Layout> {
    static_assert(detail::shape_ok<M, N, K, T>::value, "cuda_sim: wmma shape/type not simulated");
    static_assert(std::is_same<Layout, row_major>::value || std::is_same<Layout, col_major>::value,
                  "cuda_sim: matrix_b needs row_major or col_major");
public:
    typedef typename detail::storage<T>::type element_type;
    static constexpr int rows = K, cols = N, num_elements = K * N;
    element_type x[K * N];  // row-major tile
};
// Accumulator: M x N floats, lane l owns the 8 elements l * 8 .. l * 8 + 7 of the row-major tile.
template <int M, int N, int K, class T> class fragment<accumulator, M, N, K, T, void> {
    static_assert(std::is_same<T, float>::value, "cuda_sim: only float accumulators are simulated");
    static_assert(M * N == 256, "cuda_sim: wmma accumulator shape not simulated");
public:
    typedef float element_type;
    static constexpr int num_elements = 8;
    float x[8];
};

template <int M, int N, int K, class T>
inline void fill_fragment(fragment<accumulator, M, N, K, T> &f, T v) {
    cloe_sim_syncwarp(0xffffffffu);
    for (int i = 0; i < 8; i++) f.x[i] = v;
}

template <class Use, int M, int N, int K, class T, class Layout>
inline void load_matrix_sync(fragment<Use, M, N, K, T, Layout> &f,
                             const typename detail::storage<T>::type *p, unsigned ldm) {
    static_assert(detail::is_operand<T>::value, "cuda_sim: operand fragment expected");
    cloe_sim_syncwarp(0xffffffffu);
    detail::check_ptr(p, ldm, sizeof(*p), "wmma::load_matrix_sync: pointer not 32-byte aligned or ldm not a multiple of 16 bytes");
    typedef fragment<Use, M, N, K, T, Layout> F;
    constexpr bool row = std::is_same<Layout, row_major>::value;
    for (int r = 0; r < F::rows; r++)
        for (int c = 0; c < F::cols; c++) f.x[r * F::cols + c] = row ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r];
    cloe_sim_syncwarp(0xffffffffu);
}

template <int M, int N, int K, class T>
inline void load_matrix_sync(fragment<accumulator, M, N, K, T> &f, const float *p, unsigned ldm, layout_t layout) {
    cloe_sim_syncwarp(0xffffffffu);
    detail::check_ptr(p, ldm, 4, "wmma::load_matrix_sync: pointer not 32-byte aligned or ldm not a multiple of 16 bytes");
    int l = detail::lane();
    for (int i = 0; i < 8; i++) {
        int e = l * 8 + i, r = e / N, c = e % N;
        f.x[i] = layout == mem_row_major ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r];
    }
    cloe_sim_syncwarp(0xffffffffu);
}

template <int M, int N, int K, class T>
inline void store_matrix_sync(float *p, const fragment<accumulator, M, N, K, T> &f, unsigned ldm, layout_t layout) {
    cloe_sim_syncwarp(0xffffffffu);
    detail::check_ptr(p, ldm, 4, "wmma::store_matrix_sync: pointer not 32-byte aligned or ldm not a multiple of 16 bytes");
    int l = detail::lane();
    for (int i = 0; i < 8; i++) {
        int e = l * 8 + i, r = e / N, c = e % N;
        if (layout == mem_row_major) p[(size_t)r * ldm + c] = f.x[i];
        else p[(size_t)c * ldm + r] = f.x[i];
    }
    cloe_sim_syncwarp(0xffffffffu);
}

template <int M, int N, int K, class T, class LA, class LB>
inline void mma_sync(fragment<accumulator, M, N, K, float> &d, const fragment<matrix_a, M, N, K, T, LA> &a,
                     const fragment<matrix_b, M, N, K, T, LB> &b, const fragment<accumulator, M, N, K, float> &c) {
    cloe_sim_syncwarp(0xffffffffu);
    int l = detail::lane();
    float out[8];
    for (int i = 0; i < 8; i++) {
        int e = l * 8 + i, r = e / N, col = e % N;
        float s = c.x[i];
        for (int k = 0; k < K; k++) s += detail::value(a.x[r * K + k]) * detail::value(b.x[k * N + col]);
        out[i] = s;
    }
    for (int i = 0; i < 8; i++) d.x[i] = out[i];
    cloe_sim_syncwarp(0xffffffffu);
}

}  // namespace wmma
}  // namespace nvcuda
