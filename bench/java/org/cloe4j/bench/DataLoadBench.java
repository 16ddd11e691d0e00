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
import org.cloe4j.data.NiftiDatatype;
import org.cloe4j.data.NiftiHeader;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.NiftiWriter;
import org.cloe4j.data.PhantomGenerator;
import org.cloe4j.data.PreparedCase;
import org.cloe4j.data.Preprocessor;
import org.cloe4j.data.Volume;
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
 * As in real BraTS scans the brain does not fill the field of view: a 150 × 180 × 140 phantom is centred in the
 * 240 × 240 × 155 volume, so the brain crop is about 129 × 155 × 128 voxels per channel (real BraTS crops are about
 * 140 × 170 × 140).
 *
 * <pre>
 * source scripts/java-home && ./mvnw -q -ntp test-compile dependency:build-classpath -Dmdep.outputFile=target/cp.txt
 * java -cp target/test-classes:target/classes:$(cat target/cp.txt) org.openjdk.jmh.Main DataLoadBench -wi 1 -i 3 -f 1
 * </pre>
 * (add {@code -Djmh.ignoreLock=true} when another JMH run holds /tmp/jmh.lock; add
 * {@code -jvmArgsAppend "-XX:-AlwaysPreTouch"} to see the cost of a cold heap.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
// A fixed, pre-touched heap, as in a long-running training process whose heap pages are already mapped: otherwise each
// fresh 40 MB array page-faults its memory in, which on this (sandboxed, shared) machine costs several times the copy.
@Fork(value = 1, jvmArgsAppend = {"-Xms4g", "-Xmx4g", "-XX:+AlwaysPreTouch"})
public class DataLoadBench {

    private Path dir;
    private CaseRecord bratsCase;
    private Preprocessor preprocessor;
    private CaseCache cache;

    @Setup(Level.Trial)
    public void writeCase() throws IOException {
        dir = Files.createTempDirectory("cloe4j-bench");
        writeBratsSizedCase(dir.resolve("cohort"));
        bratsCase = Cohort.brats(dir.resolve("cohort")).cases().getFirst();
        preprocessor = new Preprocessor();
        cache = new CaseCache(dir.resolve("cache"), preprocessor);
        cache.get(bratsCase); // fills the cache
    }

    private static final int[] FOV = {240, 240, 155}, BRAIN = {150, 180, 140};

    /** A phantom brain centred in a BraTS field of view, written in the BraTS layout. */
    static void writeBratsSizedCase(Path cohort) {
        PhantomGenerator.Phantom p = new PhantomGenerator(BRAIN[0], BRAIN[1], BRAIN[2], 42).generate(0);
        NiftiHeader header = NiftiHeader.of(FOV[0], FOV[1], FOV[2], new double[] {1, 1, 1},
                new double[] {-(FOV[0] - 1) / 2.0, -(FOV[1] - 1) / 2.0, -(FOV[2] - 1) / 2.0});
        String id = "BraTS_Bench_001";
        Path caseDir = cohort.resolve(id);
        for (var e : p.images().entrySet()) {
            NiftiWriter.write(new Volume(header, centred(e.getValue().data()), null),
                    caseDir.resolve(id + "_" + e.getKey().name() + ".nii.gz"), NiftiDatatype.INT16);
        }
        NiftiWriter.write(new Volume(header, centred(p.segmentation().data()), null), caseDir.resolve(id + "_seg.nii.gz"),
                NiftiDatatype.UINT8);
    }

    private static float[] centred(float[] brain) {
        float[] out = new float[FOV[0] * FOV[1] * FOV[2]];
        int ox = (FOV[0] - BRAIN[0]) / 2, oy = (FOV[1] - BRAIN[1]) / 2, oz = (FOV[2] - BRAIN[2]) / 2;
        for (int z = 0; z < BRAIN[2]; z++) {
            for (int y = 0; y < BRAIN[1]; y++) {
                System.arraycopy(brain, (z * BRAIN[1] + y) * BRAIN[0], out, ((z + oz) * FOV[1] + y + oy) * FOV[0] + ox, BRAIN[0]);
            }
        }
        return out;
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
