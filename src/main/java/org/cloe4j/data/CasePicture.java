package org.cloe4j.data;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.cloe4j.io.AtomicFiles;

/**
 * A one-page picture of a BraTS-layout case: one row per sequence (FLAIR, T1ce, T1, T2) and a last row with the
 * label map over FLAIR (NCR red, ED green, ET yellow, semi-transparent); columns are the axial, coronal and sagittal
 * slices through the tumour centre (the labels' centre of mass; the volume centre when there are none). Each
 * sequence is windowed to the 1st–99th percentile of its non-zero voxels; panels keep the physical aspect ratio
 * (spacing). Axial slices are shown with y up, coronal and sagittal with z up.
 */
public final class CasePicture {

    private static final int CELL = 220; // longest side of a panel, pixels
    private static final int GAP = 6, LEFT = 96, TOP = 62, LEGEND = 46;
    private static final Color[] LABEL_COLOURS = {null, new Color(235, 40, 40), new Color(40, 200, 60), null,
        new Color(255, 230, 0)};
    private static final float ALPHA = 0.5f;

    private CasePicture() {}

    /** Renders the case in {@code caseDir}; labels from {@code segmentation} or, when null, the case's own *_seg. */
    public static BufferedImage render(Path caseDir, Path segmentation) {
        CaseRecord c;
        try {
            c = Cohort.bratsCase(caseDir);
        } catch (IOException e) {
            throw new DataException(caseDir, "cannot list the case folder", e);
        }
        if (c == null) throw new DataException(caseDir, "no NIfTI files here; expected a BraTS case folder (*_flair.nii.gz ...)");
        List<Volume> images = new ArrayList<>();
        for (CaseRecord.ImageSource s : c.images().values()) images.add(NiftiReader.read(s.file()).requireFinite());
        Volume ref = images.getFirst();
        for (Volume v : images) requireSameDims(ref, v);
        Path labelFile = segmentation != null ? segmentation : c.label();
        byte[] labels = null;
        if (labelFile != null) {
            Volume l = NiftiReader.read(labelFile);
            requireSameDims(ref, l);
            labels = LabelMaps.bratsLabelsOf(l);
        }
        String title = c.id() + "   labels: " + (labelFile == null ? "none" : labelFile.getFileName());
        return draw(title, c.modalities(), images, labels);
    }

    /** Renders (see {@link #render}) and writes a PNG atomically. */
    public static void write(Path caseDir, Path segmentation, Path png) {
        BufferedImage img = render(caseDir, segmentation);
        AtomicFiles.write(png, out -> {
            if (!ImageIO.write(img, "png", out)) throw new IOException("no PNG writer available");
        });
    }

    private static void requireSameDims(Volume a, Volume b) {
        if (a.nx() != b.nx() || a.ny() != b.ny() || a.nz() != b.nz() || b.volumes() != 1) {
            throw new DataException(b.source(), "dims " + b.nx() + "×" + b.ny() + "×" + b.nz() + " differ from "
                    + a.nx() + "×" + a.ny() + "×" + a.nz() + " of " + a.source());
        }
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** The three slice planes; each maps panel (column u, row v) to a voxel. */
    private enum View { AXIAL, CORONAL, SAGITTAL }

    static BufferedImage draw(String title, List<Modality> modalities, List<Volume> images, byte[] labels) {
        Volume ref = images.getFirst();
        int nx = ref.nx(), ny = ref.ny(), nz = ref.nz();
        double[] sp = ref.spacing();
        int[] centre = centre(labels, nx, ny, nz);
        int[][] size = new int[3][];
        for (View v : View.values()) size[v.ordinal()] = panelSize(v, nx, ny, nz, sp);
        int colWidth = Arrays.stream(size).mapToInt(s -> s[0]).max().orElseThrow();
        int rowHeight = Arrays.stream(size).mapToInt(s -> s[1]).max().orElseThrow();
        int rows = images.size() + 1;
        int width = LEFT + 3 * (colWidth + GAP);
        int height = TOP + rows * (rowHeight + GAP) + LEGEND;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(18, 18, 22));
        g.fillRect(0, 0, width, height);
        g.setColor(Color.WHITE);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, 10, 20);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        String[] colTitles = {"axial  z=" + centre[2], "coronal  y=" + centre[1], "sagittal  x=" + centre[0]};
        for (int col = 0; col < 3; col++) g.drawString(colTitles[col], LEFT + col * (colWidth + GAP) + 4, TOP - 10);

