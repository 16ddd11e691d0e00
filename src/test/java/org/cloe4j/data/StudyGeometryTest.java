package org.cloe4j.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Orientation from affines, exact reorientation, resampling and the study-to-model mapping, on hand-made grids. */
class StudyGeometryTest {

    @TempDir Path dir;

    /** A header whose voxel-to-world affine is exactly {@code affine} (sform, code 1). */
    static NiftiHeader header(int nx, int ny, int nz, double[] affine) {
        long[] dim = {3, nx, ny, nz, 1, 1, 1, 1};
        double[] s = Orientation.spacing(affine, null);
        return new NiftiHeader(1, ByteOrder.LITTLE_ENDIAN, dim, NiftiDatatype.FLOAT32.code(),
                new double[] {1, s[0], s[1], s[2], 1, 1, 1, 1}, 352, 1, 0, NiftiHeader.UNITS_MM_SEC, 0, 1,
                new double[3], new double[3], affine, 0, "test");
    }

    @Test
    void orientationLettersComeFromTheAffine() {
        assertEquals("RAS", Orientation.of(new double[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, null).codes());
        assertEquals("LPS", Orientation.of(new double[] {-1, 0, 0, 0, 0, -1, 0, 239, 0, 0, 1, 0}, null).codes());
        // i runs to posterior, j to inferior, k to the right: PIR
        assertEquals("PIR", Orientation.of(new double[] {0, 0, 2, 0, -1, 0, 0, 0, 0, -1.5, 0, 0}, null).codes());
        // mildly oblique (10° about z): still RAS
        double c = Math.cos(Math.toRadians(10)), s = Math.sin(Math.toRadians(10));
        assertEquals("RAS", Orientation.of(new double[] {c, -s, 0, 0, s, c, 0, 0, 0, 0, 1, 0}, null).codes());
        assertArrayEquals(new double[] {1, 1.5, 2}, Orientation.spacing(new double[] {0, 0, 2, 0, -1, 0, 0, 0, 0, -1.5, 0, 0}, null)
                , 1e-12);
        assertEquals("LPI", Orientation.parse("lpi").codes());
        assertThrows(IllegalArgumentException.class, () -> Orientation.parse("RAR"));
    }

    @Test
    void aNonInvertibleOrNonFiniteAffineIsRefusedNamingTheFile() {
        Path f = Path.of("study.nii.gz");
        DataException e = assertThrows(DataException.class,
                () -> Orientation.of(new double[] {1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0}, f));
        assertTrue(e.getMessage().contains("study.nii.gz") && e.getMessage().contains("not invertible"), e.getMessage());
        assertThrows(DataException.class, () -> Orientation.of(new double[] {Double.NaN, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, f));
    }

    /** world = A·(i, j, k, 1) */
    private static double[] world(double[] a, int i, int j, int k) {
        double[] w = new double[3];
        for (int r = 0; r < 3; r++) w[r] = a[r * 4] * i + a[r * 4 + 1] * j + a[r * 4 + 2] * k + a[r * 4 + 3];
        return w;
    }

    @Test
    void reorientationMovesEveryVoxelToTheSameWorldPlaceAndBack() {
        int[] dims = {5, 4, 3};
        // PIR, 2 × 1 × 1.5 mm, shifted
        double[] a = {0, 0, 2, 10, -1, 0, 0, 20, 0, -1.5, 0, 30};
        float[] v = new float[60];
        for (int i = 0; i < v.length; i++) v[i] = i;
        Reorientation r = Reorientation.between(Orientation.of(a, null), Orientation.RAS, dims);
        assertArrayEquals(new int[] {3, 5, 4}, r.outputDims());
        float[] out = r.apply(v);
        double[] b = r.affine(a);
        assertEquals("RAS", Orientation.of(b, null).codes());
        // every input voxel's value is found at the output voxel that has the same world position
        for (int k = 0; k < 3; k++) {
            for (int j = 0; j < 4; j++) {
                for (int i = 0; i < 5; i++) {
                    double[] w = world(a, i, j, k);
                    // RAS output affine is diagonal: invert it per axis
                    int x = (int) Math.round((w[0] - b[3]) / b[0]), y = (int) Math.round((w[1] - b[7]) / b[5]),
                            z = (int) Math.round((w[2] - b[11]) / b[10]);
                    assertEquals(v[(k * 4 + j) * 5 + i], out[(z * 5 + y) * 3 + x], "voxel " + i + "," + j + "," + k);
                }
            }
        }
        assertArrayEquals(v, r.inverse().apply(out));
        assertArrayEquals(a, r.inverse().affine(b), 1e-12);
    }

    @Test
    void trilinearResamplingReproducesALinearRampAtTheNewVoxelCentres() {
        int[] in = {8, 6, 5}, out = {16, 3, 9};
        float[] v = new float[8 * 6 * 5];
        for (int z = 0; z < 5; z++) for (int y = 0; y < 6; y++) for (int x = 0; x < 8; x++) v[(z * 6 + y) * 8 + x] = 2 * x + 3 * y - z;
        float[] r = Resampler.trilinear(v, in, out);
        for (int z = 0; z < 9; z++) {
            for (int y = 0; y < 3; y++) {
                for (int x = 0; x < 16; x++) {
                    // input coordinate of the output centre, clamped to the outer centres
                    double cx = Math.min(7, Math.max(0, (x + 0.5) * 8 / 16 - 0.5));
                    double cy = Math.min(5, Math.max(0, (y + 0.5) * 6 / 3 - 0.5));
                    double cz = Math.min(4, Math.max(0, (z + 0.5) * 5 / 9 - 0.5));
                    // float arithmetic on values up to 30: 1e-4
                    assertEquals(2 * cx + 3 * cy - cz, r[(z * 3 + y) * 16 + x], 1e-4, x + "," + y + "," + z);
                }
            }
        }
        // the resampled grid's affine puts its voxel centres where the ramp says: first centre at input x = -0.25
        double[] b = Resampler.affine(new double[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}, in, out);
        assertArrayEquals(new double[] {0.5, 0, 0, -0.25, 0, 2, 0, 0.5, 0, 0, 5.0 / 9, 5.0 / 18 - 0.5}, b, 1e-12);
    }

    @Test
    void labelResamplingKeepsBlocksAndTakesTheMajorityLabel() {
        int[] fine = {12, 12, 12}, coarse = {6, 6, 6};
        float[] labels = new float[12 * 12 * 12];
        for (int z = 0; z < 12; z++) {
            for (int y = 0; y < 12; y++) {
                for (int x = 0; x < 12; x++) {
                    labels[(z * 12 + y) * 12 + x] = x >= 4 && x < 8 && y >= 4 && y < 8 && z >= 2 ? (z >= 8 ? 4 : 2) : 0;
                }
            }
        }
        // 2× down: each coarse voxel sits at the centre of a 2×2×2 block that holds one label only
        float[] down = Resampler.labels(labels, fine, coarse);
        for (int z = 0; z < 6; z++) {
            for (int y = 0; y < 6; y++) {
                for (int x = 0; x < 6; x++) {
                    assertEquals(labels[((2 * z) * 12 + 2 * y) * 12 + 2 * x], down[(z * 6 + y) * 6 + x]);
                }
            }
        }
        // and back up: a fine voxel whose whole 3×3×3 neighbourhood holds one label gets it back; only voxels on a
        // label boundary may change (one-hot interpolation rounds off the blocks' corners)
        float[] up = Resampler.labels(down, coarse, fine);
        int boundary = 0;
        for (int z = 0; z < 12; z++) {
            for (int y = 0; y < 12; y++) {
                for (int x = 0; x < 12; x++) {
                    float l = labels[(z * 12 + y) * 12 + x];
                    boolean uniform = true;
                    for (int dz = -1; dz <= 1; dz++) for (int dy = -1; dy <= 1; dy++) for (int dx = -1; dx <= 1; dx++) {
                        int xx = Math.clamp(x + dx, 0, 11), yy = Math.clamp(y + dy, 0, 11), zz = Math.clamp(z + dz, 0, 11);
                        uniform &= labels[(zz * 12 + yy) * 12 + xx] == l;
                    }
                    if (uniform) assertEquals(l, up[(z * 12 + y) * 12 + x], x + "," + y + "," + z);
                    else boundary++;
                }
            }
        }
        assertTrue(boundary > 0);
    }

    @Test
    void aStudyOnTheModelsGridPassesUntouchedAndAnotherGoesThereAndBack() {
        TrainingGeometry model = new TrainingGeometry(Orientation.RAS, new double[] {1, 1, 1}, true);
        NiftiHeader ras = header(8, 8, 8, new double[] {1, 0, 0, -4, 0, 1, 0, -4, 0, 0, 1, -4});
        assertTrue(StudyGeometry.of(ras, null, model).isIdentity());

        // LPS at 2 × 2 × 1 mm: reoriented and resampled to 1 mm (16 × 16 × 8)
        NiftiHeader lps = header(8, 8, 8, new double[] {-2, 0, 0, 7, 0, -2, 0, 7, 0, 0, 1, -4});
        StudyGeometry g = StudyGeometry.of(lps, null, model);
        assertFalse(g.isIdentity());
        assertTrue(g.resamples());
        assertArrayEquals(new int[] {16, 16, 8}, g.modelDims());
        assertEquals("RAS", Orientation.of(g.modelHeader().affine(), null).codes());
        // the model grid covers the same field of view: its first voxel centre is 0.5 mm inside the study's corner
        double[] m = g.modelHeader().affine();
        assertArrayEquals(new double[] {1, 1, 1}, Orientation.spacing(m, null), 1e-12);
        assertArrayEquals(new double[] {7 - 7 * 2 - 0.5, 7 - 7 * 2 - 0.5, -4}, new double[] {m[3], m[7], m[11]}, 1e-12);
        float[] labels = new float[16 * 16 * 8];
        for (int i = 0; i < labels.length; i++) labels[i] = (i % 16) < 8 ? 1 : 0; // left half (x < 0) of the model grid
        Volume back = g.labelsToInput(new Volume(g.modelHeader(), labels, null));
        assertArrayEquals(lps.affine(), back.header().affine(), 0);
        assertEquals(List.of(8, 8, 8), List.of(back.nx(), back.ny(), back.nz()));
        // in LPS, i runs to the left: x world = 7 - 2i < 0 for i >= 4
        for (int i = 0; i < 8; i++) assertEquals(i >= 4 ? 1f : 0f, back.at(i, 3, 3), "i = " + i);
    }

    @Test
    void sequencesOfDifferentGridsAreRefusedNamingBothFiles() {
        TrainingGeometry model = TrainingGeometry.ASSUMED;
        NiftiHeader a = header(8, 8, 8, new double[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0});
        NiftiHeader b = header(8, 8, 8, new double[] {1, 0, 0, 3, 0, 1, 0, 0, 0, 0, 1, 0});
        Volume va = new Volume(a, new float[512], Path.of("a.nii.gz")), vb = new Volume(b, new float[512], Path.of("b.nii.gz"));
        DataException e = assertThrows(DataException.class,
                () -> StudyGeometry.of(Map.of(Modality.FLAIR, va, Modality.T2, vb), model, 1e-2));
        assertTrue(e.getMessage().contains("a.nii.gz") && e.getMessage().contains("b.nii.gz"), e.getMessage());
    }

    @Test
    void trainingGeometryIsTheMostCommonOrientationAndMedianSpacingAndRoundTripsThroughItsFile() throws Exception {
        NiftiHeader lps1 = header(4, 4, 4, new double[] {-1, 0, 0, 0, 0, -1, 0, 0, 0, 0, 1, 0});
        NiftiHeader lps2 = header(4, 4, 4, new double[] {-1.2, 0, 0, 0, 0, -1, 0, 0, 0, 0, 3, 0});
        NiftiHeader lps3 = header(4, 4, 4, new double[] {-0.9, 0, 0, 0, 0, -1, 0, 0, 0, 0, 2, 0});
        NiftiHeader ras = header(4, 4, 4, new double[] {5, 0, 0, 0, 0, 5, 0, 0, 0, 0, 5, 0});
        TrainingGeometry t = TrainingGeometry.of(List.of(lps1, ras, lps2, lps3));
        assertEquals("LPS", t.orientation().codes());
        assertArrayEquals(new double[] {1, 1, 2}, t.spacing(), 1e-12);
        Path ckpt = dir.resolve("run/checkpoints/epoch-0001");
        Files.createDirectories(ckpt);
        assertEquals(TrainingGeometry.ASSUMED, TrainingGeometry.read(ckpt));
        t.write(dir.resolve("run")); // the run folder's file counts for its checkpoints
        TrainingGeometry back = TrainingGeometry.read(ckpt);
        assertEquals("LPS", back.orientation().codes());
        assertArrayEquals(t.spacing(), back.spacing(), 0);
        assertTrue(back.recorded());
        Files.writeString(ckpt.resolve(TrainingGeometry.FILE), "{\"orientation\": \"XYZ\", \"spacing\": [1, 1, 1]}");
        var e = assertThrows(java.io.IOException.class, () -> TrainingGeometry.read(ckpt));
        assertTrue(e.getMessage().contains(TrainingGeometry.FILE), e.getMessage());
    }

    @Test
    void aRandomStudyReorientedAnyWayComesBackBitForBit() {
        SplittableRandom rng = new SplittableRandom(5);
        TrainingGeometry model = new TrainingGeometry(Orientation.parse("LPS"), new double[] {1, 1, 1}, true);
        for (String codes : List.of("RAS", "LPS", "PIR", "SLA", "ILP")) {
            Orientation o = Orientation.parse(codes);
            double[] a = new double[12];
            int[] w = o.worldAxis();
            boolean[] p = o.positive();
            for (int i = 0; i < 3; i++) a[w[i] * 4 + i] = p[i] ? 1 : -1;
            NiftiHeader h = header(5, 6, 7, a);
            float[] v = new float[210];
            for (int i = 0; i < v.length; i++) v[i] = rng.nextInt(5);
            StudyGeometry g = StudyGeometry.of(h, null, model);
            assertFalse(g.resamples());
            Volume inModel = g.toModel(new Volume(h, v, null));
            assertEquals("LPS", Orientation.of(inModel.header().affine(), null).codes());
            assertArrayEquals(v, g.labelsToInput(inModel).data(), codes);
        }
    }
}
