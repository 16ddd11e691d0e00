// The CUDA simulator's runtime: fibers and the block scheduler behind cuda_sim.h, device memory with memcheck,
// racecheck, and the driver API subset cloe4j calls (native/cuda.h), exported under the real symbol names so that
// this library stands in for libcuda.so.1. Built by scripts/build-sim together with every kernels/*.cu and the
// kernel table generated from native/cloe_kernels.h. Everything runs on the calling thread: launches, copies and
// graph replays are synchronous and serialised (one global lock).
//
// memcheck: every device allocation is right-aligned (to 16 bytes) against an inaccessible guard page, the page
// before it is inaccessible too, freed allocations become inaccessible and are never reused. A fault while a kernel
// runs (SIGSEGV on the launching thread, inside a launch) records kernel, block, thread and address, abandons the
// launch and makes the context sticky with CUDA_ERROR_ILLEGAL_ADDRESS, like the real driver; any other SIGSEGV goes
// to the handler that was installed before (the JVM's). New allocations are filled with NaN (0xffffffff).
//
// racecheck (CLOE_SIM_RACECHECK=1 or cloe_sim_set_racecheck(1)): each launch runs twice from the same snapshot of
// the device memory, the threads of each block resumed in forward order, then in reverse order, between barriers;
// a difference in what the two runs wrote is reported as a race naming the kernel (locations updated with atomics
// are compared with a relative tolerance, since their summation order legitimately changes).
#include "cuda_sim.h"
#include "sim_table.h"

#include <atomic>
#include <chrono>
#include <csetjmp>
#include <csignal>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int CUresult;
typedef unsigned long long CUdeviceptr;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_INVALID_DEVICE = 101,
    CUDA_ERROR_INVALID_IMAGE = 200,
    CUDA_ERROR_INVALID_CONTEXT = 201,
    CUDA_ERROR_NO_BINARY_FOR_GPU = 209,
    CUDA_ERROR_INVALID_HANDLE = 400,
    CUDA_ERROR_NOT_FOUND = 500,
    CUDA_ERROR_NOT_READY = 600,
    CUDA_ERROR_ILLEGAL_ADDRESS = 700,
    CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    CUDA_ERROR_MISALIGNED_ADDRESS = 716,
    CUDA_ERROR_LAUNCH_FAILED = 719,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    CUDA_ERROR_STREAM_CAPTURE_INVALIDATED = 901,
    CUDA_ERROR_UNKNOWN = 999,
};

// ================================================================================================================
// device-side state seen by the kernels
extern "C" {
__attribute__((visibility("default"))) uint3 threadIdx, blockIdx;
__attribute__((visibility("default"))) dim3 blockDim, gridDim;
}

