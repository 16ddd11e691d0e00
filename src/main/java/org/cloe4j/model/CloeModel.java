package org.cloe4j.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.cloe4j.backend.Backend;
import org.cloe4j.data.Modality;
import org.cloe4j.data.Patch;
import org.cloe4j.graph.Graph;
import org.cloe4j.graph.GraphBuilder;
import org.cloe4j.graph.Value;
import org.cloe4j.nn.ParameterStore;
import org.cloe4j.tensor.Shape;
import org.cloe4j.tensor.Tensor;

/**
 * CLoE (docs/MODEL.md): one encoder per modality, the shared expert decoder, the region map, the MEC/REC agreement of
 * the experts, the reliability gate, the weighted multi-scale fusion and the fusion decoder — as graphs on the
 * graph runtime, built once per signature (window shape, modality mask, mode) and cached. Model code never names a
 * backend: the same graphs run on whichever backend holds the parameters.
 *
 * <p>Graph inputs are named {@code image.<modality>} ([1,1,D,H,W] z-scored images), {@code target} (one-hot
 * [1,C,D,H,W]) and {@code wt} (whole-tumour mask [1,1,D,H,W]).
 */
public final class CloeModel {
    private final CloeConfig cfg;
    private final ParameterStore params;
    private final List<Encoder> encoders = new ArrayList<>();
    private final Decoder expertDecoder;
    private final Decoder fusionDecoder;
    private final RegionHead region;
    private final ReliabilityGate gate;
    private final Map<Object, Built> graphs = new ConcurrentHashMap<>();
    private final Map<Object, List<Built>> multiGraphs = new ConcurrentHashMap<>();

    public CloeModel(CloeConfig cfg, Backend backend) {
        this.cfg = cfg;
        this.params = new ParameterStore(backend, cfg.seed());
        for (Modality m : cfg.modalities()) encoders.add(new Encoder(params, "encoder." + m.name(), cfg.base(), cfg.slope()));
        expertDecoder = new Decoder(params, "expert_decoder", cfg.base(), cfg.classes(), cfg.slope());
        fusionDecoder = new Decoder(params, "fusion_decoder", cfg.base(), cfg.classes(), cfg.slope());
        region = new RegionHead(params, "region", cfg.base(), cfg.slope());
        gate = new ReliabilityGate(params, "gate", cfg.slope());
    }

    public CloeConfig config() {
        return cfg;
    }

    public ParameterStore parameters() {
        return params;
    }

    public Backend backend() {
        return params.backend();
    }

    /** The graph input name of a modality's image (built here, never parsed back). */
    public static String imageInput(Modality modality) {
        return "image." + modality.name();
    }

    /**
     * A patch as the inputs of {@code built}'s graph, on this model's backend: the image of every modality the graph
     * encodes ({@link Built#modalities()}, taken from the channel of that modality in {@code channels}, the patch's
     * channel order), and for a training graph the one-hot {@code target} and, when the region map is supervised, the
     * whole-tumour mask {@code wt} from the patch's labels. Training and inference both bind through here; the caller
     * releases the tensors. Throws an IllegalArgumentException naming a modality the patch lacks, a patch of another
     * edge, missing labels or a class outside the model's.
     */
    public Map<String, Tensor> bind(Built built, List<Modality> channels, Patch patch) {
        int p = built.window();
        if (patch.depth() != p || patch.height() != p || patch.width() != p || patch.channels() != channels.size()) {
            throw new IllegalArgumentException("patch of " + patch.channels() + "×" + patch.depth() + "×" + patch.height()
                    + "×" + patch.width() + " does not fit a graph of " + channels.size() + " channels of " + p + "³");
        }
        int vox = patch.voxels();
        boolean training = built.loss() != null;
        float[] onehot = null;
        float[] wt = null;
        if (training) {
            byte[] labels = patch.labels();
            if (labels == null) throw new IllegalArgumentException("a training patch needs labels");
            onehot = new float[cfg.classes() * vox];
            wt = new float[vox];
            for (int i = 0; i < vox; i++) {
                int k = labels[i];
                if (k < 0 || k >= cfg.classes()) {
                    throw new IllegalArgumentException("class " + k + " outside 0.." + (cfg.classes() - 1));
                }
                onehot[k * vox + i] = 1f;
                wt[i] = k > 0 ? 1f : 0f;
            }
        }
        int[] channelOf = new int[built.modalities().size()];
        for (int m = 0; m < channelOf.length; m++) {
            channelOf[m] = channels.indexOf(built.modalities().get(m));
            if (channelOf[m] < 0) {
                throw new IllegalArgumentException("the patch has no " + built.modalities().get(m) + " channel " + channels);
            }
        }
        Backend be = backend();
        Shape img = Shape.ncdhw(1, 1, p, p, p);
        Map<String, Tensor> in = new HashMap<>();
        for (int m = 0; m < channelOf.length; m++) {
            float[] v = new float[vox];
            System.arraycopy(patch.image(), channelOf[m] * vox, v, 0, vox);
            in.put(imageInput(built.modalities().get(m)), be.fromHost(img, v));
        }
        if (training) {
            in.put("target", be.fromHost(Shape.ncdhw(1, cfg.classes(), p, p, p), onehot));
            if (cfg.regionSupervised()) in.put("wt", be.fromHost(img, wt));
        }
        return in;
    }

