package org.cloe4j.infer;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import org.cloe4j.data.Modality;

/**
 * How much the experts agreed, per modality of the set that was segmented: {@code u} (global agreement), {@code v}
 * (agreement inside the region map) and {@code w} (the gate's fusion weight), means over the windows. {@code u} and
 * {@code v} are NaN when only one modality was given.
 */
public record Reliability(List<Modality> modalities, double[] u, double[] v, double[] w) {
    public Reliability {
        modalities = List.copyOf(modalities);
    }

    /**
     * Writes the report's reliability part into {@code root}: a {@code note} that explains u, v and w, and a
     * {@code modalities} array, one object per modality in this record's order (name, file, u, v — null when NaN — and
     * w). Returns the array, so a caller can add fields to each entry.
     */
    public ArrayNode writeTo(ObjectNode root, Map<Modality, String> files) {
        root.put("note", "u: mean cosine agreement of this sequence's expert with the others; v: the same inside the "
                + "learned tumour region; w: gate weight in the fusion. Low agreement is worth a second look. "
                + "u and v are null when only one sequence is given.");
        ArrayNode arr = root.putArray("modalities");
        for (int i = 0; i < modalities.size(); i++) {
            ObjectNode m = arr.addObject();
            Modality mod = modalities.get(i);
            m.put("name", mod.name());
            m.put("file", files.get(mod));
            if (Double.isNaN(u[i])) m.putNull("u"); else m.put("u", u[i]);
            if (Double.isNaN(v[i])) m.putNull("v"); else m.put("v", v[i]);
            m.put("w", w[i]);
        }
        return arr;
    }
}
