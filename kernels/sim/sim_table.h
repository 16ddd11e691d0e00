// cuda_sim: the kernel table. scripts/build-sim generates one entry per prototype of native/cloe_kernels.h
// (org.cloe4j.cuda.ffm.gen.SimKernelTableGenerator); cuLaunchKernel finds a kernel by name and unpacks its
// kernelParams by the parameter types the compiler deduces from the kernel itself, so the unpacking always agrees
// with the definition (and the definition with the header, which every kernel file includes).
#pragma once
#include <cstddef>
#include <utility>

struct CloeSimKernel {
    const char *name;
    void *fn;
    void (*run)(void *fn, void **params);
    int nargs;
    unsigned sizes[64];
};

namespace cloe_sim_detail {
template <class... A, std::size_t... I>
inline void call(void (*f)(A...), void **p, std::index_sequence<I...>) {
    f(*static_cast<typename std::remove_reference<A>::type *>(p[I])...);
}
template <class... A> void run(void *fn, void **p) {
    call(reinterpret_cast<void (*)(A...)>(fn), p, std::index_sequence_for<A...>{});
}
template <class... A> CloeSimKernel entry(const char *name, void (*f)(A...)) {
    static_assert(sizeof...(A) <= 64, "cuda_sim: at most 64 kernel parameters");
    static_assert(((sizeof(A) <= 8) && ...), "cuda_sim: kernel parameters of at most 8 bytes");
    return CloeSimKernel{name, reinterpret_cast<void *>(f), &run<A...>, (int)sizeof...(A), {(unsigned)sizeof(A)...}};
}
}  // namespace cloe_sim_detail

#define CLOE_SIM_ENTRY(f) cloe_sim_detail::entry(#f, &f)

extern "C" {
// defined by the generated table (or a test's own table)
extern const CloeSimKernel cloe_sim_table[];
extern const int cloe_sim_table_size;
// adds kernels at run time (the deliberately broken kernels of the simulator's own tests)
void cloe_sim_register_kernels(const CloeSimKernel *kernels, int count);
}
