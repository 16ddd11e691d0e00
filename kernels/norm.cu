// Instance normalisation of cloe4j: y = (x - mean) * rstd * gamma[c] + beta[c] over each (n, c) map, with the
// statistics kept for the backward pass. Variance is the biased one (PyTorch's InstanceNorm3d).
//
// Compile: nvcc -std=c++17 -O3 -fatbin -gencode arch=compute_90,code=sm_90 norm.cu
//
// version 1: one thread per map, three serial passes (mean, variance, normalise). The CPU loop, moved to the
//            GPU: correct, but with N*C maps only N*C threads run (16 on a 132-SM H100) and each walks 1.4 M
//            voxels alone. A reference, and the "before" of the benchmark.
// version 2: one block per map. Mean and variance are two block reductions (two passes, not E[x^2] - E[x]^2, so
//            a map with a large mean keeps its precision), then the normalise pass; the map is read three times
//            but the second and third reads of a small map come from L2. Backward likewise: one block
//            reduction of (sum gy*gamma, sum gy*gamma*xhat), then gx; the per-map affine-gradient sums go to
//            part[] and a tiny kernel adds them over the batch, so no atomics and a fixed summation order.
//            Still only N*C blocks: at CLoE's shapes (1 x 16 maps of 112^3) 16 of 132 SMs work.
// version 3: every map split over many blocks (grid (splits, N*C)). Forward: one pass of shifted sums
//            (sum (x - x0), sum (x - x0)^2, x0 the map's first value, so the variance does not cancel), a column
//            reduction, a one-thread-per-map finish, and one element-wise normalise pass: x is read twice and y
//            written once, all SMs busy. Backward: one pass of (sum gy*xhat, sum gy) partials, the same column
//            reduction, and one element-wise pass for gx.
#include "common.cuh"

CLOE_KERNEL void cloe_instance_norm_fwd_v1(const float *x, const float *gamma, const float *beta, float *y,
                                           float *mean, float *rstd, int nc, int c, int spatial, float eps) {
    CLOE_GRID_STRIDE(m, nc) {
        const float *xp = x + (long long)m * spatial;
        float *yp = y + (long long)m * spatial;
        double s = 0.0;
        for (int i = 0; i < spatial; i++) s += xp[i];
        const float mu = (float)(s / spatial);
        double v = 0.0;
        for (int i = 0; i < spatial; i++) { const float dlt = xp[i] - mu; v += (double)dlt * dlt; }
        const float rs = rsqrtf((float)(v / spatial) + eps);
        const float g = gamma ? gamma[m % c] : 1.f, b = beta ? beta[m % c] : 0.f;
        for (int i = 0; i < spatial; i++) yp[i] = (xp[i] - mu) * rs * g + b;
        mean[m] = mu;
        rstd[m] = rs;
    }
}

CLOE_KERNEL void cloe_instance_norm_fwd_v2(const float *x, const float *gamma, const float *beta, float *y,
                                           float *mean, float *rstd, int nc, int c, int spatial, float eps) {
    __shared__ float scratch[32];
    for (int m = blockIdx.x; m < nc; m += gridDim.x) {
        const float *xp = x + (long long)m * spatial;
        float *yp = y + (long long)m * spatial;
        float s = 0.f;
        for (int i = threadIdx.x; i < spatial; i += blockDim.x) s += xp[i];
        const float mu = cloe_block_sum(s, scratch) / spatial;
        float v = 0.f;
        for (int i = threadIdx.x; i < spatial; i += blockDim.x) { const float dlt = xp[i] - mu; v += dlt * dlt; }
        const float rs = rsqrtf(cloe_block_sum(v, scratch) / spatial + eps);
        const float g = gamma ? gamma[m % c] : 1.f, b = beta ? beta[m % c] : 0.f;
        const float a = rs * g, off = b - mu * rs * g;
        for (int i = threadIdx.x; i < spatial; i += blockDim.x) yp[i] = fmaf(xp[i], a, off);
        if (threadIdx.x == 0) { mean[m] = mu; rstd[m] = rs; }
    }
}

// gx = rstd * (g*gy - mean(g*gy) - xhat * mean(g*gy*xhat)),  xhat = (x - mean) * rstd.
CLOE_KERNEL void cloe_instance_norm_bwd_v1(const float *x, const float *gy, const float *mean, const float *rstd,
                                           const float *gamma, float *gx, float *part, int nc, int c, int spatial) {
    CLOE_GRID_STRIDE(m, nc) {
        const float *xp = x + (long long)m * spatial, *gp = gy + (long long)m * spatial;
        float *op = gx + (long long)m * spatial;
        const float mu = mean[m], rs = rstd[m], g = gamma ? gamma[m % c] : 1.f;
        double sg = 0.0, sgx = 0.0;
        for (int i = 0; i < spatial; i++) { const float xh = (xp[i] - mu) * rs; sg += gp[i]; sgx += (double)gp[i] * xh; }
        const float mg = (float)(g * sg / spatial), mgx = (float)(g * sgx / spatial);
        for (int i = 0; i < spatial; i++) {
            const float xh = (xp[i] - mu) * rs;
            op[i] = rs * (g * gp[i] - mg - xh * mgx);
        }
        part[2 * m] = (float)sgx;
        part[2 * m + 1] = (float)sg;
    }
}

