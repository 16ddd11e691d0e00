package org.cloe4j.graph;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.cloe4j.backend.AdamConfig;
import org.cloe4j.backend.ConvSpec;
import org.cloe4j.backend.cpu.CpuBackend;
import org.cloe4j.nn.Conv3dLayer;
import org.cloe4j.nn.ConvBlock;
import org.cloe4j.nn.ParameterStore;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;
import org.cloe4j.train.Adam;
import org.junit.jupiter.api.Test;

/** End-to-end check of the op set and the runtime: a two-level 3D U-Net must memorise one fixed batch. */
class UNetOverfitTest {
    @Test
    void twoLevelUNetOverfitsOneBatchTenfold() {
        CpuBackend be = new CpuBackend();
        ParameterStore ps = new ParameterStore(be, 42);
        ConvSpec same = ConvSpec.same3(ConvSpec.Padding.REFLECT);
        ConvBlock enc1 = new ConvBlock(ps, "enc1", 1, 8, same, 0.2f);
        ConvBlock down = new ConvBlock(ps, "down", 8, 16, ConvSpec.down3(ConvSpec.Padding.REFLECT), 0.2f);
        ConvBlock enc2 = new ConvBlock(ps, "enc2", 16, 16, same, 0.2f);
        ConvBlock up = new ConvBlock(ps, "up", 16, 8, same, 0.2f);
        ConvBlock dec = new ConvBlock(ps, "dec", 16, 8, same, 0.2f);
        Conv3dLayer head = new Conv3dLayer(ps, "head", 8, 2, ConvSpec.pointwise(), 1f);

        int s = 12;
        Shape img = Shape.ncdhw(1, 1, s, s, s);
        GraphBuilder g = new GraphBuilder();
        Value x = g.input("image", img);
        Value target = g.input("target", Shape.ncdhw(1, 2, s, s, s));
        Value e1 = enc1.apply(g, x);
        Value e2 = enc2.apply(g, down.apply(g, e1));
        Value d = dec.apply(g, g.concat(up.apply(g, g.upsample2x(e2)), e1));
        Value p = g.softmaxChannels(head.apply(g, d));
        Value loss = g.add(g.weightedCrossEntropy(p, target), g.softDice(p, target));
        Graph graph = g.buildTraining(loss);

        // a bright sphere (class 1) in noise
        float[] image = new float[s * s * s];
        float[] onehot = new float[2 * s * s * s];
        java.util.SplittableRandom r = new java.util.SplittableRandom(7);
        for (int i = 0; i < image.length; i++) {
            int z = i / (s * s), y = i / s % s, xx = i % s;
            boolean in = (z - 6) * (z - 6) + (y - 5) * (y - 5) + (xx - 6) * (xx - 6) < 12;
            image[i] = (in ? 1f : 0f) + (float) r.nextGaussian() * 0.3f;
            onehot[(in ? 1 : 0) * image.length + i] = 1f;
        }
        Map<String, Tensor> batch = Map.of("image", be.fromHost(img, image),
                "target", be.fromHost(Shape.ncdhw(1, 2, s, s, s), onehot));

        float first = Float.NaN;
        float last = Float.NaN;
        try (Adam adam = new Adam(ps.all().values(), new AdamConfig(0.9f, 0.999f, 1e-8f, 0f, true))) {
            for (int step = 0; step < 120; step++) {
                ps.zeroGrad();
                try (Graph.Run run = graph.run(be, batch)) {
                    last = run.scalar(loss);
                    run.backward();
                }
                if (step == 0) first = last;
                if (last < first / 10) break;
                adam.step(1e-2f);
            }
        }
        assertTrue(last < first / 10, "loss went from " + first + " to " + last + ", not a tenfold fall");
    }
}
