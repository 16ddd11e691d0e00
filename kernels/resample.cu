// Trilinear x2 up-sampling (align_corners = true) and reflect padding of cloe4j.
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 resample.cu
//
// Up-sampling backward:
//   version 1: one thread per output voxel scatters its gradient to the 8 source corners with atomicAdd into a
//              zeroed gx: the forward loop read backwards. Simple, but atomics contend (every input voxel
//              receives ~8 * 8 contributions) and the result depends on the order of the additions.
//   version 2: one thread per input voxel gathers: along each axis only the outputs whose interpolation
//              interval touches this input contribute (at most ~5 of them), and trilinear weights separate per
//              axis, so the gather is a triple loop over small ranges with no atomics and a fixed order.
// Reflect padding (PyTorch 'reflect', pad 1) lets cuDNN, which only pads with zeros, run CLoE's reflect convs.
#include "common.cuh"

// Source interval of output coordinate o along an axis of `in` inputs and 2*in outputs (align_corners = true).
__device__ __forceinline__ void up_src(int o, int in, int *i0, int *i1, float *f) {
    const int out = 2 * in;
    const float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.f;
    const float x = o * scale;
    int a = (int)floorf(x);
    if (a > in - 1) a = in - 1;
    *i0 = a;
    *i1 = a + 1 < in ? a + 1 : in - 1;
    *f = x - (float)a;
}

CLOE_KERNEL void cloe_upsample2x_fwd(const float *x, float *y, int nc, int d, int h, int w) {
    const int D = 2 * d, H = 2 * h, W = 2 * w;
    const long long total = (long long)nc * D * H * W;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
        long long r = i;
        const int ow = r % W; r /= W;
        const int oh = r % H; r /= H;
        const int od = r % D; r /= D;
        const long long m = r;
        int d0, d1, h0, h1, w0, w1; float fd, fh, fw;
        up_src(od, d, &d0, &d1, &fd);
        up_src(oh, h, &h0, &h1, &fh);
        up_src(ow, w, &w0, &w1, &fw);
        const float *xp = x + m * d * h * w;
#define X(a, b, c) xp[((long long)(a) * h + (b)) * w + (c)]
        const float v =
            (1.f - fd) * ((1.f - fh) * ((1.f - fw) * X(d0, h0, w0) + fw * X(d0, h0, w1)) +
                          fh * ((1.f - fw) * X(d0, h1, w0) + fw * X(d0, h1, w1))) +
            fd * ((1.f - fh) * ((1.f - fw) * X(d1, h0, w0) + fw * X(d1, h0, w1)) +
                  fh * ((1.f - fw) * X(d1, h1, w0) + fw * X(d1, h1, w1)));
#undef X
        y[i] = v;
    }
}

CLOE_KERNEL void cloe_upsample2x_bwd_v1(const float *gy, float *gx, int nc, int d, int h, int w) {
    const int D = 2 * d, H = 2 * h, W = 2 * w;
    const long long total = (long long)nc * D * H * W;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
        long long r = i;
        const int ow = r % W; r /= W;
        const int oh = r % H; r /= H;
        const int od = r % D; r /= D;
        const long long m = r;
        int d0, d1, h0, h1, w0, w1; float fd, fh, fw;
        up_src(od, d, &d0, &d1, &fd);
        up_src(oh, h, &h0, &h1, &fh);
        up_src(ow, w, &w0, &w1, &fw);
        const float g = gy[i];
        float *gp = gx + m * d * h * w;
#define G(a, b, c, wt) atomicAdd(&gp[((long long)(a) * h + (b)) * w + (c)], g * (wt))
        G(d0, h0, w0, (1.f - fd) * (1.f - fh) * (1.f - fw));
        G(d0, h0, w1, (1.f - fd) * (1.f - fh) * fw);
        G(d0, h1, w0, (1.f - fd) * fh * (1.f - fw));
        G(d0, h1, w1, (1.f - fd) * fh * fw);
        G(d1, h0, w0, fd * (1.f - fh) * (1.f - fw));
        G(d1, h0, w1, fd * (1.f - fh) * fw);
        G(d1, h1, w0, fd * fh * (1.f - fw));
        G(d1, h1, w1, fd * fh * fw);
#undef G
    }
}