    /**
     * A built graph and its named values. {@code loss} and {@code terms} exist in training graphs; {@code u},
     * {@code v} (the agreement scores, [M,1]) only where at least two modalities are present; {@code w} is the fusion
     * weight vector [M] over the graph's modalities ({@code modalities}).
     */
    public record Built(Graph graph, int window, List<Modality> modalities, Value prediction, Value u, Value v, Value w,
                        Value loss, Map<String, Value> terms) {
    }

    /** The training graph for one sample with modality set {@code mask} (all encoders and experts run). */
    public Built training(ModalityMask mask) {
        return training(mask, -1);
    }

    /**
     * The training graph for one sample whose sequence {@code corrupted} (an index into the model's modalities, present
     * in {@code mask}; −1 for none) was corrupted by the reliability augmentation: that sequence's expert is left out
     * of the expert segmentation loss and of MEC/REC (it should disagree), while its agreement scores, the gate and
     * the fusion see it as usual, so the fused loss is what teaches the gate to weigh it down.
     */
    public Built training(ModalityMask mask, int corrupted) {
        requireOwn(mask);
        if (corrupted >= 0 && !mask.has(corrupted)) {
            throw new IllegalArgumentException("corrupted sequence " + corrupted + " is not present in " + mask);
        }
        Object key = corrupted < 0 ? List.of("train", mask.bits()) : List.of("train", mask.bits(), corrupted);
        return graphs.computeIfAbsent(key, k -> build(mask, true, false, cfg.patch(), corrupted));
    }

    /**
     * The inference graph of one window of edge {@code window} for {@code mask}. Compact graphs run only the present
     * modalities' encoders; the full form runs every encoder and masks the absent ones out of the gate and fusion,
     * which must give the same prediction (a test checks it).
     */
    public Built inference(ModalityMask mask, int window, boolean compact) {
        requireOwn(mask);
        return graphs.computeIfAbsent(List.of("infer", mask.bits(), window, compact),
                k -> build(mask, false, compact, window, -1));
    }

    /**
     * One graph evaluating several masks on one window with every modality given: encoders and experts run once and
     * each mask adds only its region map, gate, fusion and fusion decoder. Outputs are in the order of {@code masks}.
     */
    public List<Built> inferenceAllMasks(List<ModalityMask> masks, int window) {
        masks.forEach(this::requireOwn);
        return multiGraphs.computeIfAbsent(List.of(masks.stream().map(ModalityMask::bits).toList(), window),
                k -> buildMulti(masks, window));
    }

