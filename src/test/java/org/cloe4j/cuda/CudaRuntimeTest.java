package org.cloe4j.cuda;

import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The driver layer on a GPU: allocator reuse and statistics, out-of-memory recovery, threads, both launch paths. */
class CudaRuntimeTest {

    @Test
    void roundTripThroughDeviceMemory() {
        CudaBackend g = GpuTest.cudaOrSkip();
        float[] v = new float[12345];
        for (int i = 0; i < v.length; i++) v[i] = i * 0.5f - 7;
        Tensor t = g.fromHost(Shape.of(v.length), v);
        assertArrayEquals(v, g.toHost(t));
        g.release(t);
    }

    /** A backend with other options runs on the same stream and allocator: no second context, its work in order. */
    @Test
    void aBackendWithOtherOptionsSharesTheStreamAndAllocator() {
        CudaBackend g = GpuTest.cudaOrSkip();
        CudaBackend v1 = g.withOptions(g.options().withVersion("weightedSum", 1));
        assertSame(g.stream(), v1.stream());
        assertSame(g.allocator(), v1.allocator());
        assertEquals(1, v1.options().version("weightedSum"));
        Tensor x = g.fromHost(Shape.of(3), new float[]{1, 2, 3});
        assertArrayEquals(new float[]{1, 2, 3}, v1.toHost(x), "a tensor of one is readable by the other");
        v1.close();
        assertArrayEquals(new float[]{1, 2, 3}, g.toHost(x), "closing the derived backend leaves the runtime open");
        g.release(x);
    }

    @Test
    void freedBlocksAreReusedAndCounted() {
        CudaBackend g = GpuTest.cudaOrSkip();
        DeviceAllocator a = g.allocator();
        long before = g.bytesInUse();
        Tensor t = g.allocate(Shape.of(1000));
        assertEquals(before + DeviceAllocator.sizeClass(4000), g.bytesInUse());
        long ptr = t.devicePointer();
        g.release(t);
        assertEquals(before, g.bytesInUse());
        long allocs = a.deviceAllocations();
        Tensor u = g.allocate(Shape.of(999));
        assertEquals(ptr, u.devicePointer(), "same size class: the cached block comes back");
        assertEquals(allocs, a.deviceAllocations(), "no cuMemAlloc for a cache hit");
        assertTrue(g.peakBytes() >= g.bytesInUse());
        g.release(u);
    }

    @Test
    void outOfMemoryNamesTheSizesAndTheBackendStaysUsable() {
        CudaBackend g = GpuTest.cudaOrSkip();
        long huge = g.device().totalMemory() * 4;
        CudaOutOfMemoryException e = assertThrows(CudaOutOfMemoryException.class,
                () -> g.allocator().allocate(huge, "test"));
        assertTrue(e.getMessage().contains(Long.toString(huge)) && e.getMessage().contains("in use"), e.getMessage());
        assertEquals("CUDA_ERROR_OUT_OF_MEMORY", e.errorName());
        Tensor t = g.fromHost(Shape.of(3), new float[]{1, 2, 3});
        assertArrayEquals(new float[]{1, 2, 3}, g.toHost(t));
        g.release(t);
    }

    @Test
    void opsWorkFromManyThreads() throws Exception {
        CudaBackend g = GpuTest.cudaOrSkip();
        Thread[] ts = new Thread[4];
        Throwable[] err = new Throwable[1];
        for (int i = 0; i < ts.length; i++) {
            int k = i;
            ts[i] = new Thread(() -> {
                try {
                    Tensor x = g.fromHost(Shape.of(100), new float[100]);
                    g.fill(x, k);
                    float[] h = g.toHost(x);
                    if (h[99] != k) throw new AssertionError("thread " + k + " read " + h[99]);
                    g.release(x);
                } catch (Throwable t) {
                    err[0] = t;
                }
            });
            ts[i].start();
        }
        for (Thread t : ts) t.join();
        if (err[0] != null) throw new AssertionError("a worker thread failed (context not made current?)", err[0]);
    }

