package io.tiflink.tidb.types;

import io.tiflink.tidb.codec.BytesReader;
import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.Codec;
import io.tiflink.tidb.codec.CodecException;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * TiDB's binary JSON ({@code types.BinaryJSON}): a type code byte, then the value. Objects and
 * arrays are {@code count u32 | size u32 | [key entries: offset u32, length u16] | value entries:
 * type u8, offset u32 (literals inline) | keys | values}, all little endian, object keys sorted
 * bytewise. Values here are JSON text, as TiDB prints it ({@code {"a": 1, "b": [true, null]}}).
 */
public final class BinaryJson {
    public static final int OBJECT = 0x01;
    public static final int ARRAY = 0x03;
    public static final int LITERAL = 0x04;
    public static final int INT64 = 0x09;
    public static final int UINT64 = 0x0a;
    public static final int FLOAT64 = 0x0b;
    public static final int STRING = 0x0c;
    public static final int OPAQUE = 0x0d;
    public static final int DATE = 0x0e;
    public static final int DATETIME = 0x0f;
    public static final int TIMESTAMP = 0x10;
    public static final int TIME = 0x11;

    private static final int LITERAL_NIL = 0x00;
    private static final int LITERAL_TRUE = 0x01;
    private static final int LITERAL_FALSE = 0x02;
    private static final int HEADER = 8;
    private static final int KEY_ENTRY = 6;
    private static final int VALUE_ENTRY = 5;
    private static final BigInteger MAX_UINT64 =
            BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