namespace {

const size_t PAGE = 4096;
const size_t STACK = 128 * 1024;  // per simulated thread
const int MAX_THREADS = 1024;

// ---------------------------------------------------------------------------------------------------------------
// fibers: a hand-written context switch (callee-saved registers, MXCSR and the x87 control word)
#if !defined(__x86_64__)
#error "cuda_sim: the fiber switch is written for x86-64"
#endif
extern "C" void cloe_sim_switch(void **save_sp, void *to_sp);
extern "C" void cloe_sim_fiber_entry();
asm(R"(
.text
.globl cloe_sim_switch
.hidden cloe_sim_switch
.type cloe_sim_switch,@function
cloe_sim_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
.size cloe_sim_switch, .-cloe_sim_switch
.globl cloe_sim_fiber_entry
.hidden cloe_sim_fiber_entry
.type cloe_sim_fiber_entry,@function
cloe_sim_fiber_entry:
    movq %r12, %rdi
    callq *%r13
    ud2
.size cloe_sim_fiber_entry, .-cloe_sim_fiber_entry
)");

enum FiberState { RUNNABLE, AT_BARRIER, AT_WARP, DONE };

struct Fiber {
    void *sp = nullptr;
    char *stackTop = nullptr;
    FiberState state = DONE;
    uint3 tid{0, 0, 0};
    int linear = 0, warp = 0, lane = 0;
    unsigned waitMask = 0;
    unsigned xgen = 0;
};

struct Warp {
    unsigned arrived = 0;
    unsigned long long slot[32][2];
};

struct KernelRun {
    const CloeSimKernel *kernel = nullptr;
    void **params = nullptr;
};

// ---------------------------------------------------------------------------------------------------------------
// global simulator state (guarded by g_lock; the launching thread owns it for the whole launch)
std::recursive_mutex g_lock;
bool g_initialised = false;
CUresult g_sticky = CUDA_SUCCESS;
std::string g_report;  // the last memcheck / racecheck / launch-failure report
int g_raceReports = 0;
bool g_racecheck = false;
std::map<std::string, long long> g_launches;

char *g_stacks = nullptr;
Fiber g_fibers[MAX_THREADS];
Warp g_warps[MAX_THREADS / 32];
int g_nthreads = 0, g_live = 0, g_barArrived = 0;
Fiber *g_cur = nullptr;
void *g_schedSp = nullptr;
KernelRun g_run;
bool g_reverse = false;

// fault handling
volatile sig_atomic_t g_inKernel = 0;
pthread_t g_execThread;
sigjmp_buf g_launchJmp;
struct sigaction g_oldSegv, g_oldBus;
volatile uintptr_t g_faultAddr = 0;
volatile int g_faultKind = 0;  // 1 SIGSEGV/SIGBUS, 2 trap, 3 deadlock
const char *g_trapWhat = nullptr;
std::set<const void *> *g_atomicAddrs = nullptr;  // racecheck: locations updated with atomics

// ---------------------------------------------------------------------------------------------------------------
// device memory
struct Allocation {
    uintptr_t ptr = 0;
    size_t size = 0;
    char *map = nullptr;
    size_t mapLen = 0;
    bool freed = false;
};
std::map<uintptr_t, Allocation> g_allocs;  // by ptr; freed ones stay (quarantine)
size_t g_liveBytes = 0;
const size_t TOTAL_MEM = 16ull << 30;

size_t envSize(const char *name, size_t dflt) {
    const char *v = getenv(name);
    return v && *v ? (size_t)strtoull(v, nullptr, 10) : dflt;
}

const Allocation *findAlloc(uintptr_t p) {
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return nullptr;
    --it;
    const Allocation &a = it->second;
    if (p >= (uintptr_t)a.map && p < (uintptr_t)a.map + a.mapLen) return &a;
    return nullptr;
}

// the live allocation holding [p, p + n), or null
const Allocation *liveRange(uintptr_t p, size_t n) {
    auto it = g_allocs.upper_bound(p);
    if (it == g_allocs.begin()) return nullptr;
    --it;
    const Allocation &a = it->second;
    if (a.freed || p < a.ptr || p + n > a.ptr + a.size || p + n < p) return nullptr;
    return &a;
}

// ---------------------------------------------------------------------------------------------------------------
// reports
void report(const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_report = buf;
    fprintf(stderr, "cuda-sim (simulated device): %s\n", buf);
    fflush(stderr);
}

std::string describeAddr(uintptr_t addr) {
    char buf[512];
    const Allocation *a = findAlloc(addr);
    if (addr == 0) {
        snprintf(buf, sizeof buf, "0x0 (a null pointer, or a fault without an address such as a misaligned vector access)");
    } else if (a == nullptr) {
        snprintf(buf, sizeof buf, "0x%lx is in no device allocation", (unsigned long)addr);
    } else if (a->freed) {
        snprintf(buf, sizeof buf, "0x%lx is %ld bytes into a FREED allocation of %zu bytes at 0x%lx (use after free)",
                 (unsigned long)addr, (long)(addr - a->ptr), a->size, (unsigned long)a->ptr);
    } else if (addr >= a->ptr + a->size) {
        snprintf(buf, sizeof buf, "0x%lx is %lu bytes past the end of an allocation of %zu bytes at 0x%lx",
                 (unsigned long)addr, (unsigned long)(addr - a->ptr - a->size), a->size, (unsigned long)a->ptr);
    } else {
        snprintf(buf, sizeof buf, "0x%lx is %lu bytes before the start of an allocation of %zu bytes at 0x%lx",
                 (unsigned long)addr, (unsigned long)(a->ptr - addr), a->size, (unsigned long)a->ptr);
    }
    return buf;
}

std::string where() {
    char buf[256];
    if (g_cur == nullptr) return "(no thread)";
    snprintf(buf, sizeof buf, "block (%u,%u,%u) thread (%u,%u,%u)", blockIdx.x, blockIdx.y, blockIdx.z, g_cur->tid.x,
             g_cur->tid.y, g_cur->tid.z);
    return buf;
}

// ---------------------------------------------------------------------------------------------------------------
// SIGSEGV / SIGBUS: ours only on the launching thread inside a launch; everything else is chained
void onFault(int sig, siginfo_t *info, void *ctx) {
    if (g_inKernel && pthread_equal(pthread_self(), g_execThread)) {
        g_inKernel = 0;
        g_faultAddr = (uintptr_t)info->si_addr;
        g_faultKind = 1;
        siglongjmp(g_launchJmp, 1);
    }
    struct sigaction &old = sig == SIGSEGV ? g_oldSegv : g_oldBus;
    if (old.sa_flags & SA_SIGINFO) {
        if (old.sa_sigaction) old.sa_sigaction(sig, info, ctx);
        return;
    }
    if (old.sa_handler == SIG_IGN) return;
    if (old.sa_handler == SIG_DFL) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    old.sa_handler(sig);
}

void installHandlers() {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = onFault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &g_oldSegv);
    sigaction(SIGBUS, &sa, &g_oldBus);
}

// ---------------------------------------------------------------------------------------------------------------
// the block scheduler
// The next runnable thread of this pass (forward or reverse order), or null at the end of the pass.
Fiber *nextInPass(const Fiber *f) {
    if (g_reverse) {
        for (int i = f->linear - 1; i >= 0; i--)
            if (g_fibers[i].state == RUNNABLE) return &g_fibers[i];
    } else {
        for (int i = f->linear + 1; i < g_nthreads; i++)
            if (g_fibers[i].state == RUNNABLE) return &g_fibers[i];
    }
    return nullptr;
}

// Switches straight to the next runnable thread of the pass (one switch, not two through the scheduler); at the
// end of the pass back to the scheduler, which starts the next one.
void switchFrom(Fiber *f) {
    Fiber *next = nextInPass(f);
    if (next) {
        g_cur = next;
        threadIdx = next->tid;
        cloe_sim_switch(&f->sp, next->sp);
    } else {
        cloe_sim_switch(&f->sp, g_schedSp);
    }
}

void yieldToScheduler() { switchFrom(g_cur); }

[[noreturn]] void fail(int kind, const char *what) {
    g_inKernel = 0;
    g_faultKind = kind;
    g_trapWhat = what;
    siglongjmp(g_launchJmp, 1);
}

void releaseBarrierIfComplete() {
    if (g_barArrived > 0 && g_barArrived == g_live) {
        for (int i = 0; i < g_nthreads; i++)
            if (g_fibers[i].state == AT_BARRIER) g_fibers[i].state = RUNNABLE;
        g_barArrived = 0;
    }
}

void fiberMain(void *arg) {
    (void)arg;
    g_run.kernel->run(g_run.kernel->fn, g_run.params);
    Fiber *f = g_cur;
    f->state = DONE;
    g_live--;
    releaseBarrierIfComplete();
    switchFrom(f);
    __builtin_unreachable();
}