    @Test
    void panamaAndJCudaLaunchesGiveIdenticalBits() {
        CudaBackend panama = GpuTest.cudaOrSkip();
        assumeTrue(panama.launcherName().equals("panama"), "the shared backend already uses JCuda");
        CudaBackend jcuda = new CudaBackend(panama.device().ordinal(),
                panama.options().withLauncher("jcuda", panama.options().syncEachLaunch()));
        try {
            assumeTrue(jcuda.isAvailable(), () -> "JCuda path unavailable: " + jcuda.unavailableReason());
            assertEquals("jcuda", jcuda.launcherName());
            SplittableRandom r = new SplittableRandom(3);
            Shape s = Shape.ncdhw(1, 4, 9, 10, 11);
            Tensor[] xp = new Tensor[4], xj = new Tensor[4];
            for (int k = 0; k < 4; k++) {
                float[] v = new float[s.intSize()];
                for (int i = 0; i < v.length; i++) v[i] = (float) r.nextGaussian();
                xp[k] = panama.fromHost(s, v);
                xj[k] = jcuda.fromHost(s, v);
            }
            Tensor sp = panama.allocate(Shape.of(4, 4)), sj = jcuda.allocate(Shape.of(4, 4));
            panama.pairwiseCosine(xp, null, sp);
            jcuda.pairwiseCosine(xj, null, sj);
            assertArrayEquals(panama.toHost(sp), jcuda.toHost(sj), "pairwiseCosine bits differ between launch paths");
            Tensor w = panama.fromHost(Shape.of(4), new float[]{0.1f, 0.2f, 0.3f, 0.4f});
            Tensor wj = jcuda.fromHost(Shape.of(4), new float[]{0.1f, 0.2f, 0.3f, 0.4f});
            Tensor yp = panama.allocate(s), yj = jcuda.allocate(s);
            panama.weightedSum(xp, w, yp);
            jcuda.weightedSum(xj, wj, yj);
            assertArrayEquals(panama.toHost(yp), jcuda.toHost(yj), "weightedSum bits differ between launch paths");
        } finally {
            jcuda.close();
        }
    }

    @Test
    void aCapturedGraphReplaysTheOps() {
        CudaBackend g = GpuTest.cudaOrSkip();
        assumeTrue(g.launcherName().equals("panama"), "the JCuda path runs on the NULL stream, which cannot be captured");
        Tensor x = g.fromHost(Shape.of(1000), new float[1000]);
        Tensor y = g.allocate(Shape.of(1000));
        g.fill(x, 1f);
        g.fill(y, 0f);
        try (CudaGraph graph = CudaGraph.capture(g.stream(), () -> {
            g.scale(x, 2f, x);
            g.addInPlace(y, x);
        })) {
            graph.launch(g.stream());
            graph.launch(g.stream());
            g.synchronize();
        }
        float[] h = g.toHost(y);
        assertEquals(2f + 4f, h[0], "two replays: x = 2 then 4, y = 2 + 4");
        assertEquals(6f, h[999]);
        g.release(x);
        g.release(y);
    }

    @Test
    void cudnnBindingsCreateAHandle() {
        CudaBackend g = GpuTest.cudaOrSkip();
        g.device().makeCurrent();
        var cudnn = org.cloe4j.cuda.ffm.NativeLibraries.Library.CUDNN;
        assumeTrue(org.cloe4j.cuda.ffm.NativeLibraries.isAvailable(cudnn),
                () -> "no cuDNN here: " + org.cloe4j.cuda.ffm.NativeLibraries.describe(cudnn));
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            var p = a.allocate(java.lang.foreign.ValueLayout.ADDRESS);
            {
                assertTrue(org.cloe4j.cuda.ffm.cudnn_h.cudnnGetVersion() >= 90000, "cuDNN 9 expected");
                assertEquals(0, org.cloe4j.cuda.ffm.cudnn_h.cudnnCreate(p), "cudnnCreate");
                assertEquals(0, org.cloe4j.cuda.ffm.cudnn_h.cudnnDestroy(p.get(java.lang.foreign.ValueLayout.ADDRESS, 0)));
            }
        }
    }
}
