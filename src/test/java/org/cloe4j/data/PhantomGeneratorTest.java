package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.cloe4j.data.PhantomGenerator.Phantom;
import org.cloe4j.data.PhantomGenerator.Tissue;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The phantoms show what real scans show: enhancing tumour only on T1ce, oedema most on FLAIR and T2. Checked with
 * the simplest classifier there is (nearest class centroid on per-voxel intensities) and with contrast ratios.
 */
class PhantomGeneratorTest {

    private static final List<Phantom> CASES = new ArrayList<>();

    @BeforeAll
    static void generate() {
        PhantomGenerator g = new PhantomGenerator(64, 64, 48, 2024);
        for (int i = 0; i < 4; i++) CASES.add(g.generate(i));
    }

    @Test
    void signalEquationsGiveTheHandComputedValues() {
        // WM T1w: 0.7·(1 − e^(−500/800))·e^(−15/75) = 0.7 · 0.46474 · 0.81873 = 0.26635
        assertEquals(0.26635, PhantomGenerator.signal(Modality.T1, 0.7, 800, 75, 0), 1e-5);
        // CSF FLAIR with TI 2400, TR 9000: 1 − 2·0.548812 + 0.105399 = 0.007776, × e^(−120/2000) = 0.007323
        assertEquals(0.007323, PhantomGenerator.signal(Modality.FLAIR, 1.0, 4000, 2000, 0), 1e-5);
        // Gd 0.4 mM, r1 4 /mM/s: 1/T1' = 1/1350 ms + 0.0016 /ms -> T1' = 427.22 ms; signal with TR 500, TE 15
        double t1 = 1 / (1 / 1350.0 + 0.0016);
        assertEquals(427.22, t1, 0.01);
        double expected = 0.82 * (1 - Math.exp(-500 / t1)) * Math.exp(-15 / 100.0);
        assertEquals(expected, PhantomGenerator.signal(Modality.T1CE, 0.82, 1350, 100, 0.4), 1e-12);
        // T2w oedema: 0.88·(1 − e^(−4000/1500))·e^(−100/160) = 0.88 · 0.930517 · 0.535261 = 0.438301
        assertEquals(0.438301, PhantomGenerator.signal(Modality.T2, 0.88, 1500, 160, 0), 1e-5);
    }

    @Test
    void sameSeedSameCase() {
        Phantom again = new PhantomGenerator(64, 64, 48, 2024).generate(1);
        assertArrayEquals(CASES.get(1).images().get(Modality.T1CE).data(), again.images().get(Modality.T1CE).data());
        assertArrayEquals(CASES.get(1).segmentation().data(), again.segmentation().data());
    }

    @Test
    void casesDifferAndEachHasAllThreeTumourRegions() {
        for (Phantom p : CASES) {
            int[] count = new int[5];
            for (float v : p.segmentation().data()) {
                assertTrue(v == 0 || v == 1 || v == 2 || v == 4, "BraTS label " + v);
                count[(int) v]++;
            }
            assertTrue(count[2] > 200 && count[4] > 100, p.id() + ": ED " + count[2] + ", ET " + count[4]);
        }
        assertTrue(!java.util.Arrays.equals(CASES.get(0).segmentation().data(), CASES.get(1).segmentation().data()));
        long withNecrosis = CASES.stream().filter(p -> count(p, Tissue.NECROSIS) > 0).count();
        assertTrue(withNecrosis >= 2, "most tumours have a necrotic core: " + withNecrosis + " of 4");
    }

    private static int count(Phantom p, Tissue t) {
        int n = 0;
        for (byte b : p.tissues()) if (b == t.ordinal()) n++;
        return n;
    }

    @Test
    void imagesAreSkullStrippedInt16WithThe995thPercentileNear1000() {
        for (Phantom p : CASES) {
            for (Volume v : p.images().values()) {
                for (int i = 0; i < v.data().length; i++) {
                    float x = v.data()[i];
                    assertEquals(Math.rint(x), x, "integer valued");
                    assertTrue(x >= 0 && x <= Short.MAX_VALUE);
                    if (p.tissues()[i] == 0) assertEquals(0f, x, "background is exactly 0");
                }
            }
        }
    }

