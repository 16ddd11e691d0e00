package org.cloe4j.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class GraphRuntimeTest {
    private final CpuBackend be = new CpuBackend();

    private Parameter param(String name, float... v) {
        return new Parameter(name, be, Shape.of(v.length), v);
    }

    @Test
    void backwardOfAValueUsedTwiceAddsBothContributions() {
        // loss = sum((w * w) * x) = Σ w_i² x_i  ⇒  dloss/dw_i = 2 w_i x_i (both operands of mul are w)
        Parameter w = param("w", 1f, -2f, 3f);
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("x", Shape.of(3));
        Value wv = g.param(w);
        Value loss = g.sum(g.mul(g.mul(wv, wv), x));
        Graph graph = g.buildTraining(loss);
        try (Graph.Run run = graph.run(be, Map.of("x", Tensor.wrap(Shape.of(3), new float[]{0.5f, 1f, 2f})))) {
            assertEquals(0.5f * 1 + 4f + 18f, run.scalar(loss), 1e-6f);
            run.backward();
        }
        assertArrayEquals(new float[]{1f, -4f, 12f}, be.toHost(w.grad()), 1e-6f);
    }

    @Test
    void gradientsAccumulateAcrossRunsUntilZeroed() {
        Parameter w = param("w", 2f);
        GraphBuilder g = new GraphBuilder();
        Value loss = g.scale(g.param(w), 3f);
        Graph graph = g.buildTraining(loss);
        for (int i = 0; i < 2; i++) {
            try (Graph.Run run = graph.run(be, Map.of())) {
                run.backward();
            }
        }
        assertEquals(6f, be.toHost(w.grad())[0], 0f, "two backward passes of d(3w)/dw = 3 each");
        w.zeroGrad();
        assertNull(w.grad());
    }

    @Test
    void stopGradientBlocksTheGradient() {
        Parameter w = param("w", 2f);
        Parameter u = param("u", 5f);
        GraphBuilder g = new GraphBuilder();
        Value loss = g.add(g.stopGradient(g.scale(g.param(w), 3f)), g.param(u));
        try (Graph.Run run = g.buildTraining(loss).run(be, Map.of())) {
            assertEquals(11f, run.scalar(loss), 0f);
            run.backward();
        }
        assertNull(w.grad(), "no gradient may reach a parameter behind stopGradient");
        assertEquals(1f, be.toHost(u.grad())[0], 0f);
    }

    @Test
    void inferenceGraphRunsNoBackwardAndRejectsIt() {
        Parameter w = param("w", 2f);
        GraphBuilder g = new GraphBuilder();
        Value y = g.scale(g.param(w), 3f);
        Graph graph = g.build(y);
        assertEquals(0, graph.backwardOps());
        try (Graph.Run run = graph.run(be, Map.of())) {
            assertEquals(6f, run.scalar(y), 0f);
            assertThrows(IllegalStateException.class, run::backward);
        }
    }

    @Test
    void opsTheOutputsDoNotNeedArePruned() {
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("x", Shape.of(4));
        Value used = g.scale(x, 2f);
        g.sigmoid(g.scale(x, 5f)); // dead branch
        Graph graph = g.build(used);
        assertEquals(1, graph.forwardOps());
    }

    @Test
    void inferencePeakMatchesThePlanExactly() {
        // A chain of convs: the plan frees each activation after its consumer, so the backend's peak of live bytes
        // during the run must equal the planned peak.
        ParameterStoreForTest ps = new ParameterStoreForTest(be);
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("x", Shape.ncdhw(1, 2, 8, 8, 8));
        Value h = x;
        for (int i = 0; i < 4; i++) {
            h = g.leakyRelu(g.instanceNorm(g.conv3d(h, g.param(ps.weight(2, 2)), null, ConvSpec.same3(ConvSpec.Padding.REFLECT)), 1e-5f), 0.2f);
        }
        Graph graph = g.build(h);
        Tensor in = be.zeros(Shape.ncdhw(1, 2, 8, 8, 8));
        be.resetPeak();
        long before = be.bytesInUse();
        try (Graph.Run run = graph.run(be, Map.of("x", in))) {
            assertEquals(graph.plannedPeakBytes(), be.peakBytes() - before);
        }
        assertEquals(before, be.bytesInUse(), "closing the run must return every buffer");
    }

    @Test
    void trainingPeakStaysWithinThePlanPlusPersistentGradients() {
        ParameterStoreForTest ps = new ParameterStoreForTest(be);
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("x", Shape.ncdhw(1, 2, 6, 6, 6));
        Parameter w1 = ps.weight(2, 3);
        Parameter w2 = ps.weight(3, 2);
        Value h = g.sigmoid(g.conv3d(x, g.param(w1), null, ConvSpec.same3(ConvSpec.Padding.ZERO)));
        Value out = g.conv3d(h, g.param(w2), null, ConvSpec.same3(ConvSpec.Padding.ZERO));
        Value loss = g.mean(g.mul(out, out));
        Graph graph = g.buildTraining(loss);
        Tensor in = be.fromHost(Shape.ncdhw(1, 2, 6, 6, 6), new float[432]);
        be.resetPeak();
        long before = be.bytesInUse();
        long gradBytes = w1.shape().bytes() + w2.shape().bytes();
        try (Graph.Run run = graph.run(be, Map.of("x", in))) {
            run.backward();
        }
        long measured = be.peakBytes() - before;
        // mul's backward holds one temporary of the output's size beside the planned buffers
        long temporary = Shape.ncdhw(1, 2, 6, 6, 6).bytes();
        assertTrue(measured >= graph.plannedPeakBytes(), "measured " + measured + " < planned " + graph.plannedPeakBytes());
        assertTrue(measured <= graph.plannedPeakBytes() + gradBytes + temporary,
                "measured " + measured + " exceeds planned " + graph.plannedPeakBytes() + " + gradients + temporary");
        assertEquals(before + gradBytes, be.bytesInUse(), "only the parameters' gradients may stay allocated");
    }

    @Test
    void aShapeMistakeNamesTheOpAndTheShapes() {
        GraphBuilder g = new GraphBuilder();
        Value a = g.input("a", Shape.ncdhw(1, 2, 4, 4, 4));
        Value b = g.input("b", Shape.ncdhw(1, 3, 4, 4, 4));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.add(a, b));
        assertTrue(e.getMessage().contains("add") && e.getMessage().contains("[1, 2, 4, 4, 4]")
                && e.getMessage().contains("[1, 3, 4, 4, 4]"), e.getMessage());
        Value v = g.input("v", Shape.of(3));
        IllegalArgumentException r = assertThrows(IllegalArgumentException.class, () -> g.softmaxChannels(v));
        assertTrue(r.getMessage().contains("softmaxChannels") && r.getMessage().contains("[3]"), r.getMessage());
    }

    @Test
    void aMissingOrMisshapenInputIsNamed() {
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("flair", Shape.of(2));
        Graph graph = g.build(g.scale(x, 2f));
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> graph.run(be, Map.of()));
        assertTrue(missing.getMessage().contains("flair"), missing.getMessage());
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
                () -> graph.run(be, Map.of("flair", Tensor.wrap(Shape.of(3), new float[3]))));
        assertTrue(wrong.getMessage().contains("[2]") && wrong.getMessage().contains("[3]"), wrong.getMessage());
    }

    /** Small deterministic conv weights for the memory tests. */
    private static final class ParameterStoreForTest {
        private final CpuBackend be;
        private int count;

        ParameterStoreForTest(CpuBackend be) {
            this.be = be;
        }

        Parameter weight(int in, int out) {
            float[] v = new float[out * in * 27];
            for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i + 7.0 * count) * 0.2f;
            return new Parameter("w" + count++, be, Shape.ncdhw(out, in, 3, 3, 3), v);
        }
    }
}