        for (int row = 0; row < rows; row++) {
            boolean overlay = row == images.size();
            Volume v = overlay ? images.getFirst() : images.get(row);
            float[] window = window(v.data());
            int y0 = TOP + row * (rowHeight + GAP);
            g.setColor(Color.WHITE);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
            String name = overlay ? "labels" : modalities.get(row).displayName();
            g.drawString(name, 10, y0 + rowHeight / 2);
            if (overlay) {
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                g.drawString("on " + modalities.getFirst().displayName(), 10, y0 + rowHeight / 2 + 16);
            }
            for (View view : View.values()) {
                int[] s = size[view.ordinal()];
                int x0 = LEFT + view.ordinal() * (colWidth + GAP) + (colWidth - s[0]) / 2;
                BufferedImage panel = panel(view, v, window, overlay ? labels : null, centre, s[0], s[1]);
                g.drawImage(panel, x0, y0 + (rowHeight - s[1]) / 2, null);
            }
        }
        drawLegend(g, 10, height - LEGEND + 8, labels != null);
        g.dispose();
        return img;
    }

    private static void drawLegend(Graphics2D g, int x, int y, boolean hasLabels) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        if (!hasLabels) {
            g.setColor(Color.LIGHT_GRAY);
            g.drawString("no label map: the last row shows FLAIR only", x, y + 16);
            return;
        }
        String[] names = {"", "necrotic core (NCR, 1)", "oedema (ED, 2)", "", "enhancing tumour (ET, 4)"};
        for (int label : new int[] {1, 2, 4}) {
            g.setColor(LABEL_COLOURS[label]);
            g.fillRect(x, y + 4, 16, 16);
            g.setColor(Color.WHITE);
            g.setStroke(new BasicStroke(1));
            g.drawRect(x, y + 4, 16, 16);
            g.drawString(names[label], x + 22, y + 17);
            x += 40 + g.getFontMetrics().stringWidth(names[label]);
        }
    }

    /** Centre of mass of the non-zero labels (voxel indices x, y, z), else the volume centre. */
    static int[] centre(byte[] labels, int nx, int ny, int nz) {
        if (labels != null) {
            double sx = 0, sy = 0, sz = 0;
            long n = 0;
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == 0) continue;
                sx += i % nx;
                sy += (i / nx) % ny;
                sz += i / (nx * ny);
                n++;
            }
            if (n > 0) return new int[] {(int) Math.round(sx / n), (int) Math.round(sy / n), (int) Math.round(sz / n)};
        }
        return new int[] {nx / 2, ny / 2, nz / 2};
    }

    /** 1st and 99th percentiles of the non-zero values. */
    static float[] window(float[] data) {
        int n = 0;
        for (float v : data) if (v != 0) n++;
        if (n == 0) return new float[] {0, 1};
        float[] nz = new float[n];
        int j = 0;
        for (float v : data) if (v != 0) nz[j++] = v;
        Arrays.sort(nz);
        float lo = nz[(int) (0.01 * (n - 1))], hi = nz[(int) (0.99 * (n - 1))];
        return new float[] {lo, hi > lo ? hi : lo + 1};
    }

    private static int[] panelSize(View view, int nx, int ny, int nz, double[] sp) {
        double w, h;
        switch (view) {
            case AXIAL -> { w = nx * sp[0]; h = ny * sp[1]; }
            case CORONAL -> { w = nx * sp[0]; h = nz * sp[2]; }
            default -> { w = ny * sp[1]; h = nz * sp[2]; }
        }
        double scale = CELL / Math.max(w, h);
        return new int[] {Math.max(1, (int) Math.round(w * scale)), Math.max(1, (int) Math.round(h * scale))};
    }

    private static BufferedImage panel(View view, Volume v, float[] window, byte[] labels, int[] c, int pw, int ph) {
        int nx = v.nx(), ny = v.ny(), nz = v.nz();
        BufferedImage out = new BufferedImage(pw, ph, BufferedImage.TYPE_INT_RGB);
        float[] d = v.data();
        for (int row = 0; row < ph; row++) {
            for (int col = 0; col < pw; col++) {
                double u = (col + 0.5) / pw, t = 1 - (row + 0.5) / ph; // t: 0 at the bottom
                int x, y, z;
                switch (view) {
                    case AXIAL -> { x = (int) (u * nx); y = (int) (t * ny); z = c[2]; }
                    case CORONAL -> { x = (int) (u * nx); y = c[1]; z = (int) (t * nz); }
                    default -> { x = c[0]; y = (int) (u * ny); z = (int) (t * nz); }
                }
                int i = (z * ny + y) * nx + x;
                float grey = Math.max(0, Math.min(1, (d[i] - window[0]) / (window[1] - window[0])));
                float r = grey, g = grey, b = grey;
                if (labels != null && labels[i] > 0 && labels[i] < LABEL_COLOURS.length && LABEL_COLOURS[labels[i]] != null) {
                    Color lc = LABEL_COLOURS[labels[i]];
                    r = (1 - ALPHA) * grey + ALPHA * lc.getRed() / 255f;
                    g = (1 - ALPHA) * grey + ALPHA * lc.getGreen() / 255f;
                    b = (1 - ALPHA) * grey + ALPHA * lc.getBlue() / 255f;
                }
                out.setRGB(col, row, ((int) (r * 255) << 16) | ((int) (g * 255) << 8) | (int) (b * 255));
            }
        }
        return out;
    }
}
