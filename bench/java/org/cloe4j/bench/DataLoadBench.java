package org.cloe4j.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.cloe4j.data.CaseCache;
import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A BraTS-sized case (four 240 × 240 × 155 int16 .nii.gz and a uint8 seg, generated in setup) to normalised tensors:
 * from the NIfTI files (decode gzip, stack, crop, z-score; goal ≤ 1.5 s) and from the preprocessed cache (goal ≤ 50 ms).
 *
 * <pre>
 * source scripts/java-home && ./mvnw -q -ntp test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) org.openjdk.jmh.Main DataLoadBench -wi 1 -i 3 -f 1
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx4g"})
public class DataLoadBench {

    private Path dir;
    private CaseRecord bratsCase;
    private Preprocessor preprocessor;
    private CaseCache cache;

    @Setup(Level.Trial)
    public void writeCase() throws IOException {
        dir = Files.createTempDirectory("cloe4j-bench");
        Cohort cohort = new PhantomGenerator(240, 240, 155, 42).writeCohort(dir.resolve("cohort"), 1, false);
        bratsCase = cohort.cases().getFirst();
        preprocessor = new Preprocessor();
        cache = new CaseCache(dir.resolve("cache"), preprocessor);
        cache.get(bratsCase); // fills the cache
    }

    @TearDown(Level.Trial)
    public void deleteCase() throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    /** Four .nii.gz sequences and the seg to a PreparedCase: gzip, stack, crop, z-score, labels. */
    @Benchmark
    public PreparedCase preprocessFromNifti() {
        return preprocessor.prepare(bratsCase);
    }

    /** The same PreparedCase from the memory-mapped cache. */
    @Benchmark
    public PreparedCase loadFromCache() {
        return cache.get(bratsCase);
    }

    /** One int16 .nii.gz sequence to floats: gzip decoding and conversion alone. */
    @Benchmark
    public float[] readOneSequence() {
        return NiftiReader.read(bratsCase.images().get(Modality.FLAIR).file()).data();
    }
}
