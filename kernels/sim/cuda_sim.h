// The CUDA simulator's device-side header: with it, the kernels in kernels/*.cu compile unchanged for the host
// (g++ or clang++, C++17) and run on the CPU inside the simulated driver (kernels/sim/sim_runtime.cpp).
//
// Model: every CUDA thread of a block is a fiber with its own small stack; the blocks of a grid run one after
// another; __syncthreads, __syncwarp, shuffles, votes and the wmma *_sync operations are real rendezvous points
// (a fiber yields there until every thread the operation names has arrived). Static __shared__ arrays are static
// locals: one copy, used by one block at a time. Only what the kernels use is provided; anything else (dynamic
// extern __shared__, textures, cooperative groups, other wmma shapes/types) fails to compile rather than run wrong.
//
// Compiled with: -std=c++17 -D__CUDACC__ -D__CUDA_ARCH__=900 -include kernels/sim/cuda_sim.h -I kernels/sim/include
#pragma once
#ifndef CLOE_CUDA_SIM
#define CLOE_CUDA_SIM 1

#include <cmath>
#include <cstdint>
#include <cstring>
#include <cstddef>
#include <math.h>
#include <type_traits>

// ---- qualifiers ------------------------------------------------------------------------------------------------
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
// One copy per program, used by one block at a time (blocks never run concurrently in the simulator).
// "extern __shared__" (dynamic shared memory) expands to "extern static" and does not compile: not supported.
#define __shared__ static
#define __constant__ static_assert(false, "cuda_sim: __constant__ memory is not simulated");

// ---- built-in vector types and indices -------------------------------------------------------------------------
struct uint3 { unsigned int x, y, z; };
struct dim3 {
    unsigned int x, y, z;
    constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
};
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) float2 { float x, y; };
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
inline float2 make_float2(float x, float y) { return float2{x, y}; }

// Set by the scheduler before each fiber resumes, so a thread always sees its own values.
extern "C" __attribute__((visibility("default"))) uint3 threadIdx, blockIdx;
extern "C" __attribute__((visibility("default"))) dim3 blockDim, gridDim;
constexpr int warpSize = 32;

// ---- runtime entry points (sim_runtime.cpp) --------------------------------------------------------------------
#pragma GCC visibility push(default)
extern "C" {
void cloe_sim_syncthreads(void);
void cloe_sim_syncwarp(unsigned mask);
// Warp exchange: every lane in mask deposits `v` (8 bytes) and receives the deposit of lane `src`
// (src outside 0..31 or absent: own value). Returns after all lanes in mask arrived.
unsigned long long cloe_sim_warp_exchange(unsigned mask, unsigned long long v, int src);
// Vote: returns the ballot of `pred` over the lanes in mask.
unsigned cloe_sim_warp_ballot(unsigned mask, int pred);
void cloe_sim_atomic_note(const void *addr);
void cloe_sim_trap(const char *what) __attribute__((noreturn));
}
#pragma GCC visibility pop

