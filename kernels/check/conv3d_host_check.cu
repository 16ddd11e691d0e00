/*
Host-side check of conv3d.cu's index arithmetic, runnable without a GPU (scripts/check-conv-indexing):
  nvcc -std=c++17 -O2 -o conv3d_host_check kernels/check/conv3d_host_check.cu && ./conv3d_host_check

The reference materialises the padding (an explicitly zero- or reflect-padded copy of x, PyTorch semantics) and runs
the textbook loops; the adjoint folds the padded gradient back (a padded voxel adds into the voxel it copies).
Against it run, on the CPU: the version-1 element functions (cloe_conv_fwd_v1_at, cloe_conv_bwd_data_v1_at,
cloe_conv_bwd_weight_v1_term) and the version-2 GEMM operand functors (IgForward, IgBackwardData, IgBackwardWeight:
C = sum_k a(m, k) b(k, n), stored through store(), backward-weight in K chunks as the split grid does). What this
cannot check is the GPU-only part: the shared-memory tiling and the wmma fragments (the GPU tests do).
*/
#include "../conv3d.cu"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

struct Case {
    int n, ci, d, h, w, co, k, stride, pad, reflect;
};

static int reflectIndex(int p, int size) { return p < 0 ? -p : (p >= size ? 2 * size - 2 - p : p); }

// padded-copy reference
struct Ref {
    ConvGeom g;
    int D, H, W;
    std::vector<float> xp;  // padded x
    Ref(const ConvGeom &g_) : g(g_), D(g.d + 2 * g.pad), H(g.h + 2 * g.pad), W(g.w + 2 * g.pad) {}
    int srcOf(int p, int size) const {  // padded coordinate -> input index or -1
        int q = p - g.pad;
        if (q >= 0 && q < size) return q;
        return g.reflect ? reflectIndex(q, size) : -1;
    }
    void pad(const std::vector<float> &x) {
        xp.assign((size_t)g.n * g.ci * D * H * W, 0.f);
        for (int b = 0; b < g.n; b++)
            for (int c = 0; c < g.ci; c++)
                for (int z = 0; z < D; z++)
                    for (int y = 0; y < H; y++)
                        for (int v = 0; v < W; v++) {
                            int i = srcOf(z, g.d), j = srcOf(y, g.h), l = srcOf(v, g.w);
                            if (i < 0 || j < 0 || l < 0) continue;
                            xp[(((size_t)(b * g.ci + c) * D + z) * H + y) * W + v] =
                                x[(((size_t)(b * g.ci + c) * g.d + i) * g.h + j) * g.w + l];
                        }
    }
    double xpAt(int b, int c, int z, int y, int v) const { return xp[(((size_t)(b * g.ci + c) * D + z) * H + y) * W + v]; }
    std::vector<double> forward(const std::vector<float> &wt, const std::vector<float> &bias) const {
        std::vector<double> y((size_t)g.n * g.co * g.outSpatial());
        int k = g.k;
        for (int b = 0; b < g.n; b++)
            for (int o = 0; o < g.co; o++)
                for (int od = 0; od < g.dO; od++)
                    for (int oh = 0; oh < g.hO; oh++)
                        for (int ow = 0; ow < g.wO; ow++) {
                            double s = bias.empty() ? 0 : bias[o];
                            for (int c = 0; c < g.ci; c++)
                                for (int kd = 0; kd < k; kd++)
                                    for (int kh = 0; kh < k; kh++)
                                        for (int kw = 0; kw < k; kw++)
                                            s += xpAt(b, c, od * g.stride + kd, oh * g.stride + kh, ow * g.stride + kw)
                                                 * wt[((((size_t)o * g.ci + c) * k + kd) * k + kh) * k + kw];
                            y[(((size_t)(b * g.co + o) * g.dO + od) * g.hO + oh) * g.wO + ow] = s;
                        }
        return y;
    }
    std::vector<double> backwardData(const std::vector<float> &gy, const std::vector<float> &wt) const {
        std::vector<double> gxp((size_t)g.n * g.ci * D * H * W, 0.0), gx((size_t)g.n * g.ci * g.inSpatial(), 0.0);
        int k = g.k;
        for (int b = 0; b < g.n; b++)
            for (int o = 0; o < g.co; o++)
                for (int od = 0; od < g.dO; od++)
                    for (int oh = 0; oh < g.hO; oh++)
                        for (int ow = 0; ow < g.wO; ow++) {
                            double v = gy[(((size_t)(b * g.co + o) * g.dO + od) * g.hO + oh) * g.wO + ow];
                            for (int c = 0; c < g.ci; c++)
                                for (int kd = 0; kd < k; kd++)
                                    for (int kh = 0; kh < k; kh++)
                                        for (int kw = 0; kw < k; kw++)
                                            gxp[(((size_t)(b * g.ci + c) * D + od * g.stride + kd) * H + oh * g.stride + kh) * W
                                                + ow * g.stride + kw] += v * wt[((((size_t)o * g.ci + c) * k + kd) * k + kh) * k + kw];
                        }
        for (int b = 0; b < g.n; b++)
            for (int c = 0; c < g.ci; c++)
                for (int z = 0; z < D; z++)
                    for (int y = 0; y < H; y++)
                        for (int v = 0; v < W; v++) {
                            int i = srcOf(z, g.d), j = srcOf(y, g.h), l = srcOf(v, g.w);
                            if (i < 0 || j < 0 || l < 0) continue;
                            gx[(((size_t)(b * g.ci + c) * g.d + i) * g.h + j) * g.w + l] +=
                                gxp[(((size_t)(b * g.ci + c) * D + z) * H + y) * W + v];
                        }
        return gx;
    }
    std::vector<double> backwardWeight(const std::vector<float> &gy) const {
        int k = g.k;
        std::vector<double> gw((size_t)g.co * g.ci * g.taps(), 0.0);
        for (int o = 0; o < g.co; o++)
            for (int c = 0; c < g.ci; c++)
                for (int kd = 0; kd < k; kd++)
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++) {
                            double s = 0;
                            for (int b = 0; b < g.n; b++)
                                for (int od = 0; od < g.dO; od++)
                                    for (int oh = 0; oh < g.hO; oh++)
                                        for (int ow = 0; ow < g.wO; ow++)
                                            s += xpAt(b, c, od * g.stride + kd, oh * g.stride + kh, ow * g.stride + kw)
                                                 * gy[(((size_t)(b * g.co + o) * g.dO + od) * g.hO + oh) * g.wO + ow];
                            gw[((((size_t)o * g.ci + c) * k + kd) * k + kh) * k + kw] = s;
                        }
        return gw;
    }
};

