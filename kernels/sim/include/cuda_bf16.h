// cuda_sim: __nv_bfloat16 and the conversions the kernels use, rounding exactly as the hardware does.
#pragma once
#include "../cuda_sim.h"

struct __nv_bfloat16 {
    unsigned short __x;
    __nv_bfloat16() = default;
};

// cvt.rn.bf16.f32: round to nearest, ties to even; NaN becomes the canonical 0x7fff.
inline __nv_bfloat16 __float2bfloat16_rn(float f) {
    unsigned u;
    std::memcpy(&u, &f, 4);
    __nv_bfloat16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        r.__x = 0x7fff;
    } else {
        u += 0x7fffu + ((u >> 16) & 1u);
        r.__x = (unsigned short)(u >> 16);
    }
    return r;
}
inline __nv_bfloat16 __float2bfloat16(float f) { return __float2bfloat16_rn(f); }
inline float __bfloat162float(__nv_bfloat16 b) {
    unsigned u = (unsigned)b.__x << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
