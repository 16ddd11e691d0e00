// The simulator's self-test (built by scripts/build-sim as target/sim/sim-selftest, run by SimulatorSelfTest):
// the deliberately broken kernels of broken_kernels.cu, launched through the simulated driver API beside the real
// kernels, must each be caught; the real kernels must come through the same checks clean (no false alarm).
// Prints one line per case ("caught NAME: how" / "MISSED NAME: why" / "clean NAME" / "FALSE ALARM NAME: ...")
// and exits 1 when any case was missed or falsely flagged.
#include "broken_kernels.cu"
#include "sim_table.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

typedef unsigned long long CUdeviceptr;
extern "C" {
int cuInit(unsigned);
int cuMemAlloc_v2(CUdeviceptr *, size_t);
int cuMemFree_v2(CUdeviceptr);
int cuMemcpyHtoD_v2(CUdeviceptr, const void *, size_t);
int cuMemcpyDtoH_v2(void *, CUdeviceptr, size_t);
int cuModuleLoadData(void **, const void *);
int cuModuleGetFunction(void **, void *, const char *);
int cuFuncSetAttribute(void *, int, int);
int cuLaunchKernel(void *, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void *, void **, void **);
const char *cloe_sim_last_report(void);
void cloe_sim_clear_error(void);
void cloe_sim_set_racecheck(int);
int cloe_sim_race_reports(void);
}

static const CloeSimKernel BROKEN[] = {
    CLOE_SIM_ENTRY(cloe_broken_conv3d_fwd_tile_edge),  CLOE_SIM_ENTRY(cloe_broken_conv3d_fwd_no_sync),
    CLOE_SIM_ENTRY(cloe_broken_conv3d_fwd_wmma_layout), CLOE_SIM_ENTRY(cloe_copy_conv3d_fwd_v2_fp32),
    CLOE_SIM_ENTRY(cloe_copy_conv3d_fwd_v2_tf32),       CLOE_SIM_ENTRY(cloe_broken_scale_past_end),
};

static void *g_module;
static int g_bad = 0;

static void *fn(const char *name) {
    void *f = nullptr;
    if (cuModuleGetFunction(&f, g_module, name) != 0) {
        printf("MISSED setup: kernel %s not found\n", name);
        exit(1);
    }
    return f;
}

static void caught(const char *name, const std::string &how) { printf("caught %s: %s\n", name, how.c_str()); }
static void missed(const char *name, const std::string &why) {
    printf("MISSED %s: %s\n", name, why.c_str());
    g_bad++;
}
static void clean(const char *name) { printf("clean %s\n", name); }
static void falseAlarm(const char *name, const std::string &why) {
    printf("FALSE ALARM %s: %s\n", name, why.c_str());
    g_bad++;
}

static CUdeviceptr upload(const std::vector<float> &v) {
    CUdeviceptr p;
    cuMemAlloc_v2(&p, v.size() * 4);
    cuMemcpyHtoD_v2(p, v.data(), v.size() * 4);
    return p;
}
static std::vector<float> download(CUdeviceptr p, size_t n) {
    std::vector<float> v(n);
    cuMemcpyDtoH_v2(v.data(), p, n * 4);
    return v;
}

// conv3d forward, n 1, ci 3, 6^3, co 5, k 3, stride 1, zero padding 1: M = 216 positions (4 tiles of 64, the last
// one partial), N = 5, K = 81 (6 steps of 16, the last one partial)
struct Conv {
    int n = 1, ci = 3, d = 6, h = 6, w = 6, co = 5, dO = 6, hO = 6, wO = 6, k = 3, stride = 1, pad = 1, reflect = 0;
    CUdeviceptr x, wt, bias = 0, y;
    size_t ny;
    Conv() {
        std::vector<float> xv(n * ci * d * h * w), wv(co * ci * 27);
        unsigned s = 12345;
        auto rnd = [&] { s = s * 1664525u + 1013904223u; return (float)((s >> 8) & 0xffff) / 65536.f - 0.5f; };
        for (auto &v : xv) v = rnd();
        for (auto &v : wv) v = rnd();
        x = upload(xv);
        wt = upload(wv);
        ny = (size_t)n * co * dO * hO * wO;
        cuMemAlloc_v2(&y, ny * 4);
    }
    // returns the launch's CUresult; out = y
    int run(const char *kernel, std::vector<float> &out) {
        void *a[] = {&x, &wt, &bias, &y, &n, &ci, &d, &h, &w, &co, &dO, &hO, &wO, &k, &stride, &pad, &reflect};
        int rc = cuLaunchKernel(fn(kernel), (dO * hO * wO * n + 63) / 64, (co + 63) / 64, 1, 128, 1, 1, 0, nullptr, a,
                                nullptr);
        out = download(y, ny);
        return rc;
    }
};

