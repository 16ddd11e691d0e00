package org.cloe4j.cuda;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.ConvSpec.Padding;
import org.cloe4j.tensor.Shape;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every conv3d launch plan, without a GPU: each kernel version and precision, for the parity tests' odd shapes and
 * the paper preset's layers, passes the generated descriptor's argument check (count and types, what the launchers
 * check before cuLaunchKernel) and fits the grid limits; version 2's tiles cover the GEMM and backward-weight's K
 * split covers K exactly once, its partials reduced in a fixed order into gw.
 */
class ConvLaunchTest {
    record P(Shape x, int co, ConvSpec spec) {
    }

    static List<P> problems() {
        List<P> ps = new ArrayList<>();
        for (CudaConv3dParityTest.Case c : CudaConv3dParityTest.CASES) ps.add(new P(c.x(), c.co(), c.spec()));
        ConvSpec same = ConvSpec.same3(Padding.REFLECT), down = ConvSpec.down3(Padding.REFLECT);
        ps.add(new P(Shape.ncdhw(1, 1, 112, 112, 112), 16, same));
        ps.add(new P(Shape.ncdhw(1, 16, 112, 112, 112), 16, same));
        ps.add(new P(Shape.ncdhw(1, 16, 112, 112, 112), 32, down));
        ps.add(new P(Shape.ncdhw(1, 128, 14, 14, 14), 128, same));
        ps.add(new P(Shape.ncdhw(2, 16, 80, 80, 80), 4, ConvSpec.pointwise()));
        return ps;
    }

    @Test
    void everyPlanMatchesItsKernelsDescriptorAndCoversTheProblem() {
        int checked = 0;
        for (P p : problems()) {
            Shape ws = Shape.ncdhw(p.co(), p.x().c(), p.spec().k(), p.spec().k(), p.spec().k());
            Shape ys = p.spec().outputShape(p.x(), ws);
            for (ConvVariant v : ConvVariant.kernels()) {
                String what = v + " " + p;
                ConvLaunch.WeightPlan plan = ConvLaunch.backwardWeight(v.version(), v.precision(), 1L, 2L, 3L, p.x(), ws, ys,
                        p.spec(), 2112, 132);
                List<ConvLaunch.Launch> wl = plan.launches(5L);
                List<ConvLaunch.Launch> ls = List.of(
                        ConvLaunch.forward(v.version(), v.precision(), 1L, 2L, 3L, 4L, p.x(), ws, ys, p.spec(), 2112),
                        ConvLaunch.backwardData(v.version(), v.precision(), 1L, 2L, 3L, p.x(), ws, ys, p.spec(), 2112),
                        wl.get(0));
                checkWeightPlan(what, plan, wl, ws.size());
                for (ConvLaunch.Launch l : ls) {
                    KernelArgs.check(l.kernel(), l.args());
                    assertTrue(l.kernel().contains("_v" + v.version()) || v.version() == 3 && l.kernel().contains("_v2_"), what + ": " + l.kernel());
                    assertTrue(l.gridX() >= 1 && l.gridY() >= 1 && l.gridY() <= 65535 && l.gridZ() >= 1 && l.gridZ() <= 65535,
                            what + ": grid " + l.gridX() + "x" + l.gridY() + "x" + l.gridZ());
                    checked++;
                }
                if (v.version() >= 2) {
                    assertEquals(v.precision(), ls.get(0).kernel().substring(ls.get(0).kernel().lastIndexOf('_') + 1));
                    // v3 runs narrow tiles (128 x 16; bwd-weight 16 x 128) up to 16 channels, v2's 64 x 64 otherwise
                    boolean nf = v.version() == 3 && p.co() <= 16, nd = v.version() == 3 && p.x().c() <= 16;
                    assertEquals(nf, ls.get(0).kernel().contains("_v3_"), what + ": " + ls.get(0).kernel());
                    assertEquals(nd, ls.get(1).kernel().contains("_v3_"), what + ": " + ls.get(1).kernel());
                    assertEquals(nf, ls.get(2).kernel().contains("_v3_"), what + ": " + ls.get(2).kernel());
                    int fm = nf ? 128 : 64, fn = nf ? 16 : 64, dm = nd ? 128 : 64, dn = nd ? 16 : 64, wm = nf ? 16 : 64, wn = nf ? 128 : 64;
                    assertTrue((long) fm * ls.get(0).gridX() >= (long) ys.n() * ys.spatialSize() && (long) fn * ls.get(0).gridY() >= p.co(), what);
                    assertTrue((long) dm * ls.get(1).gridX() >= p.x().size() / p.x().c() && (long) dn * ls.get(1).gridY() >= p.x().c(), what);
                    ConvLaunch.Launch bw = ls.get(2);
                    int chunk = (Integer) bw.args()[bw.args().length - 1];
                    long k = (long) ys.n() * ys.spatialSize();
                    assertEquals(0, chunk % 16, what + ": K chunk " + chunk);
                    assertTrue((long) bw.gridZ() * chunk >= k && (long) (bw.gridZ() - 1) * chunk < k,
                            what + ": " + bw.gridZ() + " splits of " + chunk + " for K " + k);
                    assertTrue((long) wm * bw.gridX() >= p.co() && (long) wn * bw.gridY() >= ws.size() / p.co(), what);
                }
            }
        }
        assertTrue(checked > 100, "checked " + checked);
    }

    /**
     * Backward-weight is deterministic: with one K split the GEMM writes gw (pointer 3) itself; with several it writes
     * every split's partials to the scratch buffer (pointer 5, {@code splits * weights} floats) and one
     * cloe_reduce_columns adds them into gw, in a fixed order. Nothing accumulates into gw, so nothing needs zeroing.
     */
    private static void checkWeightPlan(String what, ConvLaunch.WeightPlan plan, List<ConvLaunch.Launch> ls, long weights) {
        ConvLaunch.Launch gemm = ls.get(0);
        if (gemm.gridZ() == 1) {
            assertEquals(0, plan.partialFloats(), what);
            assertEquals(1, ls.size(), what + ": one split needs no reduction");
            assertEquals(3L, gemm.args()[2], what + ": one split writes gw");
            return;
        }
        assertEquals((long) gemm.gridZ() * weights, plan.partialFloats(), what + ": one slice of partials per split");
        assertEquals(2, ls.size(), what);
        assertEquals(5L, gemm.args()[2], what + ": the split GEMM writes the partials");
        ConvLaunch.Launch reduce = ls.get(1);
        assertEquals("cloe_reduce_columns", reduce.kernel(), what);
        KernelArgs.check(reduce.kernel(), reduce.args());
        assertArrayEquals(new Object[]{5L, gemm.gridZ(), (int) weights, 3L, 1f}, reduce.args(), what + ": partials[splits][weights] -> gw");
        assertTrue(reduce.gridX() >= 1 && reduce.gridX() <= 65535 && reduce.gridY() == 1 && reduce.gridZ() == 1, what);
    }
}
