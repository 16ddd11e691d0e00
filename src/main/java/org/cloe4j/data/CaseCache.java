package org.cloe4j.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.cloe4j.io.AtomicFiles;

/**
 * Preprocessed cases on disk, so that training epochs do not decode gzip and normalise again. Per case three files
 * in the cache folder: {@code <id>.f32} (the image, float32 little endian, C·D·H·W), {@code <id>.u8} (classes, one
 * byte per voxel; absent when unlabelled) and {@code <id>.json} (shape, modalities, crop box, original geometry,
 * preprocessing settings, and the size and modification time of every source file). Reading maps the files
 * ({@link FileChannel#map}); an entry whose source files changed, or that was made with other settings, is rebuilt.
 * The sidecar is written last, so an interrupted write leaves no entry that looks valid.
 */
public final class CaseCache {

    private static final int FORMAT = 1;
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final Preprocessor preprocessor;

    /** A cache in {@code dir} (created when needed) filled by {@code preprocessor}. */
    public CaseCache(Path dir, Preprocessor preprocessor) {
        this.dir = dir;
        this.preprocessor = preprocessor;
    }

    public Path dir() {
        return dir;
    }

    /** The prepared case, from the cache when it is fresh, else prepared from its files and stored. */
    public PreparedCase get(CaseRecord c) {
        if (isFresh(c)) return load(c);
        PreparedCase p = preprocessor.prepare(c);
        store(c, p);
        return p;
    }

    /** Whether the cache holds an entry for {@code c} made from its current files with this cache's settings. */
    public boolean isFresh(CaseRecord c) {
        Path side = sidecar(c.id());
        if (!Files.isRegularFile(side)) return false;
        try {
            JsonNode j = JSON.readTree(side.toFile());
            if (j.path("format").asInt() != FORMAT || j.path("minCropSize").asInt() != preprocessor.minCropSize()) return false;
            // an entry written before the normalisation was recorded is a z-scored one
            if (!j.path("normalisation").asText(Preprocessor.Normalisation.ZSCORE.cliName())
                    .equals(preprocessor.normalisation().cliName())) return false;
            if (!j.path("sources").toString().equals(sources(c).toString())) return false; // as text: int vs long nodes
            return Files.isRegularFile(imageFile(c.id())) && (!c.hasLabel() || Files.isRegularFile(labelFile(c.id())));
        } catch (IOException e) {
            return false; // unreadable sidecar: rebuild
        }
    }

    private ArrayNode sources(CaseRecord c) throws IOException {
        ArrayNode list = JSON.createArrayNode();
        for (Path f : c.files()) {
            ObjectNode s = list.addObject();
            s.put("path", f.toAbsolutePath().toString());
            s.put("size", Files.size(f));
            s.put("mtime", Files.getLastModifiedTime(f).toMillis());
        }
        return list;
    }

    private Path sidecar(String id) { return dir.resolve(id + ".json"); }
    private Path imageFile(String id) { return dir.resolve(id + ".f32"); }
    private Path labelFile(String id) { return dir.resolve(id + ".u8"); }