static double maxDiff(const std::vector<float> &a, const std::vector<float> &b) {
    double m = 0;
    for (size_t i = 0; i < a.size(); i++) {
        double d = std::fabs((double)a[i] - b[i]);
        if (!(d <= m)) m = std::isnan(d) ? INFINITY : d;
    }
    return m;
}

int main() {
    cuInit(0);
    cuModuleLoadData(&g_module, "CLOE-SIM-IMAGE");
    cloe_sim_register_kernels(BROKEN, (int)(sizeof BROKEN / sizeof BROKEN[0]));
    Conv c;
    std::vector<float> ref32, ref32copy, ref_tf32, out;

    // controls: the real kernels and the faithful copy, with racecheck on: no report, same bits
    cloe_sim_set_racecheck(1);
    int races0 = cloe_sim_race_reports();
    if (c.run("cloe_conv3d_fwd_v2_fp32", ref32) != 0) falseAlarm("cloe_conv3d_fwd_v2_fp32", cloe_sim_last_report());
    if (c.run("cloe_conv3d_fwd_v2_tf32", ref_tf32) != 0) falseAlarm("cloe_conv3d_fwd_v2_tf32", cloe_sim_last_report());
    if (c.run("cloe_copy_conv3d_fwd_v2_fp32", ref32copy) != 0) falseAlarm("copy", cloe_sim_last_report());
    if (cloe_sim_race_reports() != races0) falseAlarm("cloe_conv3d_fwd_v2 (racecheck)", cloe_sim_last_report());
    else if (maxDiff(ref32, ref32copy) != 0) falseAlarm("cloe_copy_conv3d_fwd_v2_fp32", "the unbroken copy differs from the real kernel");
    else clean("cloe_conv3d_fwd_v2_fp32 / _tf32 and the unbroken copy (memcheck, racecheck, same bits)");
    if (maxDiff(ref32, ref_tf32) > 1e-2 || maxDiff(ref32, ref_tf32) == 0)
        falseAlarm("cloe_conv3d_fwd_v2_tf32", "TF32 result not within 1e-2 of FP32, or bit-identical (operands not rounded?)");
    else clean("cloe_conv3d_fwd_v2_tf32 within 1e-2 of fp32, not identical (10-bit operand mantissas)");
    cloe_sim_set_racecheck(0);

    // 1. an index off by one at a tile edge: parity against the real kernel fails
    c.run("cloe_broken_conv3d_fwd_tile_edge", out);
    double d1 = maxDiff(ref32, out);
    if (d1 > 1e-5) caught("cloe_broken_conv3d_fwd_tile_edge", "parity failure, max |diff| " + std::to_string(d1) + " against cloe_conv3d_fwd_v2_fp32");
    else missed("cloe_broken_conv3d_fwd_tile_edge", "output matches the real kernel");

    // 2. a missing __syncthreads: racecheck reports it (and the result is wrong as well)
    cloe_sim_set_racecheck(1);
    int races = cloe_sim_race_reports();
    c.run("cloe_broken_conv3d_fwd_no_sync", out);
    std::string rep = cloe_sim_last_report();
    if (cloe_sim_race_reports() > races && rep.find("racecheck: kernel cloe_broken_conv3d_fwd_no_sync") != std::string::npos)
        caught("cloe_broken_conv3d_fwd_no_sync", rep + " (parity max |diff| " + std::to_string(maxDiff(ref32, out)) + ")");
    else missed("cloe_broken_conv3d_fwd_no_sync", "no race report");
    cloe_sim_set_racecheck(0);

    // 3. a wrong wmma layout: parity against the real TF32 kernel fails
    c.run("cloe_broken_conv3d_fwd_wmma_layout", out);
    double d3 = maxDiff(ref_tf32, out);
    if (d3 > 1e-3) caught("cloe_broken_conv3d_fwd_wmma_layout", "parity failure, max |diff| " + std::to_string(d3) + " against cloe_conv3d_fwd_v2_tf32");
    else missed("cloe_broken_conv3d_fwd_wmma_layout", "output matches the real kernel");

    // 4. a write past the end: memcheck names kernel, block, thread and address; the launch fails with 700
    {
        int n = 1000;  // 4000 bytes: y[n] is the first byte of the guard page
        std::vector<float> xv(n, 1.f);
        CUdeviceptr x = upload(xv), y;
        cuMemAlloc_v2(&y, n * 4);
        float s = 2.f;
        void *a[] = {&x, &s, &y, &n};
        int rc = cuLaunchKernel(fn("cloe_broken_scale_past_end"), 4, 1, 1, 256, 1, 1, 0, nullptr, a, nullptr);
        std::string r = cloe_sim_last_report();
        if (rc == 700 && r.find("cloe_broken_scale_past_end") != std::string::npos && r.find("block (3,0,0)") != std::string::npos &&
            r.find("thread (232,0,0)") != std::string::npos && r.find("0 bytes past the end of an allocation of 4000 bytes") != std::string::npos)
            caught("cloe_broken_scale_past_end", "CUDA_ERROR_ILLEGAL_ADDRESS, " + r);
        else missed("cloe_broken_scale_past_end", "rc " + std::to_string(rc) + ", report '" + r + "'");
        // sticky, as on a GPU
        CUdeviceptr z;
        int rc2 = cuMemAlloc_v2(&z, 16);
        if (rc2 == 700) caught("sticky error", "the next call (cuMemAlloc) returns 700 too");
        else missed("sticky error", "the next call returned " + std::to_string(rc2));
        cloe_sim_clear_error();

        // 5. use after free
        cuMemFree_v2(y);
        rc = cuLaunchKernel(fn("cloe_scale"), 4, 1, 1, 256, 1, 1, 0, nullptr, a, nullptr);
        r = cloe_sim_last_report();
        if (rc == 700 && r.find("kernel cloe_scale") != std::string::npos && r.find("FREED") != std::string::npos)
            caught("use after free (cloe_scale on a freed y)", r);
        else missed("use after free", "rc " + std::to_string(rc) + ", report '" + r + "'");
        cloe_sim_clear_error();

        // 6. unwritten memory reads as NaN
        CUdeviceptr acc;
        cuMemAlloc_v2(&acc, n * 4);
        void *b[] = {&acc, &x, &n};
        cuLaunchKernel(fn("cloe_add_inplace"), 4, 1, 1, 256, 1, 1, 0, nullptr, b, nullptr);
        std::vector<float> o = download(acc, n);
        if (std::isnan(o[0]) && std::isnan(o[n - 1])) caught("read of unwritten memory", "cloe_add_inplace on a fresh allocation gives NaN");
        else missed("read of unwritten memory", "got " + std::to_string(o[0]));

        // 7. launch limits, with the real CUresult codes
        int l1 = cuLaunchKernel(fn("cloe_scale"), 1, 1, 1, 1025, 1, 1, 0, nullptr, a, nullptr);
        int l2 = cuLaunchKernel(fn("cloe_scale"), 1, 65536, 1, 32, 1, 1, 0, nullptr, a, nullptr);
        int l3 = cuLaunchKernel(fn("cloe_scale"), 1, 1, 1, 32, 1, 65, 0, nullptr, a, nullptr);
        int l4 = cuLaunchKernel(fn("cloe_scale"), 1, 1, 1, 32, 1, 1, 48 * 1024 + 4, nullptr, a, nullptr);
        cuFuncSetAttribute(fn("cloe_add_inplace"), 8, 100 * 1024);
        int l5 = cuLaunchKernel(fn("cloe_add_inplace"), 1, 1, 1, 32, 1, 1, 100 * 1024, nullptr, b, nullptr);
        int l6 = cuFuncSetAttribute(fn("cloe_add_inplace"), 8, 228 * 1024);
        if (l1 == 1 && l2 == 1 && l3 == 1 && l4 == 1 && l5 == 0 && l6 == 1)
            caught("launch limits", "1025 threads, grid y 65536, block z 65, 48 KiB + 4 dynamic shared: CUDA_ERROR_INVALID_VALUE; "
                                    "100 KiB after the opt-in: launched; opt-in above 227 KiB refused");
        else missed("launch limits", "codes " + std::to_string(l1) + " " + std::to_string(l2) + " " + std::to_string(l3) + " " +
                                         std::to_string(l4) + " " + std::to_string(l5) + " " + std::to_string(l6));
    }
    printf("%s\n", g_bad == 0 ? "sim-selftest: all caught, no false alarm" : "sim-selftest: FAILED");
    return g_bad == 0 ? 0 : 1;
}