static int failures = 0;

static void compare(const char *what, const Case &c, const std::vector<double> &ref, const std::vector<float> &got) {
    double max = 0, worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        max = std::fmax(max, std::fabs(ref[i]));
        double e = std::fabs(ref[i] - got[i]);
        if (!(e <= worst)) { worst = e; at = i; }
    }
    // float sums of at most a few thousand terms vs double: 1e-5 of the largest magnitude is ample
    bool ok = worst <= 1e-5 * max + 1e-6 && ref.size() == got.size();
    if (!ok) failures++;
    std::printf("%-5s %-22s n%d ci%d %dx%dx%d co%d k%d s%d p%d %s: max |err| %.3g (max |ref| %.3g)%s\n", ok ? "ok" : "FAIL",
                what, c.n, c.ci, c.d, c.h, c.w, c.co, c.k, c.stride, c.pad, c.reflect ? "reflect" : "zero", worst, max,
                ok ? "" : " <-");
    if (!ok) std::printf("      first worst at %zu: ref %.8g got %.8g\n", at, ref[at], got[at]);
}

int main() {
    const Case cases[] = {
        {2, 3, 5, 7, 9, 4, 3, 1, 1, 1}, {1, 5, 6, 5, 7, 3, 3, 1, 1, 0}, {2, 3, 7, 6, 5, 5, 3, 2, 1, 1},
        {1, 4, 8, 6, 9, 6, 3, 2, 1, 0}, {2, 6, 5, 4, 3, 7, 1, 1, 0, 0}, {1, 3, 7, 5, 6, 2, 1, 2, 0, 0},
        {1, 2, 2, 3, 4, 3, 3, 1, 1, 1}, {1, 2, 3, 2, 5, 3, 3, 2, 1, 1}, {1, 2, 2, 2, 2, 2, 3, 2, 1, 1},
        {1, 20, 6, 7, 5, 70, 3, 1, 1, 1}, {1, 7, 9, 8, 7, 5, 3, 2, 1, 1}, {1, 3, 4, 5, 6, 2, 3, 2, 0, 0},
    };
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    for (const Case &c : cases) {
        int dO = (c.d + 2 * c.pad - c.k) / c.stride + 1, hO = (c.h + 2 * c.pad - c.k) / c.stride + 1,
            wO = (c.w + 2 * c.pad - c.k) / c.stride + 1;
        ConvGeom g{c.n, c.ci, c.d, c.h, c.w, c.co, dO, hO, wO, c.k, c.stride, c.pad, c.reflect};
        std::vector<float> x((size_t)c.n * c.ci * g.inSpatial()), wt((size_t)c.co * c.ci * g.taps()), bias(c.co),
            gy((size_t)c.n * c.co * g.outSpatial());
        for (auto *v : {&x, &wt, &bias, &gy})
            for (float &f : *v) f = u(rng);
        Ref ref(g);
        ref.pad(x);
        std::vector<double> y = ref.forward(wt, bias), gx = ref.backwardData(gy, wt), gw = ref.backwardWeight(gy);

        // version 1 element functions
        std::vector<float> y1(y.size()), gx1(gx.size()), gw1(gw.size());
        for (size_t i = 0; i < y1.size(); i++) y1[i] = cloe_conv_fwd_v1_at(g, x.data(), wt.data(), bias.data(), (int)i);
        for (size_t i = 0; i < gx1.size(); i++) gx1[i] = cloe_conv_bwd_data_v1_at(g, gy.data(), wt.data(), (int)i);
        for (size_t e = 0; e < gw1.size(); e++) {
            float s = 0;
            for (int q = 0; q < c.n * g.outSpatial(); q++) s += cloe_conv_bwd_weight_v1_term(g, x.data(), gy.data(), (int)e, q);
            gw1[e] = s;
        }
        compare("v1 forward", c, y, y1);
        compare("v1 backward-data", c, gx, gx1);
        compare("v1 backward-weight", c, gw, gw1);

        // version 2 GEMM functors
        std::vector<float> y2(y.size()), gx2(gx.size()), gw2(gw.size(), 0.f);
        IgForward pf{g, x.data(), wt.data(), bias.data(), y2.data()};
        int M = c.n * g.outSpatial(), N = c.co, K = c.ci * g.taps();
        for (int m = 0; m < M; m++)
            for (int nn = 0; nn < N; nn++) {
                float s = 0;
                for (int kk = 0; kk < K; kk++) s += pf.a(m, kk) * pf.b(kk, nn);
                pf.store(m, nn, s);
            }
        IgBackwardData pd{g, gy.data(), wt.data(), gx2.data()};
        M = c.n * g.inSpatial(); N = c.ci; K = c.co * g.taps();
        for (int m = 0; m < M; m++)
            for (int nn = 0; nn < N; nn++) {
                float s = 0;
                for (int kk = 0; kk < K; kk++) s += pd.a(m, kk) * pd.b(kk, nn);
                pd.store(m, nn, s);
            }
        IgBackwardWeight pw{g, x.data(), gy.data(), gw2.data()};
        M = c.co; N = c.ci * g.taps(); K = c.n * g.outSpatial();
        const int chunk = 32;  // split K as the grid's z dimension does
        for (int k0 = 0; k0 < K; k0 += chunk)
            for (int m = 0; m < M; m++)
                for (int nn = 0; nn < N; nn++) {
                    float s = 0;
                    for (int kk = k0; kk < std::min(K, k0 + chunk); kk++) s += pw.a(m, kk) * pw.b(kk, nn);
                    pw.store(m, nn, s);
                }
        compare("v2 forward (functors)", c, y, y2);
        compare("v2 backward-data", c, gx, gx2);
        compare("v2 backward-weight", c, gw, gw2);
    }
    std::printf("%s: %d failure(s)\n", failures ? "FAILED" : "all ok", failures);
    return failures ? 1 : 0;
}
