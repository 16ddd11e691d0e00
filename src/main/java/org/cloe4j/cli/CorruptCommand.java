package org.cloe4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import org.cloe4j.data.CaseRecord;
import org.cloe4j.data.Cohort;
import org.cloe4j.data.Corruption;
import org.cloe4j.data.Modality;
import org.cloe4j.data.NiftiDatatype;
import org.cloe4j.data.NiftiReader;
import org.cloe4j.data.NiftiWriter;
import org.cloe4j.data.Split;
import org.cloe4j.data.Volume;

import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code cloe corrupt}: a copy of a cohort's cases with one sequence made unreliable, to test the reliability gate. */
@Command(name = "corrupt", mixinStandardHelpOptions = true,
        description = {"Writes a BraTS-layout copy of a cohort's cases (by default its test set) with one sequence",
            "corrupted: noise, ghosting (motion ghosts), bias (a strong bias field) or wrong-sequence (another",
            "sequence of the case under this one's name), at --strength; the other files are copied unchanged and",
            "split.json lists every written case as test."})
public final class CorruptCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--data", required = true, description = "cohort folder (BraTS layout)")
    Path data;

    @Option(names = "--out", required = true, description = "folder of the corrupted copy (created)")
    Path out;

    @Option(names = "--sequence", required = true, description = "the sequence to corrupt (flair, t1ce, t1, t2)")
    String sequence;

    @Option(names = "--kind", required = true, description = "noise, ghosting, bias or wrong-sequence")
    String kind;

    @Option(names = "--strength", defaultValue = "0.3",
            description = "noise σ / mean, ghost amplitude, or bias log-amplitude (default: ${DEFAULT-VALUE})")
    double strength;

    @Option(names = "--set", defaultValue = "test", description = "split set to copy: train, val, test, all (default: ${DEFAULT-VALUE})")
    String set;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        Corruption c = Corruption.parse(kind);
        Modality target = Modality.of(sequence);
        Cohort cohort = Cohort.open(data);
        if (!cohort.modalities().contains(target)) {
            throw new IllegalArgumentException("cohort " + data + " has no sequence " + sequence + " (it has " + cohort.modalities() + ")");
        }
        List<String> ids = CaseLoader.set(CaseLoader.split(cohort, null), set);
        int k = 0;
        for (CaseRecord r : cohort.cases(ids)) {
            Path dir = out.resolve(r.id());
            Files.createDirectories(dir);
            Map<Modality, Volume> vols = new LinkedHashMap<>();
            for (var e : r.images().entrySet()) vols.put(e.getKey(), NiftiReader.read(e.getValue().file()));
            for (var e : r.images().entrySet()) {
                Path to = dir.resolve(r.id() + "_" + e.getKey().name() + ".nii.gz");
                if (e.getKey().equals(target)) {
                    NiftiWriter.write(c.apply(vols, target, strength, seed * 1_000_003L + k), to, NiftiDatatype.FLOAT32);
                } else {
                    NiftiWriter.write(vols.get(e.getKey()), to, NiftiDatatype.FLOAT32);
                }
            }
            if (r.label() != null) {
                String ext = r.label().getFileName().toString().endsWith(".gz") ? ".nii.gz" : ".nii";
                Files.copy(r.label(), dir.resolve(r.id() + "_seg" + ext), StandardCopyOption.REPLACE_EXISTING);
            }
            k++;
        }
        new Split(List.of(), List.of(), ids).write(out.resolve("split.json"));
        String what = c == Corruption.WRONG_SEQUENCE ? "wrong sequence" : c.cliName() + " at strength " + strength;
        spec.commandLine().getOut().printf("wrote %d cases to %s with %s corrupted (%s)%n", ids.size(), out, sequence, what);
        return 0;
    }
}
