package org.cloe4j.model;

import org.cloe4j.backend.ConvSpec;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;
import org.cloe4j.nn.Conv3dLayer;
import org.cloe4j.nn.ConvBlock;
import org.cloe4j.nn.ParameterStore;

/**
 * The U-Net decoder used twice: as the expert decoder D_sep (shared by every modality) and as the fusion decoder
 * D_fuse. At each level: up-sample ×2, conv to half the channels, concatenate the skip, conv, 1³ conv.
 */
final class Decoder {
    private final ConvBlock[] up = new ConvBlock[3];
    private final ConvBlock[] merge = new ConvBlock[3];
    private final ConvBlock[] out = new ConvBlock[3];
    private final Conv3dLayer logits;

    Decoder(ParameterStore ps, String name, int base, int classes, float slope) {
        ConvSpec same = ConvSpec.same3(ConvSpec.Padding.REFLECT);
        for (int i = 0; i < 3; i++) {
            int level = 3 - i;                // d3, d2, d1
            int c = base << (level - 1);      // 4b, 2b, b
            String p = name + ".d" + level;
            up[i] = new ConvBlock(ps, p + "_c1", 2 * c, c, same, slope);
            merge[i] = new ConvBlock(ps, p + "_c2", 2 * c, c, same, slope);
            out[i] = new ConvBlock(ps, p + "_out", c, c, ConvSpec.pointwise(), slope);
        }
        logits = new Conv3dLayer(ps, name + ".seg", base, classes, ConvSpec.pointwise(), slope);
    }

    /** Logits [N,C,D,H,W] from the feature levels e[0..3]. */
    Value apply(GraphBuilder g, Value[] e) {
        Value d = e[3];
        for (int i = 0; i < 3; i++) {
            Value skip = e[2 - i];
            d = up[i].apply(g, g.upsample2x(d));
            d = out[i].apply(g, merge[i].apply(g, g.concat(d, skip)));
        }
        return logits.apply(g, d);
    }
}
