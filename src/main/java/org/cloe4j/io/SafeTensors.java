package org.cloe4j.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The safetensors format (as read by PyTorch's {@code safetensors} loader): an 8-byte little-endian header length,
 * a JSON header mapping each tensor name to {dtype, shape, data_offsets} plus an optional {@code __metadata__} map of
 * strings, then the raw little-endian data. cloe4j writes and reads float32 ("F32") tensors.
 */
public final class SafeTensors {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A header larger than this is not a real checkpoint (and must not make us allocate gigabytes). */
    private static final long MAX_HEADER = 100L << 20;

    private SafeTensors() {
    }

    /** One tensor: its shape and float32 values. */
    public record Entry(long[] shape, float[] data) {
        public Entry {
            long n = 1;
            for (long d : shape) n *= d;
            if (n != data.length) {
                throw new IllegalArgumentException("shape " + java.util.Arrays.toString(shape) + " does not hold " + data.length + " values");
            }
        }

        public static Entry of(int[] shape, float[] data) {
            long[] s = new long[shape.length];
            for (int i = 0; i < s.length; i++) s[i] = shape[i];
            return new Entry(s, data);
        }
    }

    /** The tensors of a file, in file order, and its metadata. */
    public record Contents(Map<String, Entry> tensors, Map<String, String> metadata) {
    }

    /** Writes the tensors (in map order) and metadata to {@code file} through a temporary file and a rename. */
    public static void write(Path file, Map<String, Entry> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = header.putObject("__metadata__");
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Map.Entry<String, Entry> e : tensors.entrySet()) {
            ObjectNode t = header.putObject(e.getKey());
            t.put("dtype", "F32");
            var shape = t.putArray("shape");
            for (long d : e.getValue().shape()) shape.add(d);
            long bytes = (long) e.getValue().data().length * 4;
            var offs = t.putArray("data_offsets");
            offs.add(offset);
            offs.add(offset + bytes);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        // pad the header with spaces so the data starts 8-byte aligned (the format allows trailing white space)
        int padded = (json.length + 7) / 8 * 8;
        byte[] head = java.util.Arrays.copyOf(json, padded);
        java.util.Arrays.fill(head, json.length, padded, (byte) ' ');
        AtomicFiles.write(file, out -> {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(head.length);
            out.write(len.array());
            out.write(head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Entry e : tensors.values()) {
                for (float v : e.data()) {
                    if (!buf.hasRemaining()) flush(buf, out);
                    buf.putFloat(v);
                }
            }
            flush(buf, out);
        });
    }

    private static void flush(ByteBuffer buf, OutputStream out) throws IOException {
        out.write(buf.array(), 0, buf.position());
        buf.clear();
    }

    /** Reads a safetensors file of float32 tensors; a damaged file is an IOException naming it and the problem. */
    public static Contents read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new IOException(file + ": not a safetensors file (" + size + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size) {
                throw new IOException(file + ": corrupt safetensors header length " + headerLen + " (file has " + size + " bytes)");
            }
            ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
            readFully(ch, hb, 8, file);
            JsonNode header;
            try {
                header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new IOException(file + ": safetensors header is not valid JSON: " + e.getMessage(), e);
            }
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, Entry> tensors = new LinkedHashMap<>();
            Map<String, String> meta = new LinkedHashMap<>();
            List<Map.Entry<String, JsonNode>> fields = new ArrayList<>();
            header.fields().forEachRemaining(fields::add);
            for (Map.Entry<String, JsonNode> f : fields) {
                if (f.getKey().equals("__metadata__")) {
                    f.getValue().fields().forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                    continue;
                }
                JsonNode t = f.getValue();
                String dtype = t.path("dtype").asText();
                if (!dtype.equals("F32")) {
                    throw new IOException(file + ": tensor '" + f.getKey() + "' has dtype " + dtype + "; cloe4j reads F32 only");
                }
                JsonNode shapeNode = t.path("shape");
                long[] shape = new long[shapeNode.size()];
                long n = 1;
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = shapeNode.get(i).asLong();
                    n *= shape[i];
                }
                long begin = t.path("data_offsets").path(0).asLong(-1);
                long end = t.path("data_offsets").path(1).asLong(-1);
                if (begin < 0 || end < begin || end > dataLen || end - begin != n * 4 || n > Integer.MAX_VALUE) {
                    throw new IOException(file + ": tensor '" + f.getKey() + "' has offsets [" + begin + ", " + end
                            + ") that do not fit its shape " + java.util.Arrays.toString(shape) + " or the file ("
                            + dataLen + " data bytes): truncated or corrupt");
                }
                ByteBuffer data = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
                readFully(ch, data, dataStart + begin, file);
                float[] v = new float[(int) n];
                data.flip().asFloatBuffer().get(v);
                tensors.put(f.getKey(), new Entry(shape, v));
            }
            return new Contents(tensors, meta);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos, Path file) throws IOException {
        long p = pos;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, p);
            if (r < 0) throw new IOException(file + ": unexpected end of file at byte " + p + " (truncated?)");
            p += r;
        }
    }
}