    private static final ObjectMapper MAPPER =
            new ObjectMapper()
                    .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS)
                    .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private BinaryJson() {}

    /** Encodes JSON text: the type code byte, then the value. */
    public static void write(BytesWriter out, String jsonText) {
        JsonNode node;
        try {
            node = MAPPER.readTree(jsonText);
        } catch (JsonProcessingException e) {
            throw new CodecException("invalid JSON text: " + e.getOriginalMessage(), e);
        }
        if (node == null || node.isMissingNode()) {
            throw new CodecException("invalid JSON text: empty");
        }
        int start = out.length();
        out.write(0);
        out.put(start, writeValue(out, node));
    }

    /** Writes the value of {@code node} and returns its type code. */
    private static int writeValue(BytesWriter out, JsonNode node) {
        if (node.isObject()) {
            List<Map.Entry<byte[], JsonNode>> fields = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                fields.add(Map.entry(Codec.utf8(f.getKey()), f.getValue()));
            }
            fields.sort((a, b) -> Arrays.compareUnsigned(a.getKey(), b.getKey()));
            int doc = out.length();
            out.writeLE(fields.size(), 4).writeZeros(4);
            int keyEntries = out.length();
            out.writeZeros(fields.size() * KEY_ENTRY);
            int valueEntries = out.length();
            out.writeZeros(fields.size() * VALUE_ENTRY);
            for (int i = 0; i < fields.size(); i++) {
                byte[] key = fields.get(i).getKey();
                if (key.length > 0xFFFF) {
                    throw new CodecException("JSON object key longer than 65535 bytes");
                }
                out.putLE(keyEntries + i * KEY_ENTRY, out.length() - doc, 4);
                out.putLE(keyEntries + i * KEY_ENTRY + 4, key.length, 2);
                out.write(key);
            }
            for (int i = 0; i < fields.size(); i++) {
                writeElement(out, doc, valueEntries + i * VALUE_ENTRY, fields.get(i).getValue());
            }
            out.putLE(doc + 4, out.length() - doc, 4);
            return OBJECT;
        }
        if (node.isArray()) {
            int doc = out.length();
            out.writeLE(node.size(), 4).writeZeros(4);
            int valueEntries = out.length();
            out.writeZeros(node.size() * VALUE_ENTRY);
            for (int i = 0; i < node.size(); i++) {
                writeElement(out, doc, valueEntries + i * VALUE_ENTRY, node.get(i));
            }
            out.putLE(doc + 4, out.length() - doc, 4);
            return ARRAY;
        }
        if (node.isNull()) {
            out.write(LITERAL_NIL);
            return LITERAL;
        }
        if (node.isBoolean()) {
            out.write(node.booleanValue() ? LITERAL_TRUE : LITERAL_FALSE);
            return LITERAL;
        }
        if (node.isIntegralNumber()) {
            BigInteger v = node.bigIntegerValue();
            if (v.bitLength() < 64) {
                out.writeLE(v.longValue(), 8);
                return INT64;
            }
            if (v.signum() > 0 && v.compareTo(MAX_UINT64) <= 0) {
                out.writeLE(v.longValue(), 8);
                return UINT64;
            }
            out.writeLE(Double.doubleToRawLongBits(v.doubleValue()), 8);
            return FLOAT64;
        }
        if (node.isNumber()) {
            out.writeLE(Double.doubleToRawLongBits(node.doubleValue()), 8);
            return FLOAT64;
        }
        byte[] s = Codec.utf8(node.textValue());
        Codec.writeUvarint(out, s.length);
        out.write(s);
        return STRING;
    }

    private static void writeElement(BytesWriter out, int doc, int entry, JsonNode node) {
        int elem = out.length();
        int type = writeValue(out, node);
        if (type == LITERAL) {
            int literal = out.get(elem);
            out.truncate(elem);
            out.put(entry, LITERAL);
            out.put(entry + 1, literal);
            return;
        }
        out.put(entry, type);
        out.putLE(entry + 1, elem - doc, 4);
    }

    /** The length of the type code and value starting at {@code off}. */
    public static int length(byte[] b, int off) {
        int type = b[off] & 0xFF;
        int v = off + 1;
        switch (type) {
            case OBJECT:
            case ARRAY:
                return 1 + (int) le(b, v + 4, 4);
            case LITERAL:
                return 2;
            case STRING:
                {
                    BytesReader in = new BytesReader(b, v, b.length);
                    long n = Codec.readUvarint(in);
                    return in.position() - off + (int) n;
                }
            case OPAQUE:
                {
                    BytesReader in = new BytesReader(b, v + 1, b.length);
                    long n = Codec.readUvarint(in);
                    return in.position() - off + (int) n;
                }
            default:
                return 9;
        }
    }

    /** Decodes a type code and value (the whole of {@code bytes}) to JSON text. */
    public static String toText(byte[] bytes) {
        if (bytes.length == 0) {
            throw new CodecException("empty binary JSON");
        }
        StringBuilder sb = new StringBuilder();
        appendValue(sb, bytes, bytes[0] & 0xFF, 1);
        return sb.toString();
    }

    private static void appendValue(StringBuilder sb, byte[] b, int type, int off) {
        switch (type) {
            case OBJECT:
            case ARRAY:
                appendContainer(sb, b, type, off);
                return;
            case LITERAL:
                int lit = b[off] & 0xFF;
                sb.append(lit == LITERAL_NIL ? "null" : lit == LITERAL_TRUE ? "true" : "false");
                return;
            case INT64:
                sb.append(le(b, off, 8));
                return;
            case UINT64:
                sb.append(Long.toUnsignedString(le(b, off, 8)));
                return;
            case FLOAT64:
                appendDouble(sb, Double.longBitsToDouble(le(b, off, 8)));
                return;
            case STRING:
                {
                    BytesReader in = new BytesReader(b, off, b.length);
                    int n = (int) Codec.readUvarint(in);
                    quote(sb, new String(b, in.position(), n, StandardCharsets.UTF_8));
                    return;
                }
            case OPAQUE:
                {
                    BytesReader in = new BytesReader(b, off + 1, b.length);
                    int n = (int) Codec.readUvarint(in);
                    byte[] data = Arrays.copyOfRange(b, in.position(), in.position() + n);
                    quote(
                            sb,
                            "base64:type"
                                    + (b[off] & 0xFF)
                                    + ":"
                                    + java.util.Base64.getEncoder().encodeToString(data));
                    return;
                }
            case DATE:
            case DATETIME:
            case TIMESTAMP:
                {
                    java.time.LocalDateTime t = PackedTime.unpack(le(b, off, 8));
                    String text =
                            t == null
                                    ? "0000-00-00"
                                    : type == DATE
                                            ? t.toLocalDate().toString()
                                            : TimeFormat.datetime(t, 6);
                    quote(sb, text);
                    return;
                }
            case TIME:
                quote(sb, TimeFormat.duration(java.time.Duration.ofNanos(le(b, off, 8)), 6));
                return;
            default:
                throw new CodecException("unknown binary JSON type code " + type);
        }
    }

    private static void appendContainer(StringBuilder sb, byte[] b, int type, int doc) {
        int count = (int) le(b, doc, 4);
        boolean object = type == OBJECT;
        sb.append(object ? '{' : '[');
        int valueEntries = doc + HEADER + (object ? count * KEY_ENTRY : 0);
        for (int i = 0; i < count; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            if (object) {
                int keyEntry = doc + HEADER + i * KEY_ENTRY;
                int keyOff = (int) le(b, keyEntry, 4);
                int keyLen = (int) le(b, keyEntry + 4, 2);
                quote(sb, new String(b, doc + keyOff, keyLen, StandardCharsets.UTF_8));
                sb.append(": ");
            }
            int entry = valueEntries + i * VALUE_ENTRY;
            int elemType = b[entry] & 0xFF;
            if (elemType == LITERAL) {
                appendValue(sb, b, LITERAL, entry + 1);
            } else {
                appendValue(sb, b, elemType, doc + (int) le(b, entry + 1, 4));
            }
        }
        sb.append(object ? '}' : ']');
    }

    private static void appendDouble(StringBuilder sb, double d) {
        double abs = Math.abs(d);
        if (abs != 0 && (abs < 1e-6 || abs >= 1e21)) {
            // Go's 'e' format: shortest digits, exponent without leading zeros.
            String s = Double.toString(d);
            int e = s.indexOf('E');
            String mantissa = s.substring(0, e);
            if (mantissa.endsWith(".0")) {
                mantissa = mantissa.substring(0, mantissa.length() - 2);
            }
            int exp = Integer.parseInt(s.substring(e + 1));
            sb.append(mantissa).append('e').append(exp < 0 ? '-' : '+').append(Math.abs(exp));
            return;
        }
        String plain =
                new java.math.BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
        sb.append(plain);
        if (plain.indexOf('.') < 0) {
            // TiDB keeps a float visibly a float: 3.0, not 3.
            sb.append(".0");
        }
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        JsonStringEncoder.getInstance().quoteAsString(s, sb);
        sb.append('"');
    }

    private static long le(byte[] b, int off, int n) {
        if (off + n > b.length) {
            throw new CodecException("truncated binary JSON at offset " + off);
        }
        long v = 0;
        for (int i = n - 1; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }
}