void initFiber(Fiber &f) {
    void **sp = (void **)f.stackTop;  // 16-byte aligned
    *--sp = (void *)&cloe_sim_fiber_entry;      // return address of cloe_sim_switch: after its ret, rsp is 16-aligned
    *--sp = nullptr;                            // rbp
    *--sp = nullptr;                            // rbx
    *--sp = (void *)nullptr;                    // r12: argument
    *--sp = (void *)&fiberMain;                 // r13: function
    *--sp = nullptr;                            // r14
    *--sp = nullptr;                            // r15
    unsigned mx = 0x1f80;                       // default MXCSR, x87 control word 0x37f
    unsigned short cw = 0x37f;
    --sp;
    memcpy((char *)sp, &mx, 4);
    memcpy((char *)sp + 4, &cw, 2);
    f.sp = sp;
}

// Runs one block to completion; returns normally or longjmps out on a fault/trap.
void runBlock(unsigned bx, unsigned by, unsigned bz) {
    blockIdx = uint3{bx, by, bz};
    const unsigned nx = blockDim.x, ny = blockDim.y;
    for (int i = 0; i < g_nthreads; i++) {
        Fiber &f = g_fibers[i];
        f.tid = uint3{i % nx, (i / nx) % ny, i / (nx * ny)};
        f.linear = i;
        f.warp = i / 32;
        f.lane = i % 32;
        f.state = RUNNABLE;
        f.xgen = 0;
        f.waitMask = 0;
        initFiber(f);
    }
    for (int w = 0; w < (g_nthreads + 31) / 32; w++) g_warps[w].arrived = 0;
    g_live = g_nthreads;
    g_barArrived = 0;
    while (g_live > 0) {
        // one pass: the first runnable thread in order; each thread hands over to the next (switchFrom)
        Fiber *first = nullptr;
        for (int k = 0; k < g_nthreads && !first; k++) {
            Fiber &f = g_fibers[g_reverse ? g_nthreads - 1 - k : k];
            if (f.state == RUNNABLE) first = &f;
        }
        if (first) {
            g_cur = first;
            threadIdx = first->tid;
            cloe_sim_switch(&g_schedSp, first->sp);
        } else {
            // every live thread waits at a barrier that cannot complete
            int atBar = 0, atWarp = -1;
            for (int i = 0; i < g_nthreads; i++) {
                if (g_fibers[i].state == AT_BARRIER) atBar++;
                if (g_fibers[i].state == AT_WARP && atWarp < 0) atWarp = i;
            }
            static char msg[256];
            if (atWarp >= 0) {
                g_cur = &g_fibers[atWarp];
                snprintf(msg, sizeof msg,
                         "deadlock: a warp operation (mask 0x%08x) waits for lanes that exited or wait at __syncthreads "
                         "(%d threads at __syncthreads)", g_fibers[atWarp].waitMask, atBar);
            } else {
                snprintf(msg, sizeof msg, "deadlock: %d threads wait at __syncthreads that the others never reach", atBar);
            }
            fail(3, msg);
        }
    }
    g_cur = nullptr;
}

void warpArrive(unsigned mask, unsigned long long v) {
    Fiber *f = g_cur;
    Warp &w = g_warps[f->warp];
    const int lanesHere = std::min(32, g_nthreads - f->warp * 32);
    const unsigned existing = lanesHere == 32 ? 0xffffffffu : ((1u << lanesHere) - 1);
    if (!(mask & (1u << f->lane))) fail(2, "warp operation called by a lane that is not in its mask");
    if (mask & ~existing) fail(2, "warp operation's mask names lanes that do not exist (the block's last warp is partial)");
    f->xgen++;
    w.slot[f->lane][f->xgen & 1] = v;
    w.arrived |= 1u << f->lane;
    if ((w.arrived & mask) == mask) {
        for (int l = 0; l < 32; l++) {
            if (!(mask & (1u << l)) || l == f->lane) continue;
            g_fibers[f->warp * 32 + l].state = RUNNABLE;
        }
        w.arrived &= ~mask;
    } else {
        f->state = AT_WARP;
        f->waitMask = mask;
        yieldToScheduler();
    }
}

// ---------------------------------------------------------------------------------------------------------------
// launching
struct Snapshot {
    std::vector<std::pair<const Allocation *, std::vector<char>>> data;
    void take() {
        data.clear();
        for (auto &e : g_allocs) {
            if (e.second.freed) continue;
            data.emplace_back(&e.second, std::vector<char>((char *)e.second.ptr, (char *)e.second.ptr + e.second.size));
        }
    }
    void restore() const {
        for (auto &d : data) memcpy((void *)d.first->ptr, d.second.data(), d.second.size());
    }
};

CUresult execute(const CloeSimKernel *k, void **params, dim3 grid, dim3 block, bool reverse);

