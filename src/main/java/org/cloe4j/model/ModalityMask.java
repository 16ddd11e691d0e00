package org.cloe4j.model;

import org.cloe4j.data.Modality;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * A non-empty subset of a model's modalities, as a bit set over their channel order: the one form a modality set has
 * from the command line to the graph (sequence names become {@link Modality} values once, where they are read). For the BraTS
 * modalities the 15 subsets are listed in the order of the papers' tables.
 */
public record ModalityMask(List<Modality> modalities, int bits) {
    private static final List<List<Modality>> BRATS_TABLE_ORDER = List.of(
            List.of(Modality.T2), List.of(Modality.T1CE), List.of(Modality.T1), List.of(Modality.FLAIR),
            List.of(Modality.T1CE, Modality.T2), List.of(Modality.T1CE, Modality.T1), List.of(Modality.FLAIR, Modality.T1),
            List.of(Modality.T1, Modality.T2), List.of(Modality.FLAIR, Modality.T2), List.of(Modality.FLAIR, Modality.T1CE),
            List.of(Modality.FLAIR, Modality.T1CE, Modality.T1), List.of(Modality.FLAIR, Modality.T1, Modality.T2),
            List.of(Modality.FLAIR, Modality.T1CE, Modality.T2), List.of(Modality.T1CE, Modality.T1, Modality.T2),
            List.of(Modality.FLAIR, Modality.T1CE, Modality.T1, Modality.T2));

    public ModalityMask {
        modalities = List.copyOf(modalities);
        if (bits <= 0 || bits >= 1 << modalities.size()) {
            throw new IllegalArgumentException("a modality mask must select at least one of " + modalities);
        }
    }

    /** The mask of the given modalities; throws naming one the model does not have. */
    public static ModalityMask of(List<Modality> all, Collection<Modality> present) {
        int bits = 0;
        for (Modality p : present) {
            int i = all.indexOf(p);
            if (i < 0) throw new IllegalArgumentException("unknown modality '" + p + "' (model has " + all + ")");
            bits |= 1 << i;
        }
        if (bits == 0) throw new IllegalArgumentException("no modality given (model has " + all + ")");
        return new ModalityMask(all, bits);
    }

    public static ModalityMask full(List<Modality> all) {
        return new ModalityMask(all, (1 << all.size()) - 1);
    }

    /** All 2^M − 1 masks: in the papers' table order for the BraTS modalities, else by size then channel order. */
    public static List<ModalityMask> all(List<Modality> modalities) {
        List<ModalityMask> out = new ArrayList<>();
        if (modalities.size() == 4 && modalities.containsAll(Modality.BRATS)) {
            for (List<Modality> row : BRATS_TABLE_ORDER) out.add(of(modalities, row));
            return out;
        }
        for (int b = 1; b < 1 << modalities.size(); b++) out.add(new ModalityMask(modalities, b));
        out.sort(Comparator.comparingInt(ModalityMask::count).thenComparingInt(ModalityMask::bits));
        return out;
    }

    public boolean has(int i) {
        return (bits >> i & 1) != 0;
    }

    public boolean has(Modality modality) {
        int i = modalities.indexOf(modality);
        return i >= 0 && has(i);
    }

    public int count() {
        return Integer.bitCount(bits);
    }

    /** Indices of the present modalities, in channel order. */
    public int[] present() {
        int[] p = new int[count()];
        int k = 0;
        for (int i = 0; i < modalities.size(); i++) if (has(i)) p[k++] = i;
        return p;
    }

    /** The present modalities, in channel order. */
    public List<Modality> presentModalities() {
        List<Modality> n = new ArrayList<>();
        for (int i : present()) n.add(modalities.get(i));
        return n;
    }

    /** The mask without {@code m} (throws when nothing would be left). */
    public ModalityMask without(Modality m) {
        int i = modalities.indexOf(m);
        return i < 0 ? this : new ModalityMask(modalities, bits & ~(1 << i));
    }

    /** e.g. "FLAIR+T1ce" (the papers' spelling for BraTS names). */
    public String label() {
        List<String> parts = new ArrayList<>();
        for (Modality m : presentModalities()) parts.add(m.displayName());
        return String.join("+", parts);
    }

    @Override
    public String toString() {
        return label();
    }
}
