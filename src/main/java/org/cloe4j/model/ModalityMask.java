package org.cloe4j.model;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * A non-empty subset of a model's modalities, as a bit set over their channel order. For the BraTS modalities the
 * 15 subsets are listed in the order of the papers' tables.
 */
public record ModalityMask(List<String> modalities, int bits) {
    private static final List<List<String>> BRATS_TABLE_ORDER = List.of(
            List.of("t2"), List.of("t1ce"), List.of("t1"), List.of("flair"),
            List.of("t1ce", "t2"), List.of("t1ce", "t1"), List.of("flair", "t1"), List.of("t1", "t2"),
            List.of("flair", "t2"), List.of("flair", "t1ce"), List.of("flair", "t1ce", "t1"),
            List.of("flair", "t1", "t2"), List.of("flair", "t1ce", "t2"), List.of("t1ce", "t1", "t2"),
            List.of("flair", "t1ce", "t1", "t2"));

    public ModalityMask {
        modalities = List.copyOf(modalities);
        if (bits <= 0 || bits >= 1 << modalities.size()) {
            throw new IllegalArgumentException("a modality mask must select at least one of " + modalities);
        }
    }

    /** The mask of the named modalities; throws naming an unknown one. */
    public static ModalityMask of(List<String> all, Collection<String> present) {
        int bits = 0;
        for (String p : present) {
            int i = all.indexOf(p);
            if (i < 0) throw new IllegalArgumentException("unknown modality '" + p + "' (model has " + all + ")");
            bits |= 1 << i;
        }
        if (bits == 0) throw new IllegalArgumentException("no modality given (model has " + all + ")");
        return new ModalityMask(all, bits);
    }

    public static ModalityMask full(List<String> all) {
        return new ModalityMask(all, (1 << all.size()) - 1);
    }

    /** All 2^M − 1 masks: in the papers' table order for the BraTS modalities, else by size then channel order. */
    public static List<ModalityMask> all(List<String> modalities) {
        List<ModalityMask> out = new ArrayList<>();
        if (modalities.size() == 4 && modalities.containsAll(CloeConfig.BRATS)) {
            for (List<String> row : BRATS_TABLE_ORDER) out.add(of(modalities, row));
            return out;
        }
        for (int b = 1; b < 1 << modalities.size(); b++) out.add(new ModalityMask(modalities, b));
        out.sort(Comparator.comparingInt(ModalityMask::count).thenComparingInt(ModalityMask::bits));
        return out;
    }

    public boolean has(int i) {
        return (bits >> i & 1) != 0;
    }

    public boolean has(String modality) {
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

    public List<String> presentNames() {
        List<String> n = new ArrayList<>();
        for (int i : present()) n.add(modalities.get(i));
        return n;
    }

    /** e.g. "FLAIR+T1ce" (the papers' spelling for BraTS names). */
    public String label() {
        List<String> parts = new ArrayList<>();
        for (String n : presentNames()) parts.add(display(n));
        return String.join("+", parts);
    }

    static String display(String modality) {
        return switch (modality) {
            case "flair" -> "FLAIR";
            case "t1ce" -> "T1ce";
            case "t1" -> "T1";
            case "t2" -> "T2";
            case "adc" -> "ADC";
            default -> modality;
        };
    }

    @Override
    public String toString() {
        return label();
    }
}