CUresult executeChecked(const CloeSimKernel *k, void **params, dim3 grid, dim3 block) {
    g_launches[k->name]++;
    if (!g_racecheck) return execute(k, params, grid, block, false);
    Snapshot before, forward;
    before.take();
    std::set<const void *> atomics;
    g_atomicAddrs = &atomics;
    CUresult rc = execute(k, params, grid, block, false);
    if (rc != CUDA_SUCCESS) {
        g_atomicAddrs = nullptr;
        return rc;
    }
    forward.take();
    before.restore();
    rc = execute(k, params, grid, block, true);
    g_atomicAddrs = nullptr;
    if (rc != CUDA_SUCCESS) return rc;
    for (auto &d : forward.data) {
        const float *a = (const float *)d.second.data();
        const float *b = (const float *)d.first->ptr;
        const size_t n = d.second.size();
        if (memcmp(d.second.data(), (const void *)d.first->ptr, n) == 0) continue;
        for (size_t i = 0; i + 4 <= n; i += 4) {
            float x = a[i / 4], y = b[i / 4];
            if (memcmp(&x, &y, 4) == 0) continue;
            if (atomics.count((const void *)(d.first->ptr + i)) &&
                std::fabs(x - y) <= 1e-4f * std::max(std::fabs(x), std::fabs(y)) + 1e-6f)
                continue;
            g_raceReports++;
            report("racecheck: kernel %s: location 0x%lx (float %zu of the allocation of %zu bytes at 0x%lx) is "
                   "%.9g with the threads of each block resumed in forward order and %.9g in reverse order: the "
                   "result depends on the order of threads between barriers (a data race)",
                   k->name, (unsigned long)(d.first->ptr + i), i / 4, d.first->size, (unsigned long)d.first->ptr,
                   (double)x, (double)y);
            return CUDA_SUCCESS;  // reported, not a launch failure
        }
    }
    return CUDA_SUCCESS;
}

CUresult execute(const CloeSimKernel *k, void **params, dim3 grid, dim3 block, bool reverse) {
    // copy the argument values so that later changes by the caller cannot reach a running kernel
    std::vector<unsigned long long> store(k->nargs + 1);
    std::vector<void *> ptrs(k->nargs + 1);
    for (int i = 0; i < k->nargs; i++) {
        memcpy(&store[i], params[i], k->sizes[i]);
        ptrs[i] = &store[i];
    }
    g_run.kernel = k;
    g_run.params = ptrs.data();
    g_reverse = reverse;
    gridDim = grid;
    blockDim = block;
    g_nthreads = (int)(block.x * block.y * block.z);
    g_execThread = pthread_self();
    g_faultKind = 0;
    if (sigsetjmp(g_launchJmp, 1) == 0) {
        g_inKernel = 1;
        for (unsigned z = 0; z < grid.z; z++)
            for (unsigned y = 0; y < grid.y; y++)
                for (unsigned x = 0; x < grid.x; x++) runBlock(x, y, z);
        g_inKernel = 0;
        return CUDA_SUCCESS;
    }
    g_inKernel = 0;
    std::string at = where();
    g_cur = nullptr;
    if (g_faultKind == 1) {
        uintptr_t addr = g_faultAddr;
        const char *stackHit = "";
        if (addr >= (uintptr_t)g_stacks && addr < (uintptr_t)g_stacks + (size_t)MAX_THREADS * (STACK + PAGE))
            stackHit = " (a simulated thread overflowed its stack: raise STACK in kernels/sim/sim_runtime.cpp)";
        report("memcheck: kernel %s, %s: invalid access at %s%s", k->name, at.c_str(), describeAddr(addr).c_str(),
               stackHit);
        g_sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
        return g_sticky;
    }
    report("kernel %s, %s: %s", k->name, at.c_str(), g_trapWhat ? g_trapWhat : "failed");
    g_sticky = strstr(g_trapWhat ? g_trapWhat : "", "aligned") ? CUDA_ERROR_MISALIGNED_ADDRESS : CUDA_ERROR_LAUNCH_FAILED;
    return g_sticky;
}

// ---------------------------------------------------------------------------------------------------------------
// driver objects
struct Op {
    enum Kind { LAUNCH, COPY, SET32 } kind = LAUNCH;
    const CloeSimKernel *kernel = nullptr;
    dim3 grid, block;
    std::vector<unsigned long long> args;
    void *dst = nullptr;
    const void *src = nullptr;
    size_t bytes = 0;
    unsigned value = 0;
};
struct Graph {
    std::vector<Op> ops;
};
struct Stream {
    Graph *capture = nullptr;
};
struct Event {
    unsigned flags = 0;
    bool recorded = false;
    double ms = 0;
};
struct Module {
    int unused = 0;
};
struct Function {
    const CloeSimKernel *kernel;
    int maxDynamicShared = 48 * 1024;
};

int g_ctxToken = 0;
void *g_ctx = &g_ctxToken;
bool g_ctxCurrent = false;
std::set<Stream *> g_streams;
std::set<Graph *> g_graphs;
std::map<std::string, Function *> g_functions;
Stream g_nullStream;

double nowMs() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

std::vector<const CloeSimKernel *> g_extraKernels;

const CloeSimKernel *findKernel(const char *name) {
    for (const CloeSimKernel *k : g_extraKernels)
        if (strcmp(k->name, name) == 0) return k;
    for (int i = 0; i < cloe_sim_table_size; i++)
        if (strcmp(cloe_sim_table[i].name, name) == 0) return &cloe_sim_table[i];
    return nullptr;
}

void ensureStacks() {
    if (g_stacks) return;
    size_t per = STACK + PAGE;
    g_stacks = (char *)mmap(nullptr, per * MAX_THREADS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                            -1, 0);
    if (g_stacks == MAP_FAILED) {
        perror("cuda-sim: mmap of the fiber stacks");
        abort();
    }
    for (int i = 0; i < MAX_THREADS; i++) {
        mprotect(g_stacks + i * per, PAGE, PROT_NONE);  // guard below each stack
        g_fibers[i].stackTop = g_stacks + i * per + per;
    }
}

Stream *streamOf(void *h) { return h == nullptr ? &g_nullStream : (Stream *)h; }

#define GUARD()                                                     \
    std::lock_guard<std::recursive_mutex> guard(g_lock);            \
    if (!g_initialised) return CUDA_ERROR_NOT_INITIALIZED;          \
    if (g_sticky != CUDA_SUCCESS) return g_sticky