    /** Nearest-centroid classification of brain voxels into tissues, using the given sequences; ET Dice. */
    private static double enhancingDice(Phantom p, List<Modality> features) {
        int n = p.tissues().length, k = Tissue.values().length, f = features.size();
        float[][] x = new float[f][];
        for (int j = 0; j < f; j++) x[j] = p.images().get(features.get(j)).data();
        // per-sequence scale: mean brain intensity, so features are comparable
        double[] scale = new double[f];
        double[][] centroid = new double[k][f];
        int[] size = new int[k];
        int brain = 0;
        for (int i = 0; i < n; i++) {
            if (p.tissues()[i] == 0) continue;
            brain++;
            size[p.tissues()[i]]++;
            for (int j = 0; j < f; j++) {
                scale[j] += x[j][i];
                centroid[p.tissues()[i]][j] += x[j][i];
            }
        }
        for (int j = 0; j < f; j++) scale[j] /= brain;
        for (int t = 1; t < k; t++) for (int j = 0; j < f; j++) centroid[t][j] /= Math.max(1, size[t]) * scale[j];
        int tp = 0, predicted = 0, actual = 0;
        for (int i = 0; i < n; i++) {
            if (p.tissues()[i] == 0) continue;
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int t = 1; t < k; t++) {
                if (size[t] == 0) continue;
                double d = 0;
                for (int j = 0; j < f; j++) d += Math.pow(x[j][i] / scale[j] - centroid[t][j], 2);
                if (d < bestD) { bestD = d; best = t; }
            }
            boolean pred = best == Tissue.ENHANCING.ordinal(), truth = p.tissues()[i] == Tissue.ENHANCING.ordinal();
            if (pred) predicted++;
            if (truth) actual++;
            if (pred && truth) tp++;
        }
        return 2.0 * tp / (predicted + actual);
    }

    @Test
    void enhancingTumourIsSeparableWithT1ceAndNotWithout() {
        for (Phantom p : CASES) {
            double with = enhancingDice(p, Modality.BRATS);
            double without = enhancingDice(p, List.of(Modality.FLAIR, Modality.T1, Modality.T2));
            // nearest tissue centroid (true labels): with T1ce ET is separable; without it ET and oedema share their
            // contrast, so ET is at best a noisy guess
            assertTrue(with > 0.85, p.id() + ": ET Dice with T1ce " + with);
            assertTrue(without < 0.4, p.id() + ": ET Dice without T1ce " + without);
        }
    }

    /** |mean(oedema) − mean(normal grey and white matter)| / mean(normal). */
    private static double oedemaContrast(Phantom p, Modality m) {
        float[] x = p.images().get(m).data();
        double ed = 0, normal = 0;
        int ne = 0, nn = 0;
        for (int i = 0; i < x.length; i++) {
            int t = p.tissues()[i];
            if (t == Tissue.OEDEMA.ordinal()) { ed += x[i]; ne++; }
            if (t == Tissue.GREY_MATTER.ordinal() || t == Tissue.WHITE_MATTER.ordinal()) { normal += x[i]; nn++; }
        }
        return Math.abs(ed / ne - normal / nn) / (normal / nn);
    }

    @Test
    void oedemaStandsOutMostOnFlairAndT2() {
        for (Phantom p : CASES) {
            double flair = oedemaContrast(p, Modality.FLAIR), t2 = oedemaContrast(p, Modality.T2);
            double t1 = oedemaContrast(p, Modality.T1), t1ce = oedemaContrast(p, Modality.T1CE);
            String all = p.id() + ": FLAIR " + flair + ", T2 " + t2 + ", T1 " + t1 + ", T1ce " + t1ce;
            assertTrue(Math.min(flair, t2) > 0.4, all);
            // observed with this seed: FLAIR 0.62..0.99, T2 0.76..1.16, T1 and T1ce at most 0.23
            assertTrue(Math.max(t1, t1ce) < 0.5 * Math.min(flair, t2), all);
        }
    }

    @Test
    void csfIsDarkOnFlairAndBrightOnT2() {
        Phantom p = CASES.getFirst();
        double[] flair = meanByTissue(p, Modality.FLAIR), t2 = meanByTissue(p, Modality.T2);
        assertTrue(flair[Tissue.CSF.ordinal()] < 0.2 * flair[Tissue.WHITE_MATTER.ordinal()], "CSF nulled on FLAIR");
        assertTrue(t2[Tissue.CSF.ordinal()] > 2 * t2[Tissue.WHITE_MATTER.ordinal()], "CSF bright on T2");
        double[] t1 = meanByTissue(p, Modality.T1);
        assertTrue(t1[Tissue.WHITE_MATTER.ordinal()] > t1[Tissue.GREY_MATTER.ordinal()], "WM brighter than GM on T1");
    }

    private static double[] meanByTissue(Phantom p, Modality m) {
        double[] sum = new double[Tissue.values().length];
        int[] n = new int[sum.length];
        float[] x = p.images().get(m).data();
        for (int i = 0; i < x.length; i++) {
            sum[p.tissues()[i]] += x[i];
            n[p.tissues()[i]]++;
        }
        for (int t = 0; t < sum.length; t++) sum[t] /= Math.max(1, n[t]);
        return sum;
    }

    @Test
    void writtenCohortOpensAsBratsWithInt16ImagesUint8LabelsAndASplit(@TempDir Path dir) {
        Cohort c = new PhantomGenerator(32, 32, 24, 5).writeCohort(dir, 3, false);
        assertEquals(3, c.size());
        CaseRecord r = c.get("Phantom_002");
        NiftiHeader h = NiftiReader.readHeader(r.images().get(Modality.FLAIR).file());
        assertEquals(NiftiDatatype.INT16.code(), h.datatype());
        assertEquals(1, h.qformCode());
        assertEquals(1, h.sformCode());
        assertArrayEquals(new double[] {1, 1, 1}, h.spacing(), 0);
        assertArrayEquals(new double[] {1, 0, 0, -15.5, 0, 1, 0, -15.5, 0, 0, 1, -11.5}, h.affine(), 1e-6);
        assertEquals(NiftiDatatype.UINT8.code(), NiftiReader.readHeader(r.label()).datatype());
        Split s = Split.read(dir.resolve("split.json"));
        s.requireIn(c);
        assertEquals(3, s.all().size());
        assertTrue(Files.isRegularFile(r.images().get(Modality.T1CE).file()));
    }

    @Test
    void colin27AnatomyGivesAllThreeTissues() {
        assumeTrue(Files.isRegularFile(ExternalTools.COLIN27), ExternalTools.COLIN27 + " not found" + ExternalTools.SETUP_HINT);
        Phantom p = new PhantomGenerator(48, 56, 48, 3).withAnatomy(ExternalTools.COLIN27).generate(0);
        int brain = 0;
        for (byte b : p.tissues()) if (b != 0) brain++;
        for (Tissue t : List.of(Tissue.CSF, Tissue.GREY_MATTER, Tissue.WHITE_MATTER)) {
            assertTrue(count(p, t) > 0.08 * brain, t + ": " + count(p, t) + " of " + brain);
        }
        assertTrue(count(p, Tissue.ENHANCING) > 0);
        assertTrue(brain > 0.3 * p.tissues().length && brain < 0.8 * p.tissues().length, "brain fills the grid: " + brain);
    }

    /** |mean(ET) − mean(oedema)| / mean(oedema) on {@code m}. */
    private static double enhancingVsOedema(Phantom p, Modality m) {
        float[] x = p.images().get(m).data();
        double et = 0, ed = 0;
        int ne = 0, nd = 0;
        for (int i = 0; i < x.length; i++) {
            if (p.tissues()[i] == Tissue.ENHANCING.ordinal()) { et += x[i]; ne++; }
            if (p.tissues()[i] == Tissue.OEDEMA.ordinal()) { ed += x[i]; nd++; }
        }
        return Math.abs(et / ne - ed / nd) / (ed / nd);
    }

    @Test
    void enhancingTumourBlendsIntoOedemaOffT1ceAndStandsOutOnIt() {
        for (Phantom p : CASES) {
            // real scans: enhancement is a T1ce finding; on T2 and FLAIR the enhancing rim looks like the oedema
            // (bias fields move the two means apart by a few % where they sit in different places)
            for (Modality m : List.of(Modality.T2, Modality.FLAIR, Modality.T1)) {
                assertTrue(enhancingVsOedema(p, m) < 0.1, p.id() + " " + m + ": " + enhancingVsOedema(p, m));
            }
            assertTrue(enhancingVsOedema(p, Modality.T1CE) > 0.5, p.id() + " T1ce: " + enhancingVsOedema(p, Modality.T1CE));
        }
    }

    @Test
    void siteStylesSetTheVoxelSizeAndKeepTheBrainAtItsRealSize() {
        Path colin = Path.of("/usr/share/mricron/templates/ch2bet.nii.gz");
        assumeTrue(Files.isRegularFile(colin), "Colin27 (mricron-data) not installed");
        // a 200 × 240 × 200 mm field of view at 2 mm: larger than the brain, which keeps its size in mm
        PhantomGenerator g = new PhantomGenerator(100, 120, 100, 5).withStyle(PhantomGenerator.Style.named("site-a")).withAnatomy(colin);
        Phantom p = g.generate(0);
        assertArrayEquals(new double[] {2, 2, 2}, p.segmentation().header().spacing(), 0);
        AnatomyTissues.Source src = AnatomyTissues.analyse(NiftiReader.read(colin));
        int[] lo = {Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE}, hi = {-1, -1, -1};
        for (int i = 0; i < p.tissues().length; i++) {
            if (p.tissues()[i] == 0) continue;
            int[] at = {i % 100, (i / 100) % 120, i / 12000};
            for (int a = 0; a < 3; a++) {
                lo[a] = Math.min(lo[a], at[a]);
                hi[a] = Math.max(hi[a], at[a]);
            }
        }
        for (int a = 0; a < 3; a++) {
            double mm = (src.hi()[a] - src.lo()[a] + 1) * src.spacing()[a], got = (hi[a] - lo[a] + 1) * 2.0;
            // per-case head size ±6 %, nearest-neighbour sampling ±2 voxels
            assertEquals(mm, got, 0.06 * mm + 4, "axis " + a + ": brain " + got + " mm, Colin27 " + mm + " mm");
            assertTrue(lo[a] > 0 && hi[a] < new int[] {100, 120, 100}[a] - 1, "the brain does not touch the border");
        }
    }
}
