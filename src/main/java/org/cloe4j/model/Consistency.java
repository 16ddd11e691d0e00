package org.cloe4j.model;

import java.util.List;

import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;
import org.cloe4j.tensor.Shape;

/**
 * MEC/REC as graph pieces. Over the present experts (a 0/1 vector {@code present} over the k maps given):
 * S = pairwise cosines of the maps, S_r the same inside region r; the per-expert scores u_m, v_m are the means of
 * S and S_r over the other present experts, and the losses are 1 − the mean of S (S_r) over present pairs.
 */
final class Consistency {
    private Consistency() {
    }

    /** S, S_r [k,k] and the scores u, v [k,1] (absent experts score 0). Needs at least two present. */
    record Scores(Value s, Value sr, Value u, Value v) {
    }

    static Scores scores(GraphBuilder g, List<Value> experts, Value region, float[] present, boolean detach, String tag) {
        int k = experts.size();
        int count = count(present);
        if (count < 2) throw new IllegalArgumentException("agreement scores need two present experts, got " + count);
        Value s = g.pairwiseCosine(experts, null);
        Value sr = g.pairwiseCosine(experts, region);
        Value q = g.constant("score_pairs" + tag, Shape.of(k, k), pairWeights(present, 1f / (count - 1)));
        Value u = g.sumTo(g.mul(s, q), Shape.of(k, 1));
        Value v = g.sumTo(g.mul(sr, q), Shape.of(k, 1));
        if (detach) {
            u = g.stopGradient(u);
            v = g.stopGradient(v);
        }
        return new Scores(s, sr, u, v);
    }

    /** 1 − mean over present unordered pairs of the similarity matrix, as a scalar [1]. */
    static Value loss(GraphBuilder g, Value similarity, float[] present, String name) {
        int k = present.length;
        int count = count(present);
        Value pairs = g.constant(name + "_pairs", Shape.of(k, k), pairWeights(present, 1f / (count * (count - 1))));
        Value one = g.constant(name + "_one", Shape.scalar(), new float[]{1f});
        return g.add(one, g.scale(g.reshape(g.sum(g.mul(similarity, pairs)), Shape.scalar()), -1f));
    }

    /** A [k,k] matrix with {@code weight} where both entries are present and off the diagonal, else 0. */
    private static float[] pairWeights(float[] present, float weight) {
        int k = present.length;
        float[] q = new float[k * k];
        for (int a = 0; a < k; a++) {
            for (int b = 0; b < k; b++) if (a != b && present[a] > 0 && present[b] > 0) q[a * k + b] = weight;
        }
        return q;
    }

    static int count(float[] present) {
        int c = 0;
        for (float p : present) if (p > 0) c++;
        return c;
    }
}