CUresult runOp(const Op &op) {
    switch (op.kind) {
        case Op::LAUNCH: {
            std::vector<void *> ptrs(op.args.size() + 1);
            for (size_t i = 0; i < op.args.size(); i++) ptrs[i] = (void *)&op.args[i];
            return executeChecked(op.kernel, ptrs.data(), op.grid, op.block);
        }
        case Op::COPY:
            memmove(op.dst, op.src, op.bytes);
            return CUDA_SUCCESS;
        case Op::SET32:
            for (size_t i = 0; i < op.bytes / 4; i++) ((unsigned *)op.dst)[i] = op.value;
            return CUDA_SUCCESS;
    }
    return CUDA_ERROR_UNKNOWN;
}

CUresult submit(void *hStream, Op &&op) {
    Stream *s = streamOf(hStream);
    if (s->capture) {
        s->capture->ops.push_back(std::move(op));
        return CUDA_SUCCESS;
    }
    return runOp(op);
}

bool isDevice(uintptr_t p, size_t n) { return n == 0 || liveRange(p, n) != nullptr; }

// host memory is any address that is not in a device allocation (pinned or pageable)
bool isHost(const void *p, size_t n) { return p != nullptr && findAlloc((uintptr_t)p) == nullptr && findAlloc((uintptr_t)p + n - 1) == nullptr; }

CUresult copy(void *dst, const void *src, size_t n, bool dstDev, bool srcDev, void *stream) {
    if (n == 0) return CUDA_SUCCESS;
    if (dstDev ? !isDevice((uintptr_t)dst, n) : !isHost(dst, n)) return CUDA_ERROR_INVALID_VALUE;
    if (srcDev ? !isDevice((uintptr_t)src, n) : !isHost(src, n)) return CUDA_ERROR_INVALID_VALUE;
    Op op;
    op.kind = Op::COPY;
    op.dst = dst;
    op.src = src;
    op.bytes = n;
    return submit(stream, std::move(op));
}

}  // namespace

