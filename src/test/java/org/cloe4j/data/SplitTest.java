package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SplitTest {

    @TempDir Path dir;

    private static final List<String> IDS = IntStream.rangeClosed(1, 369).mapToObj(i -> "BraTS20_Training_%03d".formatted(i)).toList();

    @Test
    void randomSplitHasTheRequestedSizesAndCoversEveryIdOnce() {
        Split s = Split.random(IDS, new double[] {219 / 369.0, 50 / 369.0, 100 / 369.0}, 7);
        assertEquals(219, s.train().size());
        assertEquals(50, s.val().size());
        assertEquals(100, s.test().size());
        assertEquals(new HashSet<>(IDS), new HashSet<>(s.all()));
        assertEquals(369, s.all().size());
    }

    @Test
    void sameSeedSameSplitWhateverTheInputOrder() {
        List<String> reversed = new ArrayList<>(IDS);
        java.util.Collections.reverse(reversed);
        double[] f = {0.6, 0.2, 0.2};
        assertEquals(Split.random(IDS, f, 3), Split.random(reversed, f, 3));
        assertNotEquals(Split.random(IDS, f, 3), Split.random(IDS, f, 4));
    }

    @Test
    void jsonAndTextRoundTrip() {
        Split s = Split.random(IDS.subList(0, 10), new double[] {0.5, 0.2, 0.3}, 1);
        s.write(dir.resolve("split.json"));
        s.write(dir.resolve("split.txt"));
        assertEquals(s, Split.read(dir.resolve("split.json")));
        assertEquals(s, Split.read(dir.resolve("split.txt")));
    }

    @Test
    void handWrittenTextIsRead() throws IOException {
        Path p = Files.writeString(dir.resolve("s.txt"), "# comment\ntrain a\ntrain b  # inline\n\nval c\ntest d\n");
        assertEquals(new Split(List.of("a", "b"), List.of("c"), List.of("d")), Split.read(p));
    }

    @Test
    void badSplitFilesNameTheFileAndTheProblem() throws IOException {
        Path twice = Files.writeString(dir.resolve("twice.json"), "{\"train\": [\"a\"], \"test\": [\"a\"]}");
        DataException e = assertThrows(DataException.class, () -> Split.read(twice));
        assertTrue(e.getMessage().contains("twice.json") && e.getMessage().contains("'a'"), e.getMessage());
        Path unknown = Files.writeString(dir.resolve("u.txt"), "train a\nholdout b\n");
        e = assertThrows(DataException.class, () -> Split.read(unknown));
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void fractionsMustSumToOne() {
        assertThrows(IllegalArgumentException.class, () -> Split.random(IDS, new double[] {0.5, 0.2, 0.2}, 1));
    }
}