inline void __syncthreads() { cloe_sim_syncthreads(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { cloe_sim_syncwarp(mask); }
inline void __threadfence() {}
inline void __threadfence_block() {}
inline unsigned __activemask() = delete;  // not simulated: depends on the real divergence state
inline void __trap() { cloe_sim_trap("__trap() called"); }

// ---- shuffles and votes ----------------------------------------------------------------------------------------
namespace cloe_sim_detail {
template <class T> inline unsigned long long pack(T v) {
    static_assert(std::is_trivially_copyable<T>::value && (sizeof(T) == 4 || sizeof(T) == 8),
                  "cuda_sim: shuffles of 4- and 8-byte types only");
    unsigned long long u = 0;
    std::memcpy(&u, &v, sizeof(T));
    return u;
}
template <class T> inline T unpack(unsigned long long u) {
    T v;
    std::memcpy(&v, &u, sizeof(T));
    return v;
}
inline int lane() { return (int)(((threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x) % 32u); }
inline void check_width(int width) {
    if (width <= 0 || width > 32 || (width & (width - 1))) cloe_sim_trap("shuffle width must be a power of 2 <= 32");
}
}  // namespace cloe_sim_detail

template <class T> inline T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
    cloe_sim_detail::check_width(width);
    int l = cloe_sim_detail::lane();
    int s = (l & ~(width - 1)) + (src & (width - 1));
    return cloe_sim_detail::unpack<T>(cloe_sim_warp_exchange(mask, cloe_sim_detail::pack(v), s));
}
template <class T> inline T __shfl_xor_sync(unsigned mask, T v, int laneMask, int width = 32) {
    cloe_sim_detail::check_width(width);
    int l = cloe_sim_detail::lane();
    int s = l ^ laneMask;
    if ((s & ~(width - 1)) != (l & ~(width - 1))) s = l;
    return cloe_sim_detail::unpack<T>(cloe_sim_warp_exchange(mask, cloe_sim_detail::pack(v), s));
}
template <class T> inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    cloe_sim_detail::check_width(width);
    int l = cloe_sim_detail::lane();
    int s = l + (int)delta;
    if ((s & ~(width - 1)) != (l & ~(width - 1))) s = l;
    return cloe_sim_detail::unpack<T>(cloe_sim_warp_exchange(mask, cloe_sim_detail::pack(v), s));
}
template <class T> inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    cloe_sim_detail::check_width(width);
    int l = cloe_sim_detail::lane();
    int s = l - (int)delta;
    if (s < 0 || (s & ~(width - 1)) != (l & ~(width - 1))) s = l;
    return cloe_sim_detail::unpack<T>(cloe_sim_warp_exchange(mask, cloe_sim_detail::pack(v), s));
}
inline unsigned __ballot_sync(unsigned mask, int pred) { return cloe_sim_warp_ballot(mask, pred); }
inline int __any_sync(unsigned mask, int pred) { return cloe_sim_warp_ballot(mask, pred) != 0; }
inline int __all_sync(unsigned mask, int pred) { return cloe_sim_warp_ballot(mask, !pred) == 0; }

// ---- atomics (fibers of one block never run at the same time, so a plain read-modify-write is atomic) --------
template <class T> inline T atomicAdd(T *p, T v) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, int>::value || std::is_same<T, unsigned>::value ||
                  std::is_same<T, unsigned long long>::value || std::is_same<T, double>::value,
                  "cuda_sim: atomicAdd on this type is not simulated");
    cloe_sim_atomic_note(p);
    T old = *p;
    *p = old + v;
    return old;
}
template <class T> inline T atomicMax(T *p, T v) {
    static_assert(std::is_integral<T>::value, "cuda_sim: atomicMax on integers only");
    cloe_sim_atomic_note(p);
    T old = *p;
    if (v > old) *p = v;
    return old;
}
template <class T> inline T atomicMin(T *p, T v) {
    static_assert(std::is_integral<T>::value, "cuda_sim: atomicMin on integers only");
    cloe_sim_atomic_note(p);
    T old = *p;
    if (v < old) *p = v;
    return old;
}
template <class T> inline T atomicExch(T *p, T v) {
    cloe_sim_atomic_note(p);
    T old = *p;
    *p = v;
    return old;
}
template <class T> inline T atomicCAS(T *p, T cmp, T v) {
    static_assert(std::is_integral<T>::value, "cuda_sim: atomicCAS on integers only");
    cloe_sim_atomic_note(p);
    T old = *p;
    if (old == cmp) *p = v;
    return old;
}

// ---- math ------------------------------------------------------------------------------------------------------
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
// The hardware's rsqrtf and the fast intrinsics are approximations (a few ulp); here they are the correctly
// rounded functions, so results can differ from a GPU in the last bits.
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __saturatef(float x) { return x != x ? 0.f : fminf(fmaxf(x, 0.f), 1.f); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
template <class T> inline T __ldg(const T *p) { return *p; }

// No printf redirection: printf in a kernel is the C library's printf (see kernels/README.md, "debug one thread").
#include <cstdio>

#endif