// The outputs along one axis that read input i: [lo, hi]; weight(o) computed by weight_of.
__device__ __forceinline__ void up_range(int i, int in, int *lo, int *hi) {
    const int out = 2 * in;
    if (in == 1) { *lo = 0; *hi = out - 1; return; }
    const float inv = (float)(out - 1) / (float)(in - 1); // outputs per input step (~2)
    int a = (int)floorf((i - 1) * inv) - 1, b = (int)ceilf((i + 1) * inv) + 1;
    *lo = a < 0 ? 0 : a;
    *hi = b > out - 1 ? out - 1 : b;
}

__device__ __forceinline__ float up_weight(int o, int i, int in) {
    int i0, i1; float f;
    up_src(o, in, &i0, &i1, &f);
    return (i0 == i ? 1.f - f : 0.f) + (i1 == i ? f : 0.f);
}

CLOE_KERNEL void cloe_upsample2x_bwd_v2(const float *gy, float *gx, int nc, int d, int h, int w) {
    const int H = 2 * h, W = 2 * w, D = 2 * d;
    const long long total = (long long)nc * d * h * w;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
        long long r = i;
        const int iw = r % w; r /= w;
        const int ih = r % h; r /= h;
        const int id = r % d; r /= d;
        const long long m = r;
        int dlo, dhi, hlo, hhi, wlo, whi;
        up_range(id, d, &dlo, &dhi);
        up_range(ih, h, &hlo, &hhi);
        up_range(iw, w, &wlo, &whi);
        const float *gp = gy + m * D * H * W;
        float acc = 0.f;
        for (int od = dlo; od <= dhi; od++) {
            const float wd = up_weight(od, id, d);
            if (wd == 0.f) continue;
            for (int oh = hlo; oh <= hhi; oh++) {
                const float wh = up_weight(oh, ih, h);
                if (wh == 0.f) continue;
                float row = 0.f;
                for (int ow = wlo; ow <= whi; ow++) {
                    const float ww = up_weight(ow, iw, w);
                    if (ww != 0.f) row += ww * gp[((long long)od * H + oh) * W + ow];
                }
                acc += wd * wh * row;
            }
        }
        gx[i] = acc;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// reflect padding by one voxel: padded index p in [0, n + 2) reads source p - 1, mirrored without repeating the edge

__device__ __forceinline__ int reflect1(int p, int n) {
    const int s = p - 1;
    return s < 0 ? -s : (s >= n ? 2 * n - 2 - s : s);
}

CLOE_KERNEL void cloe_pad_reflect1_fwd(const float *x, float *y, int nc, int d, int h, int w) {
    const int D = d + 2, H = h + 2, W = w + 2;
    const long long total = (long long)nc * D * H * W;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
        long long r = i;
        const int pw = r % W; r /= W;
        const int ph = r % H; r /= H;
        const int pd = r % D; r /= D;
        y[i] = x[((r * d + reflect1(pd, d)) * h + reflect1(ph, h)) * w + reflect1(pw, w)];
    }
}

// The padded positions along one axis that read source i: i + 1 itself, 0 when i == 1, n + 1 when i == n - 2.
__device__ __forceinline__ int reflect1_sources(int i, int n, int (&p)[3]) {
    int k = 0;
    p[k++] = i + 1;
    if (i == 1) p[k++] = 0;
    if (i == n - 2) p[k++] = n + 1;
    return k;
}

CLOE_KERNEL void cloe_pad_reflect1_bwd(const float *gy, float *gx, int nc, int d, int h, int w) {
    const int D = d + 2, H = h + 2, W = w + 2;
    const long long total = (long long)nc * d * h * w;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
        long long r = i;
        const int iw = r % w; r /= w;
        const int ih = r % h; r /= h;
        const int id = r % d; r /= d;
        int pd[3], ph[3], pw[3];
        const int nd = reflect1_sources(id, d, pd), nh = reflect1_sources(ih, h, ph), nw = reflect1_sources(iw, w, pw);
        const float *gp = gy + r * D * H * W;
        float acc = 0.f;
        for (int a = 0; a < nd; a++)
            for (int b = 0; b < nh; b++)
                for (int c = 0; c < nw; c++) acc += gp[((long long)pd[a] * H + ph[b]) * W + pw[c]];
        gx[i] = acc;
    }
}