    private void requireOwn(ModalityMask mask) {
        if (!mask.modalities().equals(cfg.modalities())) {
            throw new IllegalArgumentException("mask over " + mask.modalities() + " does not fit a model of " + cfg.modalities());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** What the shared part (encoders and experts) of a graph produced. */
    private record Trunk(int[] included, Value[][] features, Value[] experts) {
    }

    private Trunk trunk(GraphBuilder g, int[] included, int window, boolean experts) {
        Shape img = Shape.ncdhw(1, 1, window, window, window);
        Value[][] f = new Value[included.length][];
        Value[] p = new Value[included.length];
        for (int i = 0; i < included.length; i++) {
            int m = included[i];
            f[i] = encoders.get(m).apply(g, g.input(imageInput(cfg.modalities().get(m)), img));
            if (experts) p[i] = g.softmaxChannels(expertDecoder.apply(g, f[i]));
        }
        return new Trunk(included, f, experts ? p : null);
    }

    /** Region map, agreement scores, gate and fusion for {@code mask} over the trunk's modalities. */
    private record Head(Value prediction, Value region, float[] present, Consistency.Scores scores, Value w) {
        Value u() {
            return scores == null ? null : scores.u();
        }

        Value v() {
            return scores == null ? null : scores.v();
        }
    }

    private Head head(GraphBuilder g, Trunk t, ModalityMask mask, String tag) {
        int k = t.included().length;
        float[] present = new float[k];
        int count = 0;
        for (int i = 0; i < k; i++) {
            if (mask.has(t.included()[i])) {
                present[i] = 1f;
                count++;
            }
        }
        float[] uniform = new float[k];
        for (int i = 0; i < k; i++) uniform[i] = present[i] / count;
        Value uniformW = g.constant("uniform" + tag, Shape.of(k), uniform);

        List<Value> e1 = new ArrayList<>();
        for (Value[] f : t.features()) e1.add(f[0]);
        Value r = region.apply(g, g.weightedSum(e1, uniformW));

        Consistency.Scores sc = count >= 2 && t.experts() != null
                ? Consistency.scores(g, List.of(t.experts()), r, present, cfg.detachScores(), tag) : null;
        Value u = sc == null ? null : sc.u();
        Value v = sc == null ? null : sc.v();

        Value w;
        if (u == null || cfg.has(Ablation.NO_WEIGHTED_FUSION)) {
            w = uniformW;
        } else {
            Value maskV = g.constant("mask" + tag, Shape.of(k), present);
            Value logits;
            if (cfg.has(Ablation.NO_GATE)) {
                logits = g.reshape(g.add(u, v), Shape.of(k));
            } else {
                Shape col = Shape.ncdhw(k, 1, 1, 1, 1);
                Value gu = u, gv = v;
                if (cfg.centredGateInput()) {
                    Value centre = g.constant("gate_centre" + tag, Shape.of(k, k), centring(present, CloeConfig.GATE_INPUT_SCALE));
                    Value zero = g.constant("gate_centre_bias" + tag, Shape.of(k), new float[k]);
                    gu = g.dense(g.reshape(u, Shape.of(1, k)), centre, zero);
                    gv = g.dense(g.reshape(v, Shape.of(1, k)), centre, zero);
                }
                Value uv = g.reshape(g.concat(g.reshape(gu, col), g.reshape(gv, col)), Shape.of(k, 2));
                logits = g.reshape(gate.apply(g, uv), Shape.of(k));
            }
            w = g.maskedSoftmax(logits, maskV);
        }

        Value[] fused = new Value[4];
        for (int l = 0; l < 4; l++) {
            List<Value> level = new ArrayList<>();
            for (Value[] f : t.features()) level.add(f[l]);
            fused[l] = g.weightedSum(level, w);
        }
        Value p = g.softmaxChannels(fusionDecoder.apply(g, fused));
        return new Head(p, r, present, sc, w);
    }

    /**
     * The [k,k] matrix C with (C·x)_a = scale · (x_a − mean of x over the present entries) for present a, 0 for absent
     * a: the gate's centred input (dense computes x·Cᵀ, so C is stored row a = output a).
     */
    static float[] centring(float[] present, float scale) {
        int k = present.length;
        int count = 0;
        for (float p : present) if (p > 0) count++;
        float[] c = new float[k * k];
        for (int a = 0; a < k; a++) {
            if (present[a] <= 0) continue;
            for (int b = 0; b < k; b++) {
                if (present[b] <= 0) continue;
                c[a * k + b] = scale * ((a == b ? 1f : 0f) - 1f / count);
            }
        }
        return c;
    }

    private static int[] allIndices(int m) {
        int[] a = new int[m];
        for (int i = 0; i < m; i++) a[i] = i;
        return a;
    }

    private Built build(ModalityMask mask, boolean training, boolean compact, int window, int corrupted) {
        GraphBuilder g = new GraphBuilder();
        int[] included = compact ? mask.present() : allIndices(cfg.modalities().size());
        Trunk t = trunk(g, included, window, training || mask.count() >= 2);
        Head h = head(g, t, mask, "");
        List<Modality> names = new ArrayList<>();
        for (int i : included) names.add(cfg.modalities().get(i));
        if (!training) {
            List<Value> outs = new ArrayList<>(List.of(h.prediction(), h.w()));
            if (h.u() != null) outs.addAll(List.of(h.u(), h.v()));
            Graph graph = g.build(outs.toArray(new Value[0]));
            return new Built(graph, window, names, h.prediction(), h.u(), h.v(), h.w(), null, Map.of());
        }
        Shape vol = Shape.ncdhw(1, cfg.classes(), window, window, window);
        Value target = g.input("target", vol);
        Map<String, Value> terms = new LinkedHashMap<>();
        Value loss = segLoss(g, h.prediction(), target);
        terms.put("seg", loss);
        Value experts = null;
        for (int i = 0; i < t.experts().length; i++) {
            if (t.included()[i] == corrupted) continue; // a corrupted input's expert is not taught to read it
            Value l = segLoss(g, t.experts()[i], target);
            experts = experts == null ? l : g.add(experts, l);
        }
        terms.put("experts", experts);
        Value expertTerm = experts;
        float[] agreeing = h.present().clone();
        for (int i = 0; i < agreeing.length; i++) if (t.included()[i] == corrupted) agreeing[i] = 0f;
        if (h.scores() != null && Consistency.count(agreeing) >= 2) {
            Value mec = Consistency.loss(g, h.scores().s(), agreeing, "mec");
            Value rec = Consistency.loss(g, h.scores().sr(), agreeing, "rec");
            terms.put("mec", mec);
            terms.put("rec", rec);
            Value consistency = null;
            if (!cfg.has(Ablation.NO_MEC)) consistency = mec;
            if (!cfg.has(Ablation.NO_REC)) {
                Value r = g.scale(rec, cfg.lambdaRec());
                consistency = consistency == null ? r : g.add(consistency, r);
            }
            if (consistency != null) expertTerm = g.add(expertTerm, g.scale(consistency, cfg.eta()));
        }
        loss = g.add(loss, g.scale(expertTerm, cfg.alpha()));
        if (cfg.regionSupervised()) {
            Value wt = g.input("wt", Shape.ncdhw(1, 1, window, window, window));
            Value bce = g.binaryCrossEntropy(h.region(), wt);
            terms.put("region", bce);
            loss = g.add(loss, g.scale(bce, cfg.gamma()));
        }
        // a batch is a sum of per-sample passes (each with its own mask), so each pass carries 1/batch of the loss
        loss = g.scale(loss, 1f / cfg.batch());
        List<Value> outs = new ArrayList<>(terms.values());
        outs.add(h.prediction());
        outs.add(h.w()); // readable after a step (the trainer's gate diagnostics, tests)
        if (h.u() != null) outs.addAll(List.of(h.u(), h.v()));
        Graph graph = g.buildTraining(loss, outs.toArray(new Value[0]));
        return new Built(graph, window, names, h.prediction(), h.u(), h.v(), h.w(), loss, terms);
    }

    private Value segLoss(GraphBuilder g, Value p, Value target) {
        return g.add(g.weightedCrossEntropy(p, target, cfg.ceWeightFloor()), g.softDice(p, target, cfg.diceSmooth()));
    }

    private List<Built> buildMulti(List<ModalityMask> masks, int window) {
        GraphBuilder g = new GraphBuilder();
        int[] included = allIndices(cfg.modalities().size());
        Trunk t = trunk(g, included, window, true);
        List<Head> heads = new ArrayList<>();
        List<Value> outs = new ArrayList<>();
        for (int i = 0; i < masks.size(); i++) {
            Head h = head(g, t, masks.get(i), "#" + i);
            heads.add(h);
            outs.add(h.prediction());
            outs.add(h.w());
            if (h.u() != null) {
                outs.add(h.u());
                outs.add(h.v());
            }
        }
        Graph graph = g.build(outs.toArray(new Value[0]));
        List<Built> built = new ArrayList<>();
        for (Head h : heads) {
            built.add(new Built(graph, window, cfg.modalities(), h.prediction(), h.u(), h.v(), h.w(), null, Map.of()));
        }
        return built;
    }
}
