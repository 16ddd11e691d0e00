package org.cloe4j.model;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;
import org.cloe4j.nn.ConvBlock;
import org.cloe4j.nn.ParameterStore;

/**
 * Φ_m, one per modality: four levels of widths b, 2b, 4b, 8b at full, 1/2, 1/4 and 1/8 resolution; each level is
 * an entry conv (stride 2 below the first) followed by a residual pair of convs (RFNet's encoder).
 */
final class Encoder {
    private final ConvBlock[] entry = new ConvBlock[4];
    private final ConvBlock[] first = new ConvBlock[4];
    private final ConvBlock[] second = new ConvBlock[4];

    Encoder(ParameterStore ps, String name, int base, float slope) {
        ConvSpec same = ConvSpec.same3(ConvSpec.Padding.REFLECT);
        ConvSpec down = ConvSpec.down3(ConvSpec.Padding.REFLECT);
        int in = 1;
        for (int l = 0; l < 4; l++) {
            int c = base << l;
            String p = name + ".e" + (l + 1);
            entry[l] = new ConvBlock(ps, p + "_c1", in, c, l == 0 ? same : down, slope);
            first[l] = new ConvBlock(ps, p + "_c2", c, c, same, slope);
            second[l] = new ConvBlock(ps, p + "_c3", c, c, same, slope);
            in = c;
        }
    }

    /** The four feature levels of image {@code x} [N,1,D,H,W]. */
    Value[] apply(GraphBuilder g, Value x) {
        Value[] e = new Value[4];
        Value h = x;
        for (int l = 0; l < 4; l++) {
            h = entry[l].apply(g, h);
            h = second[l].apply(g, first[l].apply(g, h), h); // h + block(block(h)), the add fused into the norm
            e[l] = h;
        }
        return e;
    }
}
