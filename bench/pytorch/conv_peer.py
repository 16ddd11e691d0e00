#!/usr/bin/env python3
"""PyTorch's CPU conv3d as the peer of cloe4j's CpuConv3d, driven by CpuConvPeerBench over stdin/stdout.

The Java harness starts this script once and sends one request per line, so the two implementations run
interleaved in the same invocation (never at the same time: each side waits while the other is timed):

    time <ci> <co> <size> <k> <stride> <padding> <pass> <reps>   ->   ok <ms> <ms> ... (one per rep)
    quit

padding is ZERO or REFLECT, pass is forward, backwardData or backwardWeight. The layer is nn.Conv3d with bias,
batch 1, cubic input of edge <size>, padding_mode 'reflect' or 'zeros' (what CLoE's PyTorch reference runs).
backwardData times torch.autograd.grad of the output with respect to the input (the weight frozen);
backwardWeight times it with respect to weight and bias (the input frozen); the forward graph is built once and
kept, so only the backward kernels are timed. Before the first request of a shape and pass is timed, two warm-up
reps run (oneDNN caches its primitives after them).

Threads: torch.set_num_threads(<n>) from a line "threads <n>" (default 2). A line "clock cpu" times each rep by
the calling thread's CPU time (time.thread_time) instead of wall time: with one thread that is the conv's own CPU
time, much less disturbed by other jobs on a loaded machine than wall time ("clock wall" switches back).
"""
import sys
import time

import torch


def main():
    torch.manual_seed(1)
    torch.set_num_threads(2)
    cache = {}
    clock = time.perf_counter
    out = sys.stdout
    print("ready torch=%s mkldnn=%s threads=%d" % (torch.__version__, torch.backends.mkldnn.is_available(),
                                                   torch.get_num_threads()), file=out, flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "quit":
            break
        if parts[0] == "threads":
            torch.set_num_threads(int(parts[1]))
            print("ok threads=%d" % torch.get_num_threads(), file=out, flush=True)
            continue
        if parts[0] == "clock":
            clock = time.thread_time if parts[1] == "cpu" else time.perf_counter
            print("ok clock=%s" % parts[1], file=out, flush=True)
            continue
        if parts[0] != "time" or len(parts) != 9:
            print("error bad request: %s" % line.strip(), file=out, flush=True)
            continue
        ci, co, size, k, stride = (int(p) for p in parts[1:6])
        padding, pass_, reps = parts[6], parts[7], int(parts[8])
        key = (ci, co, size, k, stride, padding)
        if key not in cache:
            cache.clear()  # one shape at a time keeps memory bounded on the 112³ layers
            conv = torch.nn.Conv3d(ci, co, k, stride=stride, padding=(k - 1) // 2, bias=True,
                                   padding_mode="reflect" if padding == "REFLECT" else "zeros")
            x = torch.randn(1, ci, size, size, size)
            with torch.no_grad():
                gy = torch.randn_like(conv(x))
            cache[key] = (conv, x, gy, {})
        conv, x, gy, graphs = cache[key]
        if pass_ == "forward":
            def op():
                with torch.no_grad():
                    conv(x)
        elif pass_ in ("backwardData", "backwardWeight"):
            if pass_ not in graphs:
                data = pass_ == "backwardData"
                xi = x.detach().requires_grad_(data)
                for p in conv.parameters():
                    p.requires_grad_(not data)
                y = conv(xi)
                wrt = [xi] if data else [conv.weight, conv.bias]
                graphs[pass_] = (y, wrt)
            y, wrt = graphs[pass_]

            def op():
                torch.autograd.grad(y, wrt, gy, retain_graph=True)
        else:
            print("error unknown pass %s" % pass_, file=out, flush=True)
            continue
        warm = graphs.setdefault("warm", set())
        if pass_ not in warm:  # later requests for the same shape and pass reuse oneDNN's cached primitives
            for _ in range(2):
                op()
            warm.add(pass_)
        times = []
        for _ in range(reps):
            t0 = clock()
            op()
            times.append((clock() - t0) * 1e3)
        print("ok " + " ".join("%.4f" % t for t in times), file=out, flush=True)


if __name__ == "__main__":
    main()
