package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CaseCacheTest {

    @TempDir Path dir;

    private CaseRecord smallCohortCase() {
        new PhantomGenerator(24, 24, 20, 11).writeCohort(dir.resolve("cohort"), 1, false);
        return Cohort.open(dir.resolve("cohort")).cases().getFirst();
    }

    @Test
    void secondReadComesFromTheCacheAndEqualsTheFreshPreparation() throws IOException {
        CaseRecord c = smallCohortCase();
        Preprocessor pre = new Preprocessor(16, 1e-3);
        CaseCache cache = new CaseCache(dir.resolve("cache"), pre);
        assertFalse(cache.isFresh(c));
        PreparedCase first = cache.get(c);
        assertTrue(cache.isFresh(c));
        assertTrue(Files.isRegularFile(dir.resolve("cache").resolve(c.id() + ".f32")));
        assertEquals(4L * first.image().length, Files.size(dir.resolve("cache").resolve(c.id() + ".f32")));
        PreparedCase cached = cache.get(c);
        assertArrayEquals(first.image(), cached.image());
        assertArrayEquals(first.labels(), cached.labels());
        assertArrayEquals(first.available(), cached.available());
        assertEquals(first.crop(), cached.crop());
        assertEquals(first.modalities(), cached.modalities());
        assertArrayEquals(first.geometry().affine(), cached.geometry().affine(), 0);
        assertArrayEquals(first.geometry().dim(), cached.geometry().dim());
    }

    @Test
    void aChangedSourceFileOrOtherSettingsInvalidateTheEntry() throws IOException {
        CaseRecord c = smallCohortCase();
        CaseCache cache = new CaseCache(dir.resolve("cache"), new Preprocessor(16, 1e-3));
        cache.get(c);
        assertTrue(cache.isFresh(c));
        Path t2 = c.images().get(Modality.T2).file();
        Files.setLastModifiedTime(t2, FileTime.fromMillis(Files.getLastModifiedTime(t2).toMillis() + 5000));
        assertFalse(cache.isFresh(c), "source modified");
        cache.get(c);
        assertTrue(cache.isFresh(c), "rebuilt");
        assertFalse(new CaseCache(dir.resolve("cache"), new Preprocessor(8, 1e-3)).isFresh(c), "other crop size");
        assertFalse(new CaseCache(dir.resolve("cache"), new Preprocessor(16, 1e-3, Preprocessor.Normalisation.MEDIAN))
                .isFresh(c), "other normalisation");
    }

    @Test
    void anEntryWrittenBeforeTheNormalisationWasRecordedIsAZScoredOne() throws IOException {
        CaseRecord c = smallCohortCase();
        CaseCache cache = new CaseCache(dir.resolve("cache"), new Preprocessor(16, 1e-3));
        cache.get(c);
        Path side = dir.resolve("cache").resolve(c.id() + ".json");
        String json = Files.readString(side);
        assertTrue(json.contains("\"normalisation\" : \"zscore\""), json);
        Files.writeString(side, json.replace("\"normalisation\" : \"zscore\",", ""));
        assertFalse(Files.readString(side).contains("normalisation"));
        assertTrue(cache.isFresh(c), "an old z-scored entry stays valid");
        assertFalse(new CaseCache(dir.resolve("cache"), new Preprocessor(16, 1e-3, Preprocessor.Normalisation.MEDIAN))
                .isFresh(c), "but not for the median normalisation");
    }

    @Test
    void aMissingDataFileMeansNotFresh() throws IOException {
        CaseRecord c = smallCohortCase();
        CaseCache cache = new CaseCache(dir.resolve("cache"), new Preprocessor(16, 1e-3));
        cache.get(c);
        Files.delete(dir.resolve("cache").resolve(c.id() + ".f32"));
        assertFalse(cache.isFresh(c));
    }
}