CLOE_KERNEL void cloe_instance_norm_bwd_v2(const float *x, const float *gy, const float *mean, const float *rstd,
                                           const float *gamma, float *gx, float *part, int nc, int c, int spatial) {
    __shared__ float scratch[2 * 32];
    __shared__ float sums[2];
    for (int m = blockIdx.x; m < nc; m += gridDim.x) {
        const float *xp = x + (long long)m * spatial, *gp = gy + (long long)m * spatial;
        float *op = gx + (long long)m * spatial;
        const float mu = mean[m], rs = rstd[m], g = gamma ? gamma[m % c] : 1.f;
        float v[2] = {0.f, 0.f};
        for (int i = threadIdx.x; i < spatial; i += blockDim.x) {
            const float xh = (xp[i] - mu) * rs;
            v[0] += gp[i];
            v[1] += gp[i] * xh;
        }
        cloe_block_sum_n<2>(v, scratch, sums);
        const float sg = sums[0], sgx = sums[1];
        const float mg = g * sg / spatial, mgx = g * sgx / spatial;
        for (int i = threadIdx.x; i < spatial; i += blockDim.x) {
            const float xh = (xp[i] - mu) * rs;
            op[i] = rs * (g * gp[i] - mg - xh * mgx);
        }
        if (threadIdx.x == 0) { part[2 * m] = sgx; part[2 * m + 1] = sg; }
    }
}

CLOE_KERNEL void cloe_instance_norm_affine_grad(const float *part, float *ggamma, float *gbeta, int batch, int c) {
    CLOE_GRID_STRIDE(k, c) {
        float a = 0.f, b = 0.f;
        for (int n = 0; n < batch; n++) { a += part[2 * (n * c + k)]; b += part[2 * (n * c + k) + 1]; }
        if (ggamma) ggamma[k] = a;
        if (gbeta) gbeta[k] = b;
    }
}

// ---------------------------------------------------------------------------------------------------------------
// version 3: split maps

CLOE_KERNEL void cloe_instance_norm_stats_v3(const float *x, float *partials, int nc, int spatial) {
    __shared__ float scratch[2 * 32];
    __shared__ float out[2];
    const int map = blockIdx.y;
    const float *xp = x + (long long)map * spatial;
    const float x0 = xp[0];
    float v[2] = {0.f, 0.f};
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < spatial; i += blockDim.x * gridDim.x) {
        const float d = xp[i] - x0;
        v[0] += d;
        v[1] = fmaf(d, d, v[1]);
    }
    cloe_block_sum_n<2>(v, scratch, out);
    if (threadIdx.x < 2) partials[((long long)blockIdx.x * nc + map) * 2 + threadIdx.x] = out[threadIdx.x];
}

CLOE_KERNEL void cloe_instance_norm_finish_v3(const float *sums, const float *x, float *mean, float *rstd, int nc,
                                              int spatial, float eps) {
    CLOE_GRID_STRIDE(m, nc) {
        const double s1 = sums[2 * m] / (double)spatial, s2 = sums[2 * m + 1] / (double)spatial;
        double var = s2 - s1 * s1;
        if (var < 0.0) var = 0.0;
        mean[m] = (float)(x[(long long)m * spatial] + s1);
        rstd[m] = rsqrtf((float)var + eps);
    }
}

CLOE_KERNEL void cloe_instance_norm_apply_v3(const float *x, const float *gamma, const float *beta, const float *mean,
                                             const float *rstd, float *y, int nc, int c, int spatial) {
    const long long total = (long long)nc * spatial;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
        const int m = (int)(i / spatial);
        const float g = gamma ? gamma[m % c] : 1.f, b = beta ? beta[m % c] : 0.f;
        const float a = rstd[m] * g;
        y[i] = fmaf(x[i] - mean[m], a, b);
    }
}

CLOE_KERNEL void cloe_instance_norm_bwd_sums_v3(const float *x, const float *gy, const float *mean, const float *rstd,
                                                float *partials, int nc, int spatial) {
    __shared__ float scratch[2 * 32];
    __shared__ float out[2];
    const int map = blockIdx.y;
    const float *xp = x + (long long)map * spatial, *gp = gy + (long long)map * spatial;
    const float mu = mean[map], rs = rstd[map];
    float v[2] = {0.f, 0.f};
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < spatial; i += blockDim.x * gridDim.x) {
        const float g = gp[i];
        v[0] = fmaf(g, (xp[i] - mu) * rs, v[0]);
        v[1] += g;
    }
    cloe_block_sum_n<2>(v, scratch, out);
    if (threadIdx.x < 2) partials[((long long)blockIdx.x * nc + map) * 2 + threadIdx.x] = out[threadIdx.x];
}

CLOE_KERNEL void cloe_instance_norm_bwd_apply_v3(const float *x, const float *gy, const float *mean, const float *rstd,
                                                 const float *gamma, const float *part, float *gx, int nc, int c,
                                                 int spatial) {
    const long long total = (long long)nc * spatial;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < total; i += (long long)blockDim.x * gridDim.x) {
        const int m = (int)(i / spatial);
        const float g = gamma ? gamma[m % c] : 1.f, rs = rstd[m];
        const float mg = g * part[2 * m + 1] / spatial, mgx = g * part[2 * m] / spatial;
        const float xh = (x[i] - mean[m]) * rs;
        gx[i] = rs * (g * gy[i] - mg - xh * mgx);
    }
}
