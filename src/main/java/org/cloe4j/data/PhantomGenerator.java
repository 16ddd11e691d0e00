package org.cloe4j.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Synthetic brain-tumour MRI cases: a brain with CSF, grey and white matter (procedural, or derived from a real
 * skull-stripped T1 such as Colin27), one or two tumours with the three BraTS sub-regions (oedema spreading around,
 * an enhancing rim, a necrotic core), and the four sequences simulated from tissue parameters (PD, T1, T2):
 * <ul>
 * <li>spin echo {@code S = PD·(1 − e^(−TR/T1))·e^(−TE/T2)}: T1w with TR 500, TE 15 ms; T2w with TR 4000, TE 100 ms;
 * <li>FLAIR {@code S = PD·|1 − 2e^(−TI/T1) + e^(−TR/T1)|·e^(−TE/T2)} with TR 9000, TI 2400, TE 120 ms (CSF nulled);
 * <li>T1ce: T1w where enhancing tumour has {@code 1/T1' = 1/T1 + r1·[Gd]}, r1 = 4 /mM/s, [Gd] ~ U(0.3, 0.5) mM.
 * </ul>
 * Enhancing tumour has the case's oedema parameters (±1 %) apart from gadolinium, so it stands out only on T1ce and on
 * T2, FLAIR and T1 blends into the oedema around it, as enhancement does in real scans;
 * oedema has long T1 and T2, so it is brightest on FLAIR and T2. Each case varies tissue parameters (±7 %), tumour
 * count, size, place and shape; images get a smooth multiplicative bias field and Rician noise, background exactly 0
 * (skull-stripped), and are stored as int16 (99.5th percentile of the brain ≈ 1000) with 1 mm spacing. A {@link Style}
 * other than the demo's sets other voxel sizes, noise, bias, protocol timings and tumour shapes. The same seed gives
 * the same cohort.
 */
public final class PhantomGenerator {

    /** Tissue classes of a phantom, in the order of {@link Phantom#tissues()} codes. */
    public enum Tissue { BACKGROUND, CSF, GREY_MATTER, WHITE_MATTER, OEDEMA, ENHANCING, NECROSIS }

    /**
     * One synthetic case.
     *
     * @param id           case id
     * @param images       the four sequences, BraTS channel order, int16-valued floats
     * @param segmentation BraTS labels 0/1/2/4
     * @param tissues      {@link Tissue} ordinal per voxel (the ground truth the sequences were simulated from)
     */
    public record Phantom(String id, Map<Modality, Volume> images, Volume segmentation, byte[] tissues) {}

    // (PD, T1 ms, T2 ms) per tissue, background unused
    private static final double[][] TISSUE_PARAMS = {
        {0, 1, 1}, {1.0, 4000, 2000}, {0.8, 1300, 95}, {0.7, 800, 75}, {0.88, 1500, 160}, {0.82, 1350, 100},
        {0.95, 2500, 300}};
    private static final double R1_PER_MM_PER_MS = 4.0 / 1000; // 4 /mM/s in /mM/ms, since T1 is in ms

    /**
     * How a cohort's acquisitions and tumours look; {@link #DEMO} is the demo's. Cohorts of other styles differ from it
     * the ways real data differs from one site to another.
     *
     * @param name         the style's name
     * @param spacingMm    voxel edge, mm; with an anatomy other than 1 (or {@code physical}) the brain keeps its real
     *                     size, so the field of view is {@code size · spacingMm}
     * @param physical     anatomy at its physical size with a per-case head size (±6 %), shift (±3 voxels) and
     *                     left-right mirror, instead of stretched to fill the grid
     * @param noise        Rician noise σ as a fraction of the mean brain signal
     * @param bias         amplitude of the log bias field
     * @param tissueJitter per-case relative variation of each tissue's PD, T1, T2
     * @param timingJitter per-case relative variation of TR, TE and TI (scanner protocols differ)
     * @param tumourMin    smallest oedema radius as a fraction of the grid's size
     * @param tumourMax    largest oedema radius
     * @param lobes        lobes per tumour (1: one ellipsoid; more: a lobulated, irregular outline)
     * @param irregularity multiplier of the outline's smooth distortion
     */
    public record Style(String name, double spacingMm, boolean physical, double noise, double bias, double tissueJitter,
                        double timingJitter, double tumourMin, double tumourMax, int lobes, double irregularity) {
        /** The demo's phantoms: 1 mm, 3 % noise, one ellipsoidal tumour of 12–20 % of the grid. */
        public static final Style DEMO = new Style("demo", 1, false, 0.03, 0.12, 0.07, 0, 0.12, 0.2, 1, 1);
        /** Cohort A: 2 mm voxels, a roomy field of view, noisy, strong bias, large lobulated tumours. */
        public static final Style SITE_A = new Style("site-a", 2, true, 0.07, 0.3, 0.12, 0.15, 0.1, 0.26, 3, 2);
        /** Cohort B: 1.75 mm voxels, a tight field of view, cleaner, other protocol timings, smaller irregular tumours. */
        public static final Style SITE_B = new Style("site-b", 1.75, true, 0.02, 0.2, 0.1, 0.15, 0.07, 0.17, 2, 1.6);

        public Style {
            if (!(spacingMm > 0) || noise < 0 || bias < 0 || tissueJitter < 0 || tissueJitter >= 0.5 || timingJitter < 0
                    || timingJitter >= 0.5 || !(tumourMin > 0) || tumourMax < tumourMin || lobes < 1 || irregularity < 0) {
                throw new IllegalArgumentException("invalid phantom style " + name);
            }
        }

        /** The style of this name: demo, site-a or site-b. */
        public static Style named(String name) {
            for (Style s : List.of(DEMO, SITE_A, SITE_B)) if (s.name().equals(name)) return s;
            throw new IllegalArgumentException("unknown phantom style '" + name + "' (known: demo, site-a, site-b)");
        }
    }

    private final int nx, ny, nz;
    private final long seed;
    private final AnatomyTissues.Source anatomy; // or null for procedural brains
    private final byte[] anatomyTissues; // resampled to nx×ny×nz (stretched to fill, or voxel for voxel on its grid), or null
    private final Style style;
    private final NiftiHeader grid; // the anatomy's own header when phantoms are on its grid, else null

    /** A generator of procedural phantoms of {@code nx × ny × nz} voxels. */
    public PhantomGenerator(int nx, int ny, int nz, long seed) {
        this(nx, ny, nz, seed, null, null, Style.DEMO, null);
    }

    /**
     * Phantoms on the grid of a real skull-stripped T1 (its dims, voxel size, qform and sform): the brain is the
     * image's voxels &gt; 0, split into CSF, grey and white matter as in {@link #withAnatomy}, voxel for voxel; the
     * demo's acquisition and tumour style.
     */
    public static PhantomGenerator onAnatomyGrid(Path t1, long seed) {
        Volume v = NiftiReader.read(t1).requireFinite();
        if (v.volumes() != 1) throw new DataException(t1, "the anatomy must be a 3D image, it has " + v.volumes() + " volumes");
        return new PhantomGenerator(v.nx(), v.ny(), v.nz(), seed, null, AnatomyTissues.onOwnGrid(v), Style.DEMO,
                v.header().withDims(v.nx(), v.ny(), v.nz(), 1));
    }

    private PhantomGenerator(int nx, int ny, int nz, long seed, AnatomyTissues.Source anatomy, byte[] anatomyTissues,
                             Style style, NiftiHeader grid) {
        this.grid = grid;
        if (nx < 16 || ny < 16 || nz < 16) throw new IllegalArgumentException("phantoms need at least 16 voxels per side");
        this.nx = nx;
        this.ny = ny;
        this.nz = nz;
        this.seed = seed;
        this.anatomy = anatomy;
        this.anatomyTissues = anatomyTissues;
        this.style = style;
    }

    /**
     * The same generator with the brain taken from a real skull-stripped T1 image: voxels > 0 are brain, split into
     * CSF, grey and white matter by 3-class k-means on intensity, and resampled (nearest) so that the brain's bounding
     * box fills the phantom grid with a margin (or, with a {@link Style#physical} style, at its real size).
     */
    public PhantomGenerator withAnatomy(Path t1) {
        Volume v = NiftiReader.read(t1).requireFinite();
        AnatomyTissues.Source src = AnatomyTissues.analyse(v);
        return new PhantomGenerator(nx, ny, nz, seed, src, AnatomyTissues.fill(src, nx, ny, nz), style, null);
    }

    /** The same generator with another acquisition and tumour style. */
    public PhantomGenerator withStyle(Style s) {
        if (grid != null && !s.equals(style)) throw new IllegalArgumentException("phantoms on an anatomy's own grid keep its voxel size: no --style with them");
        return new PhantomGenerator(nx, ny, nz, seed, anatomy, anatomyTissues, s, grid);
    }

    /** Case ids are {@code Phantom_001, Phantom_002, ...}. */
    public static String caseId(int index) {
        return "Phantom_%03d".formatted(index + 1);
    }

    /** The {@code index}-th case of this generator's cohort (deterministic given seed and index). */
    public Phantom generate(int index) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index);
        byte[] t;
        if (anatomy != null && style.physical()) {
            RandomGenerator a = rng.split();
            double headScale = vary(a, 0.06);
            double[] shift = {a.nextDouble(-3, 3), a.nextDouble(-3, 3), a.nextDouble(-3, 3)};
            t = AnatomyTissues.physical(anatomy, nx, ny, nz, style.spacingMm(), headScale, shift, a.nextBoolean());
        } else {
            t = anatomyTissues != null ? anatomyTissues.clone() : proceduralBrain(rng.split());
        }
        addTumours(t, rng.split());
        NiftiHeader header = header();
        Map<Modality, Volume> images = simulate(t, header, rng.split());
        float[] seg = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            seg[i] = switch (Tissue.values()[t[i]]) {
                case OEDEMA -> 2;
                case ENHANCING -> 4;
                case NECROSIS -> 1;
                default -> 0;
            };
        }
        return new Phantom(caseId(index), images, new Volume(header, seg, null), t);
    }

    /** The style's voxels (1 mm for the demo), axes aligned with scanner axes, the volume centred on the origin. */
    private NiftiHeader header() {
        if (grid != null) return grid;
        double d = style.spacingMm();
        return NiftiHeader.of(nx, ny, nz, new double[] {d, d, d},
                new double[] {-(nx - 1) / 2.0 * d, -(ny - 1) / 2.0 * d, -(nz - 1) / 2.0 * d});
    }

    /**
     * Writes {@code cases} phantoms as a BraTS-layout cohort under {@code out} ({@code <id>/<id>_flair.nii.gz}, ...,
     * {@code <id>_seg.nii.gz}) plus {@code split.json} (60/20/20, seeded), and opens it.
     */
    public Cohort writeCohort(Path out, int cases, boolean showProgress) {
        if (cases < 1) throw new IllegalArgumentException("need at least one case");
        ProgressBar bar = showProgress ? new ProgressBarBuilder().setTaskName("synth").setInitialMax(cases)
                .setStyle(ProgressBarStyle.ASCII).setUnit(" cases", 1).build() : null;
        try {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < cases; i++) {
                Phantom p = generate(i);
                Path dir = out.resolve(p.id());
                for (var e : p.images().entrySet()) {
                    NiftiWriter.write(e.getValue(), dir.resolve(p.id() + "_" + e.getKey().name() + ".nii.gz"), NiftiDatatype.INT16);
                }
                NiftiWriter.write(p.segmentation(), dir.resolve(p.id() + "_seg.nii.gz"), NiftiDatatype.UINT8);
                ids.add(p.id());
                if (bar != null) bar.step();
            }
            Split.random(ids, new double[] {0.6, 0.2, 0.2}, seed).write(out.resolve("split.json"));
        } finally {
            if (bar != null) bar.close();
        }
        return Cohort.brats(out);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // anatomy

    private byte[] proceduralBrain(RandomGenerator rng) {
        double ax = 0.43 * nx * vary(rng, 0.05), ay = 0.45 * ny * vary(rng, 0.05), az = 0.43 * nz * vary(rng, 0.05);
        double cx = (nx - 1) / 2.0 + rng.nextDouble(-1, 1), cy = (ny - 1) / 2.0 + rng.nextDouble(-1, 1);
        double cz = (nz - 1) / 2.0 + rng.nextDouble(-1, 1);
        double scale = Math.min(nx, Math.min(ny, nz));
        float[] outline = SmoothField.of(nx, ny, nz, scale / 4, rng);
        float[] ribbon = SmoothField.of(nx, ny, nz, scale / 6, rng);
        float[] sulci = SmoothField.of(nx, ny, nz, Math.max(3, scale / 16), rng);
        double ventricleSize = vary(rng, 0.2);
        byte[] t = new byte[nx * ny * nz];
        int i = 0;
        for (int z = 0; z < nz; z++) {
            for (int y = 0; y < ny; y++) {
                for (int x = 0; x < nx; x++, i++) {
                    double dx = (x - cx) / ax, dy = (y - cy) / ay, dz = (z - cz) / az;
                    double r = Math.sqrt(dx * dx + dy * dy + dz * dz) + 0.04 * outline[i];
                    Tissue tissue;
                    if (r >= 1) tissue = Tissue.BACKGROUND;
                    else if (r > 0.95) tissue = Tissue.CSF;
                    else if (r > 0.78 + 0.06 * ribbon[i]) tissue = sulci[i] > 0.45 ? Tissue.CSF : Tissue.GREY_MATTER;
                    else tissue = Tissue.WHITE_MATTER;
                    // lateral ventricles: two elongated ellipsoids either side of the midline
                    for (int side = -1; side <= 1; side += 2) {
                        double vx = (dx - side * 0.13) / (0.07 * ventricleSize), vy = (dy + 0.05) / (0.28 * ventricleSize);
                        double vz = (dz - 0.08) / (0.16 * ventricleSize);
                        if (vx * vx + vy * vy + vz * vz < 1) tissue = Tissue.CSF;
                        // deep grey matter (basal ganglia, thalamus) lateral to the ventricles
                        double gx = (dx - side * 0.3) / 0.1, gy = dy / 0.16, gz = (dz + 0.05) / 0.13;
                        if (tissue == Tissue.WHITE_MATTER && gx * gx + gy * gy + gz * gz < 1) tissue = Tissue.GREY_MATTER;
                    }
                    t[i] = (byte) tissue.ordinal();
                }
            }
        }
        return t;
    }

    private static double vary(RandomGenerator rng, double amount) {
        return 1 + rng.nextDouble(-amount, amount);
    }

    // ---------------------------------------------------------------------------------------------------------------
    // tumours

    private void addTumours(byte[] t, RandomGenerator rng) {
        List<Integer> whiteMatter = new ArrayList<>();
        for (int i = 0; i < t.length; i++) if (t[i] == Tissue.WHITE_MATTER.ordinal()) whiteMatter.add(i);
        if (whiteMatter.isEmpty()) return;
        int count = rng.nextDouble() < 0.7 ? 1 : 2;
        double scale = Math.cbrt((double) nx * ny * nz); // tumour sizes follow the brain's size
        float[] shape = SmoothField.of(nx, ny, nz, Math.max(3, scale / 10), rng);
        float[] spread = SmoothField.of(nx, ny, nz, Math.max(3, scale / 8), rng);
        double irr = style.irregularity();
        for (int k = 0; k < count; k++) {
            int centre = whiteMatter.get(rng.nextInt(whiteMatter.size()));
            double cx = centre % nx, cy = (centre / nx) % ny, cz = centre / (nx * ny);
            double outer = scale * rng.nextDouble(style.tumourMin(), style.tumourMax()) / (k == 0 ? 1 : 1.5); // oedema radius
            double core = outer * rng.nextDouble(0.4, 0.6); // enhancing rim and necrosis
            double necrosis = rng.nextDouble() < 0.2 ? 0 : core * rng.nextDouble(0.35, 0.65);
            double[] axis = {vary(rng, 0.2), vary(rng, 0.2), vary(rng, 0.2)};
            // lobes: the first at the centre, the others offset by up to 0.6 of the core radius
            double[][] lobe = new double[style.lobes()][];
            lobe[0] = new double[] {0, 0, 0};
            for (int l = 1; l < lobe.length; l++) {
                lobe[l] = new double[] {rng.nextDouble(-0.6, 0.6) * core, rng.nextDouble(-0.6, 0.6) * core,
                    rng.nextDouble(-0.6, 0.6) * core};
            }
            // reach: d·(1 − 0.35·irr) < outer with axes stretched up to 1.2, plus the lobes' offsets
            double reach = 1.2 * outer / Math.max(0.2, 1 - 0.35 * irr) + (lobe.length > 1 ? 0.6 * core * Math.sqrt(3) : 0) + 1;
            int x0 = (int) Math.max(0, cx - reach), x1 = (int) Math.min(nx - 1, cx + reach);
            int y0 = (int) Math.max(0, cy - reach), y1 = (int) Math.min(ny - 1, cy + reach);
            int z0 = (int) Math.max(0, cz - reach), z1 = (int) Math.min(nz - 1, cz + reach);
            for (int z = z0; z <= z1; z++) {
                for (int y = y0; y <= y1; y++) {
                    for (int x = x0; x <= x1; x++) {
                        int i = (z * ny + y) * nx + x;
                        if (t[i] == Tissue.BACKGROUND.ordinal()) continue;
                        double d = Double.MAX_VALUE;
                        for (double[] o : lobe) {
                            double dx = (x - cx - o[0]) / axis[0], dy = (y - cy - o[1]) / axis[1], dz = (z - cz - o[2]) / axis[2];
                            d = Math.min(d, Math.sqrt(dx * dx + dy * dy + dz * dz));
                        }
                        double dCore = d * Math.max(0.2, 1 + 0.25 * irr * shape[i]);
                        double dOedema = d * Math.max(0.2, 1 + 0.35 * irr * spread[i]);
                        Tissue now = Tissue.values()[t[i]];
                        if (necrosis > 0 && dCore < necrosis) {
                            t[i] = (byte) Tissue.NECROSIS.ordinal();
                        } else if (dCore < core) {
                            if (now != Tissue.NECROSIS) t[i] = (byte) Tissue.ENHANCING.ordinal();
                        } else if ((dOedema < outer || dCore < 1.3 * core) // oedema always rims the core
                                && now != Tissue.CSF && now != Tissue.NECROSIS && now != Tissue.ENHANCING) {
                            t[i] = (byte) Tissue.OEDEMA.ordinal();
                        }
                    }
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------------
    // MR signal

    private Map<Modality, Volume> simulate(byte[] t, NiftiHeader header, RandomGenerator rng) {
        double[][] p = new double[TISSUE_PARAMS.length][];
        double j0 = style.tissueJitter();
        for (int k = 0; k < p.length; k++) {
            p[k] = new double[] {TISSUE_PARAMS[k][0] * vary(rng, j0), TISSUE_PARAMS[k][1] * vary(rng, j0),
                TISSUE_PARAMS[k][2] * vary(rng, j0)};
        }
        // enhancing tumour mimics this case's oedema apart from its gadolinium uptake: on T2, FLAIR and T1 the
        // enhancing rim blends into the oedema, as in real scans, and only T1ce shows it
        int et = Tissue.ENHANCING.ordinal(), ed = Tissue.OEDEMA.ordinal();
        for (int j = 0; j < 3; j++) p[et][j] = p[ed][j] * vary(rng, 0.01);
        double gd = rng.nextDouble(0.3, 0.5);
        double[] timing = new double[3]; // TR, TE, TI factors of this case's protocol
        for (int j = 0; j < 3; j++) timing[j] = style.timingJitter() > 0 ? vary(rng, style.timingJitter()) : 1;
        double scale = Math.min(nx, Math.min(ny, nz));
        float[] texture = SmoothField.of(nx, ny, nz, Math.max(2, scale / 24), rng);
        Map<Modality, Volume> out = new LinkedHashMap<>();
        for (Modality m : Modality.BRATS) {
            float[] s = new float[t.length];
            for (int i = 0; i < t.length; i++) {
                int k = t[i];
                if (k == 0) continue;
                double pd = p[k][0] * (1 + 0.03 * texture[i]), t1 = p[k][1], t2 = p[k][2];
                s[i] = (float) signal(m, pd, t1, t2, k == Tissue.ENHANCING.ordinal() ? gd : 0, timing);
            }
            out.put(m, new Volume(header, finish(s, t, rng), null));
        }
        return out;
    }

    /** Signal of one voxel on sequence {@code m} (arbitrary units); {@code gd} is the gadolinium concentration in mM. */
    static double signal(Modality m, double pd, double t1, double t2, double gd) {
        return signal(m, pd, t1, t2, gd, new double[] {1, 1, 1});
    }

    /** As {@link #signal(Modality, double, double, double, double)} with TR, TE and TI scaled by {@code timing}. */
    static double signal(Modality m, double pd, double t1, double t2, double gd, double[] timing) {
        double tr = timing[0], te = timing[1], ti = timing[2];
        if (m.equals(Modality.T1)) return spinEcho(pd, t1, t2, 500 * tr, 15 * te);
        if (m.equals(Modality.T1CE)) return spinEcho(pd, 1 / (1 / t1 + R1_PER_MM_PER_MS * gd), t2, 500 * tr, 15 * te);
        if (m.equals(Modality.T2)) return spinEcho(pd, t1, t2, 4000 * tr, 100 * te);
        if (m.equals(Modality.FLAIR)) {
            return pd * Math.abs(1 - 2 * Math.exp(-2400 * ti / t1) + Math.exp(-9000 * tr / t1)) * Math.exp(-120 * te / t2);
        }
        throw new IllegalArgumentException("no signal model for modality " + m);
    }

    private static double spinEcho(double pd, double t1, double t2, double tr, double te) {
        return pd * (1 - Math.exp(-tr / t1)) * Math.exp(-te / t2);
    }

    /** Bias field, Rician noise, background 0, scaled to int16 with the brain's 99.5th percentile at 1000. */
    private float[] finish(float[] s, byte[] t, RandomGenerator rng) {
        double scale = Math.min(nx, Math.min(ny, nz));
        float[] bias = SmoothField.of(nx, ny, nz, scale / 2, rng);
        double mean = 0;
        int count = 0;
        for (int i = 0; i < s.length; i++) {
            if (t[i] != 0) {
                mean += s[i];
                count++;
            }
        }
        double sigma = style.noise() * mean / Math.max(1, count);
        float[] brain = new float[count];
        int j = 0;
        for (int i = 0; i < s.length; i++) {
            if (t[i] == 0) continue;
            double v = s[i] * Math.exp(style.bias() * bias[i]);
            double re = v + sigma * rng.nextGaussian(), im = sigma * rng.nextGaussian();
            s[i] = (float) Math.sqrt(re * re + im * im);
            brain[j++] = s[i];
        }
        Arrays.sort(brain);
        double top = brain.length == 0 ? 1 : brain[(int) (0.995 * (brain.length - 1))];
        double k = 1000 / top;
        for (int i = 0; i < s.length; i++) {
            if (t[i] != 0) s[i] = (float) Math.min(Short.MAX_VALUE, Math.max(1, Math.rint(s[i] * k)));
        }
        return s;
    }
}
