package org.cloe4j.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.cloe4j.data.DataException;
import org.cloe4j.data.Modality;

/** Listing a cohort's studies for segment-cohort: BraTS folders with any subset of sequences, and manifests. */
class StudyListerTest {
    @TempDir Path tmp;

    @Test
    void bratsFolderListsEachStudyWithTheSequencesItHas() throws Exception {
        Path root = tmp.resolve("cohort");
        touch(root.resolve("A/A_flair.nii.gz"), root.resolve("A/A_t1.nii.gz"), root.resolve("A/A_t1ce.nii.gz"),
                root.resolve("A/A_seg.nii.gz"));
        touch(root.resolve("B/B_t2.nii"));
        touch(root.resolve("C/C_adc.nii.gz"));                 // no sequence of a BraTS model
        touch(root.resolve("notes/readme.txt"));               // not a study
        touch(root.resolve(".cloe4j-cache/x/x_flair.nii.gz")); // hidden: not a study
        List<Study> s = StudyLister.list(root, Modality.BRATS);
        assertEquals(List.of("A", "B", "C"), s.stream().map(Study::id).toList());
        // t1 must not be taken for t1ce (suffix match on the name without the ending)
        assertEquals(List.of("flair", "t1ce", "t1"), List.copyOf(s.get(0).sequences().keySet()));
        assertTrue(s.get(0).sequences().get("t1").file().endsWith("A_t1.nii.gz"));
        assertNull(s.get(0).problem());
        assertEquals(List.of("t2"), List.copyOf(s.get(1).sequences().keySet()));
        assertTrue(s.get(2).problem().contains("no sequence of the model"), s.get(2).problem());
    }

    @Test
    void manifestTakesAnySubsetRelativePathsAndQuotedCells() throws Exception {
        Path csv = tmp.resolve("m/cohort.csv");
        Files.createDirectories(csv.getParent());
        Files.writeString(csv, """
                study_id,flair,t1ce,t1,t2
                # a comment
                s1,img/s1_flair.nii.gz,,,img/s1_t2.nii.gz
                s2,"/data/with,comma/f.nii.gz",/abs/c.nii.gz,,
                bad id,x.nii.gz,,,
                s4,,,,

                """);
        List<Study> s = StudyLister.list(csv, Modality.BRATS);
        assertEquals(List.of("s1", "s2", "bad id", "s4"), s.stream().map(Study::id).toList());
        assertEquals(List.of("flair", "t2"), List.copyOf(s.get(0).sequences().keySet()));
        assertEquals(tmp.resolve("m/img/s1_flair.nii.gz").toString(), s.get(0).sequences().get("flair").file());
        assertEquals("/data/with,comma/f.nii.gz", s.get(1).sequences().get("flair").file());
        assertTrue(s.get(2).problem().contains("cannot name an output folder"), s.get(2).problem());
        assertTrue(s.get(3).problem().contains("names no sequence"), s.get(3).problem());
    }

    @Test
    void badManifestsAreRejectedWithTheReason() throws Exception {
        Path csv = tmp.resolve("bad.csv");
        Files.writeString(csv, "id,flair\ns1,a.nii.gz\n");
        assertTrue(assertThrows(DataException.class, () -> StudyLister.list(csv, Modality.BRATS)).getMessage().contains("study_id"));
        Files.writeString(csv, "study_id,flair\ns1,a.nii.gz\ns1,b.nii.gz\n");
        assertTrue(assertThrows(DataException.class, () -> StudyLister.list(csv, Modality.BRATS)).getMessage().contains("more than once"));
        Files.writeString(csv, "study_id,flair\ns1,\"a.nii.gz\n");
        assertTrue(assertThrows(DataException.class, () -> StudyLister.list(csv, Modality.BRATS)).getMessage().contains("unclosed quote"));
        Files.writeString(csv, "study_id,flair\ns1,a.nii.gz,b.nii.gz\n");
        assertTrue(assertThrows(DataException.class, () -> StudyLister.list(csv, Modality.BRATS)).getMessage().contains("cells"));
        assertThrows(DataException.class, () -> StudyLister.list(tmp.resolve("nothing-here"), Modality.BRATS));
    }

    @Test
    void csvCellsAreQuotedWhereNeeded() {
        assertEquals("plain", StudyRow.cell("plain"));
        assertEquals("\"a,b\"", StudyRow.cell("a,b"));
        assertEquals("\"say \"\"hi\"\"\"", StudyRow.cell("say \"hi\""));
        assertEquals("", StudyRow.cell(null));
        assertEquals("1.50000", StudyRow.cell(1.5));
    }

    private static void touch(Path... files) throws Exception {
        for (Path f : files) {
            Files.createDirectories(f.getParent());
            Files.write(f, new byte[] {1});
        }
    }
}
