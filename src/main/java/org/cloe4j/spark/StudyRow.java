package org.cloe4j.spark;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One row of the cohort table: a study's outcome. {@code status} is {@code ok} or {@code failed}; volumes are in
 * millilitres (null for a failed study or a non-BraTS label scheme); {@code reliability} maps {@code u_<seq>},
 * {@code v_<seq>}, {@code w_<seq>} to values (null where undefined: a sequence the study lacks, or u/v with one
 * sequence); {@code flags} are ';'-separated; {@code seconds} is the wall time of the study on its executor.
 */
public record StudyRow(
        @JsonProperty("study_id") String studyId,
        @JsonProperty("status") String status,
        @JsonProperty("sequences") String sequences,
        @JsonProperty("wt_ml") Double wtMl,
        @JsonProperty("tc_ml") Double tcMl,
        @JsonProperty("et_ml") Double etMl,
        @JsonProperty("reliability") LinkedHashMap<String, Double> reliability,
        @JsonProperty("flags") String flags,
        @JsonProperty("seconds") double seconds,
        @JsonProperty("error") String error) implements Serializable {

    public static final String OK = "ok";
    public static final String FAILED = "failed";

    public boolean ok() {
        return OK.equals(status);
    }

    static StudyRow failed(String id, String sequences, double seconds, String error) {
        return new StudyRow(id, FAILED, sequences, null, null, null, new LinkedHashMap<>(), "", seconds, error);
    }

    /** The table's column names for a model of these sequences. */
    static List<String> columns(List<String> modelSequences) {
        List<String> c = new ArrayList<>(List.of("study_id", "status", "sequences", "wt_ml", "tc_ml", "et_ml"));
        for (String m : modelSequences) {
            c.add("u_" + m);
            c.add("v_" + m);
            c.add("w_" + m);
        }
        c.addAll(List.of("flags", "seconds", "error"));
        return c;
    }

    /** The row's values in {@link #columns} order (Strings, Doubles or null). */
    List<Object> values(List<String> modelSequences) {
        List<Object> v = new ArrayList<>(List.of(studyId, status, nz(sequences)));
        v.add(wtMl);
        v.add(tcMl);
        v.add(etMl);
        for (String m : modelSequences) {
            v.add(reliability.get("u_" + m));
            v.add(reliability.get("v_" + m));
            v.add(reliability.get("w_" + m));
        }
        v.add(nz(flags));
        v.add(seconds);
        v.add(error);
        return v;
    }

    /** The row as a CSV line (RFC 4180 quoting where a cell needs it; nulls empty). */
    String csv(List<String> modelSequences) {
        StringBuilder sb = new StringBuilder();
        for (Object o : values(modelSequences)) {
            if (!sb.isEmpty()) sb.append(',');
            sb.append(cell(o));
        }
        return sb.toString();
    }

    static String cell(Object o) {
        if (o == null) return "";
        String s = o instanceof Double d ? String.format(Locale.ROOT, "%.6g", d) : o.toString();
        if (s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0) {
            return '"' + s.replace("\"", "\"\"") + '"';
        }
        return s;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