// ================================================================================================================
// device-side entry points used by cuda_sim.h
extern "C" {

void cloe_sim_syncthreads(void) {
    Fiber *f = g_cur;
    g_barArrived++;
    if (g_barArrived == g_live) {
        for (int i = 0; i < g_nthreads; i++)
            if (g_fibers[i].state == AT_BARRIER) g_fibers[i].state = RUNNABLE;
        g_barArrived = 0;
        return;
    }
    f->state = AT_BARRIER;
    yieldToScheduler();
}

void cloe_sim_syncwarp(unsigned mask) { warpArrive(mask, 0); }

unsigned long long cloe_sim_warp_exchange(unsigned mask, unsigned long long v, int src) {
    warpArrive(mask, v);
    Fiber *f = g_cur;
    if (src < 0 || src > 31) src = f->lane;
    if (!(mask & (1u << src))) fail(2, "shuffle reads a lane that is not in its mask");
    return g_warps[f->warp].slot[src][f->xgen & 1];
}

unsigned cloe_sim_warp_ballot(unsigned mask, int pred) {
    warpArrive(mask, pred != 0);
    Fiber *f = g_cur;
    unsigned b = 0;
    for (int l = 0; l < 32; l++)
        if ((mask & (1u << l)) && g_warps[f->warp].slot[l][f->xgen & 1]) b |= 1u << l;
    return b;
}

void cloe_sim_atomic_note(const void *addr) {
    if (g_atomicAddrs) g_atomicAddrs->insert(addr);
}

void cloe_sim_trap(const char *what) { fail(2, what); }

// ================================================================================================================
// the driver API (native/cuda.h)
#define EXPORT __attribute__((visibility("default")))

EXPORT CUresult cuInit(unsigned int flags) {
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (!g_initialised) {
        ensureStacks();
        installHandlers();
        const char *rc = getenv("CLOE_SIM_RACECHECK");
        g_racecheck = rc && strcmp(rc, "1") == 0;
        g_initialised = true;
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDriverGetVersion(int *v) {
    if (!v) return CUDA_ERROR_INVALID_VALUE;
    *v = 13000;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGetErrorName(CUresult e, const char **p) {
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    switch (e) {
#define N(x) case x: *p = #x; return CUDA_SUCCESS;
        N(CUDA_SUCCESS) N(CUDA_ERROR_INVALID_VALUE) N(CUDA_ERROR_OUT_OF_MEMORY) N(CUDA_ERROR_NOT_INITIALIZED)
        N(CUDA_ERROR_NO_DEVICE) N(CUDA_ERROR_INVALID_DEVICE) N(CUDA_ERROR_INVALID_IMAGE) N(CUDA_ERROR_INVALID_CONTEXT)
        N(CUDA_ERROR_NO_BINARY_FOR_GPU) N(CUDA_ERROR_INVALID_HANDLE) N(CUDA_ERROR_NOT_FOUND) N(CUDA_ERROR_NOT_READY)
        N(CUDA_ERROR_ILLEGAL_ADDRESS) N(CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES) N(CUDA_ERROR_MISALIGNED_ADDRESS)
        N(CUDA_ERROR_LAUNCH_FAILED) N(CUDA_ERROR_NOT_SUPPORTED) N(CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED)
        N(CUDA_ERROR_STREAM_CAPTURE_INVALIDATED) N(CUDA_ERROR_UNKNOWN)
#undef N
        default: *p = nullptr; return CUDA_ERROR_INVALID_VALUE;
    }
}

EXPORT CUresult cuGetErrorString(CUresult e, const char **p) {
    if (!p) return CUDA_ERROR_INVALID_VALUE;
    switch (e) {
        case CUDA_SUCCESS: *p = "no error"; break;
        case CUDA_ERROR_INVALID_VALUE: *p = "invalid argument"; break;
        case CUDA_ERROR_OUT_OF_MEMORY: *p = "out of memory"; break;
        case CUDA_ERROR_NOT_INITIALIZED: *p = "initialization error"; break;
        case CUDA_ERROR_NO_DEVICE: *p = "no CUDA-capable device is detected"; break;
        case CUDA_ERROR_INVALID_DEVICE: *p = "invalid device ordinal"; break;
        case CUDA_ERROR_INVALID_IMAGE: *p = "device kernel image is invalid"; break;
        case CUDA_ERROR_INVALID_CONTEXT: *p = "invalid device context"; break;
        case CUDA_ERROR_NO_BINARY_FOR_GPU: *p = "no kernel image is available for execution on the device"; break;
        case CUDA_ERROR_INVALID_HANDLE: *p = "invalid resource handle"; break;
        case CUDA_ERROR_NOT_FOUND: *p = "named symbol not found"; break;
        case CUDA_ERROR_NOT_READY: *p = "device not ready"; break;
        case CUDA_ERROR_ILLEGAL_ADDRESS: *p = "an illegal memory access was encountered"; break;
        case CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES: *p = "too many resources requested for launch"; break;
        case CUDA_ERROR_MISALIGNED_ADDRESS: *p = "misaligned address"; break;
        case CUDA_ERROR_LAUNCH_FAILED: *p = "unspecified launch failure"; break;
        case CUDA_ERROR_NOT_SUPPORTED: *p = "operation not supported"; break;
        case CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED: *p = "operation not permitted when stream is capturing"; break;
        case CUDA_ERROR_STREAM_CAPTURE_INVALIDATED: *p = "operation failed due to a previous error during capture"; break;
        case CUDA_ERROR_UNKNOWN: *p = "unknown error"; break;
        default: *p = nullptr; return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetCount(int *count) {
    GUARD();
    if (!count) return CUDA_ERROR_INVALID_VALUE;
    *count = 1;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGet(int *dev, int ordinal) {
    GUARD();
    if (!dev) return CUDA_ERROR_INVALID_VALUE;
    if (ordinal != 0) return CUDA_ERROR_INVALID_DEVICE;
    *dev = 0;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetName(char *name, int len, int dev) {
    GUARD();
    if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    snprintf(name, (size_t)len, "cloe4j CUDA simulator (simulated, CPU)");
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceGetAttribute(int *pi, int attrib, int dev) {
    GUARD();
    if (!pi) return CUDA_ERROR_INVALID_VALUE;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    switch (attrib) {
        case 1: *pi = 1024; break;                  // max threads per block
        case 2: *pi = 1024; break;                  // max block dim x
        case 3: *pi = 1024; break;                  // max block dim y
        case 4: *pi = 64; break;                    // max block dim z
        case 5: *pi = 2147483647; break;            // max grid dim x
        case 6: *pi = 65535; break;                 // max grid dim y
        case 7: *pi = 65535; break;                 // max grid dim z
        case 8: *pi = 48 * 1024; break;             // max shared memory per block
        case 10: *pi = 32; break;                   // warp size
        case 13: *pi = 1; break;                    // clock rate (kHz): a simulated device has no meaningful one
        case 16: *pi = 1; break;                    // multiprocessors: blocks run one at a time
        case 36: *pi = 1; break;                    // memory clock rate
        case 37: *pi = 8; break;                    // bus width
        case 38: *pi = 0; break;                    // L2 size
        case 75: *pi = 9; break;                    // compute capability 9.0 (the kernels' target)
        case 76: *pi = 0; break;
        case 97: *pi = 227 * 1024; break;           // max shared memory per block, opt-in
        default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, int dev) {
    GUARD();
    if (!bytes) return CUDA_ERROR_INVALID_VALUE;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    *bytes = envSize("CLOE_SIM_MEMORY", TOTAL_MEM);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(void **pctx, int dev) {
    GUARD();
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    if (dev != 0) return CUDA_ERROR_INVALID_DEVICE;
    *pctx = g_ctx;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuDevicePrimaryCtxRelease_v2(int dev) {
    GUARD();
    return dev == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_DEVICE;
}

EXPORT CUresult cuCtxSetCurrent(void *ctx) {
    GUARD();
    if (ctx != nullptr && ctx != g_ctx) return CUDA_ERROR_INVALID_CONTEXT;
    g_ctxCurrent = ctx != nullptr;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxGetCurrent(void **pctx) {
    GUARD();
    if (!pctx) return CUDA_ERROR_INVALID_VALUE;
    *pctx = g_ctxCurrent ? g_ctx : nullptr;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuCtxSynchronize(void) {
    GUARD();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamCreate(void **ph, unsigned flags) {
    GUARD();
    if (!ph || flags > 1) return CUDA_ERROR_INVALID_VALUE;
    Stream *s = new Stream();
    g_streams.insert(s);
    *ph = s;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamDestroy_v2(void *h) {
    GUARD();
    if (!g_streams.count((Stream *)h)) return CUDA_ERROR_INVALID_HANDLE;
    g_streams.erase((Stream *)h);
    delete (Stream *)h;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamSynchronize(void *h) {
    GUARD();
    if (h && !g_streams.count((Stream *)h)) return CUDA_ERROR_INVALID_HANDLE;
    if (streamOf(h)->capture) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventCreate(void **ph, unsigned flags) {
    GUARD();
    if (!ph || flags > 3) return CUDA_ERROR_INVALID_VALUE;
    Event *e = new Event();
    e->flags = flags;
    *ph = e;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventRecord(void *h, void *stream) {
    GUARD();
    if (!h) return CUDA_ERROR_INVALID_HANDLE;
    if (streamOf(stream)->capture) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    Event *e = (Event *)h;
    e->recorded = true;
    e->ms = nowMs();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventSynchronize(void *h) {
    GUARD();
    return h ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

// Simulated time: wall-clock milliseconds of the simulation between the two records (says nothing about a GPU).
EXPORT CUresult cuEventElapsedTime(float *ms, void *a, void *b) {
    GUARD();
    if (!ms) return CUDA_ERROR_INVALID_VALUE;
    if (!a || !b) return CUDA_ERROR_INVALID_HANDLE;
    Event *ea = (Event *)a, *eb = (Event *)b;
    if ((ea->flags | eb->flags) & 2) return CUDA_ERROR_INVALID_HANDLE;
    if (!ea->recorded || !eb->recorded) return CUDA_ERROR_INVALID_HANDLE;
    *ms = (float)(eb->ms - ea->ms);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuEventDestroy_v2(void *h) {
    GUARD();
    if (!h) return CUDA_ERROR_INVALID_HANDLE;
    delete (Event *)h;
    return CUDA_SUCCESS;
}

// The image must look like what scripts/build-kernels or scripts/build-sim produce (a fatbin, a cubin/ELF, or the
// simulator's marker image); the functions themselves are the host-compiled kernels linked into this library.
EXPORT CUresult cuModuleLoadData(void **mod, const void *image) {
    GUARD();
    if (!mod || !image) return CUDA_ERROR_INVALID_VALUE;
    const unsigned char *b = (const unsigned char *)image;
    const bool fatbin = b[0] == 0x50 && b[1] == 0xed && b[2] == 0x55 && b[3] == 0xba;
    const bool elf = b[0] == 0x7f && b[1] == 'E' && b[2] == 'L' && b[3] == 'F';
    const bool marker = memcmp(b, "CLOE-SIM-IMAGE", 14) == 0;
    if (!fatbin && !elf && !marker) return CUDA_ERROR_INVALID_IMAGE;
    *mod = new Module();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleGetFunction(void **hfunc, void *mod, const char *name) {
    GUARD();
    if (!hfunc || !name) return CUDA_ERROR_INVALID_VALUE;
    if (!mod) return CUDA_ERROR_INVALID_HANDLE;
    auto it = g_functions.find(name);
    if (it == g_functions.end()) {
        const CloeSimKernel *k = findKernel(name);
        if (!k) return CUDA_ERROR_NOT_FOUND;
        it = g_functions.emplace(name, new Function{k}).first;
    }
    *hfunc = it->second;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuModuleUnload(void *mod) {
    GUARD();
    if (!mod) return CUDA_ERROR_INVALID_HANDLE;
    delete (Module *)mod;
    return CUDA_SUCCESS;
}

// CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES (8): the opt-in above 48 KiB, up to the device's 227 KiB.
EXPORT CUresult cuFuncSetAttribute(void *hfunc, int attrib, int value) {
    GUARD();
    if (!hfunc) return CUDA_ERROR_INVALID_HANDLE;
    if (attrib != 8) return CUDA_ERROR_NOT_SUPPORTED;
    if (value < 0 || value > 227 * 1024) return CUDA_ERROR_INVALID_VALUE;
    ((Function *)hfunc)->maxDynamicShared = value;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                               unsigned shared, void *stream, void **params, void **extra) {
    GUARD();
    if (!f) return CUDA_ERROR_INVALID_HANDLE;
    if (extra) return CUDA_ERROR_NOT_SUPPORTED;  // the packed-buffer form is not simulated
    Function *fn = (Function *)f;
    const CloeSimKernel *k = fn->kernel;
    // the device's limits (compute capability 9.0)
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0) return CUDA_ERROR_INVALID_VALUE;
    if (bx > 1024 || by > 1024 || bz > 64 || (unsigned long long)bx * by * bz > 1024) return CUDA_ERROR_INVALID_VALUE;
    if (gx > 2147483647u || gy > 65535 || gz > 65535) return CUDA_ERROR_INVALID_VALUE;
    if (shared > (unsigned)std::max(fn->maxDynamicShared, 48 * 1024)) return CUDA_ERROR_INVALID_VALUE;
    if (k->nargs > 0 && !params) return CUDA_ERROR_INVALID_VALUE;
    Op op;
    op.kind = Op::LAUNCH;
    op.kernel = k;
    op.grid = dim3(gx, gy, gz);
    op.block = dim3(bx, by, bz);
    op.args.resize(k->nargs);
    for (int i = 0; i < k->nargs; i++) memcpy(&op.args[i], params[i], k->sizes[i]);
    return submit(stream, std::move(op));
}

EXPORT CUresult cuMemGetInfo_v2(size_t *freeb, size_t *total) {
    GUARD();
    if (!freeb || !total) return CUDA_ERROR_INVALID_VALUE;
    *total = envSize("CLOE_SIM_MEMORY", TOTAL_MEM);
    *freeb = *total > g_liveBytes ? *total - g_liveBytes : 0;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *dptr, size_t size) {
    GUARD();
    if (!dptr || size == 0) return CUDA_ERROR_INVALID_VALUE;
    if (g_liveBytes + size > envSize("CLOE_SIM_MEMORY", TOTAL_MEM)) return CUDA_ERROR_OUT_OF_MEMORY;
    const size_t user = (size + 15) & ~(size_t)15;
    const size_t pages = (user + PAGE - 1) & ~(PAGE - 1);
    const size_t mapLen = pages + 2 * PAGE;
    char *m = (char *)mmap(nullptr, mapLen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    if (mprotect(m + PAGE, pages, PROT_READ | PROT_WRITE) != 0) {
        munmap(m, mapLen);
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    memset(m + PAGE, 0xff, pages);  // NaN in every float: reads of unwritten memory show up
    Allocation a;
    a.map = m;
    a.mapLen = mapLen;
    a.size = size;
    a.ptr = (uintptr_t)(m + PAGE + pages - user);
    g_allocs[a.ptr] = a;
    g_liveBytes += size;
    *dptr = a.ptr;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFree_v2(CUdeviceptr p) {
    GUARD();
    auto it = g_allocs.find((uintptr_t)p);
    if (it == g_allocs.end() || it->second.freed) return CUDA_ERROR_INVALID_VALUE;
    Allocation &a = it->second;
    madvise(a.map, a.mapLen, MADV_DONTNEED);
    mprotect(a.map, a.mapLen, PROT_NONE);  // quarantined: a later access faults, the range is never handed out again
    a.freed = true;
    g_liveBytes -= a.size;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemAllocHost_v2(void **pp, size_t size) {
    GUARD();
    if (!pp || size == 0) return CUDA_ERROR_INVALID_VALUE;
    void *p = nullptr;
    if (posix_memalign(&p, PAGE, size) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
    *pp = p;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemFreeHost(void *p) {
    GUARD();
    free(p);
    return CUDA_SUCCESS;
}

EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t n) {
    GUARD();
    if (g_nullStream.capture) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;
    return copy((void *)dst, src, n, true, false, nullptr);
}
EXPORT CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t n) {
    GUARD();
    return copy(dst, (const void *)src, n, false, true, nullptr);
}
EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) {
    GUARD();
    return copy((void *)dst, (const void *)src, n, true, true, nullptr);
}
EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t n, void *s) {
    GUARD();
    return copy((void *)dst, src, n, true, false, s);
}
EXPORT CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t n, void *s) {
    GUARD();
    return copy(dst, (const void *)src, n, false, true, s);
}
EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void *s) {
    GUARD();
    return copy((void *)dst, (const void *)src, n, true, true, s);
}
EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned v, size_t n, void *s) {
    GUARD();
    if (n == 0) return CUDA_SUCCESS;
    if ((dst & 3) != 0) return CUDA_ERROR_INVALID_VALUE;
    if (!isDevice((uintptr_t)dst, n * 4)) return CUDA_ERROR_INVALID_VALUE;
    Op op;
    op.kind = Op::SET32;
    op.dst = (void *)dst;
    op.bytes = n * 4;
    op.value = v;
    return submit(s, std::move(op));
}
EXPORT CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned v, size_t n) { return cuMemsetD32Async(dst, v, n, nullptr); }

EXPORT CUresult cuStreamBeginCapture_v2(void *h, int mode) {
    GUARD();
    if (mode < 0 || mode > 2) return CUDA_ERROR_INVALID_VALUE;
    if (h == nullptr) return CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED;  // the legacy stream cannot be captured
    Stream *s = streamOf(h);
    if (s->capture) return CUDA_ERROR_INVALID_VALUE;
    s->capture = new Graph();
    return CUDA_SUCCESS;
}

EXPORT CUresult cuStreamEndCapture(void *h, void **graph) {
    GUARD();
    if (!graph) return CUDA_ERROR_INVALID_VALUE;
    Stream *s = streamOf(h);
    if (!s->capture) return CUDA_ERROR_INVALID_VALUE;
    g_graphs.insert(s->capture);
    *graph = s->capture;
    s->capture = nullptr;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphInstantiateWithFlags(void **exec, void *graph, unsigned long long flags) {
    GUARD();
    if (!exec || flags != 0) return CUDA_ERROR_INVALID_VALUE;
    if (!g_graphs.count((Graph *)graph)) return CUDA_ERROR_INVALID_HANDLE;
    *exec = new Graph(*(Graph *)graph);  // an executable graph is a copy: later edits of the graph do not reach it
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphLaunch(void *exec, void *stream) {
    GUARD();
    if (!exec) return CUDA_ERROR_INVALID_HANDLE;
    if (streamOf(stream)->capture) return CUDA_ERROR_NOT_SUPPORTED;
    for (const Op &op : ((Graph *)exec)->ops) {
        CUresult rc = runOp(op);
        if (rc != CUDA_SUCCESS) return rc;
    }
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphExecDestroy(void *exec) {
    GUARD();
    if (!exec) return CUDA_ERROR_INVALID_HANDLE;
    delete (Graph *)exec;
    return CUDA_SUCCESS;
}

EXPORT CUresult cuGraphDestroy(void *graph) {
    GUARD();
    if (!g_graphs.count((Graph *)graph)) return CUDA_ERROR_INVALID_HANDLE;
    g_graphs.erase((Graph *)graph);
    delete (Graph *)graph;
    return CUDA_SUCCESS;
}

// ================================================================================================================
// simulator-only entry points (tests and tools; a real driver has none of these)
EXPORT int cloe_sim_is_simulator(void) { return 1; }
EXPORT void cloe_sim_set_racecheck(int on) {
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    g_racecheck = on != 0;
}
EXPORT int cloe_sim_race_reports(void) { return g_raceReports; }
// The last memcheck / racecheck / launch-failure report ("" when none).
EXPORT const char *cloe_sim_last_report(void) { return g_report.c_str(); }
// Clears a sticky error (a real context would have to be destroyed); for tests that provoke faults on purpose.
EXPORT void cloe_sim_clear_error(void) {
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    g_sticky = CUDA_SUCCESS;
    g_report.clear();
}
EXPORT int cloe_sim_kernel_count(void) { return cloe_sim_table_size; }
EXPORT const char *cloe_sim_kernel_name(int i) {
    return i >= 0 && i < cloe_sim_table_size ? cloe_sim_table[i].name : nullptr;
}
EXPORT void cloe_sim_register_kernels(const CloeSimKernel *kernels, int count) {
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    for (int i = 0; i < count; i++) g_extraKernels.push_back(&kernels[i]);
}
EXPORT long long cloe_sim_launch_count(const char *name) {
    std::lock_guard<std::recursive_mutex> guard(g_lock);
    auto it = g_launches.find(name ? name : "");
    return it == g_launches.end() ? 0 : it->second;
}

}  // extern "C"