    void store(CaseRecord c, PreparedCase p) {
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(sidecar(c.id()));
            AtomicFiles.write(imageFile(c.id()), out -> {
                ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                float[] img = p.image();
                for (int i = 0; i < img.length; ) {
                    buf.clear();
                    int n = Math.min(img.length - i, buf.capacity() / 4);
                    buf.asFloatBuffer().put(img, i, n);
                    out.write(buf.array(), 0, n * 4);
                    i += n;
                }
            });
            if (p.hasLabels()) AtomicFiles.write(labelFile(c.id()), out -> out.write(p.labels()));
            ObjectNode j = JSON.createObjectNode();
            j.put("format", FORMAT);
            j.put("id", p.id());
            j.put("minCropSize", preprocessor.minCropSize());
            j.put("normalisation", preprocessor.normalisation().cliName());
            ArrayNode mods = j.putArray("modalities");
            ArrayNode avail = j.putArray("available");
            for (int i = 0; i < p.channels(); i++) {
                mods.add(p.modalities().get(i).name());
                avail.add(p.available()[i]);
            }
            j.put("depth", p.depth()).put("height", p.height()).put("width", p.width());
            CropBox b = p.crop();
            j.putArray("crop").add(b.x0()).add(b.y0()).add(b.z0()).add(b.nx()).add(b.ny()).add(b.nz());
            j.put("scheme", p.scheme().name());
            j.set("geometry", headerJson(p.geometry()));
            j.set("sources", sources(c));
            AtomicFiles.writeString(sidecar(c.id()), JSON.writeValueAsString(j));
        } catch (IOException e) {
            throw new DataException(dir, "cannot write cache entry for case " + c.id(), e);
        }
    }

    PreparedCase load(CaseRecord c) {
        Path side = sidecar(c.id());
        try {
            JsonNode j = JSON.readTree(side.toFile());
            List<Modality> mods = new ArrayList<>();
            j.path("modalities").forEach(m -> mods.add(Modality.of(m.asText())));
            boolean[] available = new boolean[mods.size()];
            for (int i = 0; i < available.length; i++) available[i] = j.path("available").get(i).asBoolean();
            int d = j.path("depth").asInt(), h = j.path("height").asInt(), w = j.path("width").asInt();
            JsonNode cb = j.path("crop");
            CropBox box = new CropBox(cb.get(0).asInt(), cb.get(1).asInt(), cb.get(2).asInt(), cb.get(3).asInt(),
                    cb.get(4).asInt(), cb.get(5).asInt());
            int n = d * h * w;
            float[] image = new float[mods.size() * n];
            try (FileChannel ch = FileChannel.open(imageFile(c.id()), StandardOpenOption.READ)) {
                if (ch.size() != (long) image.length * 4) {
                    throw new DataException(imageFile(c.id()), "has " + ch.size() + " bytes, expected " + (long) image.length * 4);
                }
                MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size());
                map.order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(image);
            }
            byte[] labels = null;
            if (Files.isRegularFile(labelFile(c.id()))) {
                labels = new byte[n];
                try (FileChannel ch = FileChannel.open(labelFile(c.id()), StandardOpenOption.READ)) {
                    if (ch.size() != n) throw new DataException(labelFile(c.id()), "has " + ch.size() + " bytes, expected " + n);
                    ch.map(FileChannel.MapMode.READ_ONLY, 0, n).get(labels);
                }
            }
            return new PreparedCase(j.path("id").asText(), mods, available, image, labels, d, h, w, box,
                    headerFromJson(j.path("geometry")), LabelScheme.valueOf(j.path("scheme").asText()));
        } catch (IOException | RuntimeException e) {
            if (e instanceof DataException de) throw de;
            throw new DataException(side, "cannot read cache entry", e);
        }
    }

    static ObjectNode headerJson(NiftiHeader h) {
        ObjectNode o = JSON.createObjectNode();
        o.put("version", h.version());
        o.put("bigEndian", h.byteOrder() == ByteOrder.BIG_ENDIAN);
        ArrayNode dim = o.putArray("dim");
        for (long v : h.dim()) dim.add(v);
        o.put("datatype", h.datatype());
        putDoubles(o, "pixdim", h.pixdim());
        o.put("voxOffset", h.voxOffset());
        o.put("sclSlope", h.sclSlope()).put("sclInter", h.sclInter());
        o.put("xyztUnits", h.xyztUnits()).put("qformCode", h.qformCode()).put("sformCode", h.sformCode());
        putDoubles(o, "quatern", h.quatern());
        putDoubles(o, "qoffset", h.qoffset());
        putDoubles(o, "srow", h.srow());
        o.put("intentCode", h.intentCode());
        o.put("descrip", h.descrip());
        return o;
    }

    private static void putDoubles(ObjectNode o, String key, double[] values) {
        ArrayNode a = o.putArray(key);
        for (double v : values) a.add(Double.isFinite(v) ? v : 0); // NaN scaling fields mean "none" anyway
    }

    static NiftiHeader headerFromJson(JsonNode o) {
        long[] dim = new long[8];
        for (int i = 0; i < 8; i++) dim[i] = o.path("dim").get(i).asLong();
        return new NiftiHeader(o.path("version").asInt(), o.path("bigEndian").asBoolean() ? ByteOrder.BIG_ENDIAN
                : ByteOrder.LITTLE_ENDIAN, dim, o.path("datatype").asInt(), doubles(o, "pixdim"),
                o.path("voxOffset").asLong(), o.path("sclSlope").asDouble(), o.path("sclInter").asDouble(),
                o.path("xyztUnits").asInt(), o.path("qformCode").asInt(), o.path("sformCode").asInt(),
                doubles(o, "quatern"), doubles(o, "qoffset"), doubles(o, "srow"), o.path("intentCode").asInt(),
                o.path("descrip").asText());
    }

    private static double[] doubles(JsonNode o, String key) {
        JsonNode a = o.path(key);
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) out[i] = a.get(i).asDouble();
        return out;
    }
}
