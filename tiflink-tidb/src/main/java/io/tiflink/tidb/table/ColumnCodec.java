package io.tiflink.tidb.table;

import io.tiflink.tidb.codec.BytesReader;
import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.Codec;
import io.tiflink.tidb.codec.CodecException;
import io.tiflink.tidb.collation.Collator;
import io.tiflink.tidb.collation.Collators;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.types.BinaryJson;
import io.tiflink.tidb.types.MyDecimal;
import io.tiflink.tidb.types.MysqlType;
import io.tiflink.tidb.types.PackedTime;
import io.tiflink.tidb.types.TimeFormat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * One column's value encodings: the row format v2 payload, the flagged datum of keys and row format
 * v1, and the conversion of Java values to the column's {@link ColumnKind}.
 */
final class ColumnCodec {
    // Datum flags of pkg/util/codec.
    static final int NIL_FLAG = 0;
    static final int BYTES_FLAG = 1;
    static final int COMPACT_BYTES_FLAG = 2;
    static final int INT_FLAG = 3;
    static final int UINT_FLAG = 4;
    static final int FLOAT_FLAG = 5;
    static final int DECIMAL_FLAG = 6;
    static final int DURATION_FLAG = 7;
    static final int VARINT_FLAG = 8;
    static final int UVARINT_FLAG = 9;
    static final int JSON_FLAG = 10;

    private static final BigInteger MAX_UINT64 =
            BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);
    private static final long MAX_DURATION_NANOS = ((838L * 3600) + 59 * 60 + 59) * 1_000_000_000L;

    final ColumnInfo info;
    final ColumnKind kind;
    final Collator collator;
    private final boolean unsigned;
    private final List<String> elems;
    private final int fsp;
    private final Object originDefault;

    ColumnCodec(ColumnInfo info) {
        this.info = info;
        this.kind = ColumnKind.of(info);
        this.collator = kind == ColumnKind.STRING ? Collators.get(info.type.collate) : null;
        this.unsigned = info.type.isUnsigned() && kind == ColumnKind.INT;
        this.elems = info.type.elemsOrEmpty();
        this.fsp = Math.max(0, Math.min(6, info.type.decimal));
        this.originDefault = parseDefault(info.originDefault, info.originDefaultBit);
    }

    long id() {
        return info.id;
    }

    String name() {
        return info.name();
    }

    /** The value rows written before this column existed read as. */
    Object originDefault() {
        return originDefault;
    }

    private CodecException error(String what) {
        return new CodecException(
                "column '" + info.name() + "' (" + info.type.sqlName() + "): " + what);
    }

    // ---- Java values ----

    /**
     * The value in this column's representation; accepts the {@link ColumnKind} class and a few
     * obvious others (Integer for INT, String for BYTES, Long for ENUM index...).
     */
    Object normalize(Object v) {
        if (v == null) {
            return null;
        }
        try {
            switch (kind) {
                case INT:
                case YEAR:
                    {
                        long l =
                                v instanceof BigInteger
                                        ? ((BigInteger) v).longValueExact()
                                        : ((Number) v).longValue();
                        checkIntRange(l);
                        return l;
                    }
                case UINT64:
                    {
                        BigInteger b =
                                v instanceof BigInteger
                                        ? (BigInteger) v
                                        : BigInteger.valueOf(((Number) v).longValue());
                        if (b.signum() < 0 || b.compareTo(MAX_UINT64) > 0) {
                            throw error("value " + b + " out of range");
                        }
                        return b;
                    }
                case FLOAT:
                    return ((Number) v).floatValue();
                case DOUBLE:
                    return ((Number) v).doubleValue();
                case DECIMAL:
                    {
                        BigDecimal d =
                                v instanceof BigDecimal
                                        ? (BigDecimal) v
                                        : new BigDecimal(v.toString());
                        return d.setScale(Math.max(info.type.decimal, 0), RoundingMode.HALF_UP);
                    }
                case STRING:
                    {
                        String s =
                                v instanceof byte[]
                                        ? new String((byte[]) v, StandardCharsets.UTF_8)
                                        : v.toString();
                        // TiDB stores CHAR(n) without trailing spaces.
                        return info.type.tp == MysqlType.STRING ? stripTrailingSpaces(s) : s;
                    }
                case BYTES:
                    {
                        byte[] b = v instanceof byte[] ? (byte[]) v : Codec.utf8(v.toString());
                        // BINARY(n) is right-padded with zero bytes, as TiDB stores it.
                        if (info.type.tp == MysqlType.STRING && b.length < info.type.flen) {
                            b = Arrays.copyOf(b, info.type.flen);
                        }
                        return b;
                    }
                case DATE:
                    return v instanceof LocalDateTime
                            ? ((LocalDateTime) v).toLocalDate()
                            : (LocalDate) v;
                case DATETIME:
                    return roundFsp(
                            v instanceof LocalDate
                                    ? ((LocalDate) v).atStartOfDay()
                                    : (LocalDateTime) v);
                case TIMESTAMP:
                    return roundFsp(LocalDateTime.ofInstant((Instant) v, ZoneOffset.UTC))
                            .toInstant(ZoneOffset.UTC);
                case DURATION:
                    {
                        Duration d = (Duration) v;
                        long unit = pow10(9 - fsp);
                        // Half away from zero, as MySQL rounds fractional seconds.
                        long abs = Math.abs(d.toNanos());
                        long nanos = Long.signum(d.toNanos()) * ((abs + unit / 2) / unit * unit);
                        if (Math.abs(nanos) > MAX_DURATION_NANOS) {
                            throw error("value " + d + " out of TIME range");
                        }
                        return Duration.ofNanos(nanos);
                    }
                case BIT:
                    return ((Number) v).longValue();
                case ENUM:
                    {
                        if (v instanceof Number) {
                            int i = ((Number) v).intValue();
                            return i == 0 ? "" : elems.get(i - 1);
                        }
                        String s = v.toString();
                        enumIndex(s);
                        return s;
                    }
                case SET:
                    {
                        String s = v.toString();
                        setBits(s);
                        return s;
                    }
                case JSON:
                    return v.toString();
                default:
                    throw error("unsupported");
            }
        } catch (ClassCastException | ArithmeticException | NumberFormatException e) {
            throw error("cannot take a " + v.getClass().getSimpleName() + " value " + v);
        } catch (IndexOutOfBoundsException e) {
            throw error("no element " + v);
        }
    }

    private static String stripTrailingSpaces(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == ' ') {
            end--;
        }
        return s.substring(0, end);
    }

    private void checkIntRange(long l) {
        long[] range = kind == ColumnKind.YEAR ? null : info.type.intRange();
        if (range != null && (l < range[0] || l > range[1])) {
            throw error("value " + l + " out of range [" + range[0] + ", " + range[1] + "]");
        }
    }

    private LocalDateTime roundFsp(LocalDateTime t) {
        long unit = pow10(9 - fsp);
        long nanos = t.getNano();
        long rounded = (nanos + unit / 2) / unit * unit;
        return t.withNano(0).plusNanos(rounded);
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }

    private long enumIndex(String s) {
        if (s.isEmpty()) {
            return 0;
        }
        for (int i = 0; i < elems.size(); i++) {
            if (elems.get(i).equalsIgnoreCase(s)) {
                return i + 1;
            }
        }
        throw error("'" + s + "' is not one of " + elems);
    }

    private long setBits(String s) {
        long bits = 0;
        if (s.isEmpty()) {
            return 0;
        }
        for (String part : s.split(",")) {
            int i = -1;
            for (int j = 0; j < elems.size(); j++) {
                if (elems.get(j).equalsIgnoreCase(part)) {
                    i = j;
                    break;
                }
            }
            if (i < 0) {
                throw error("'" + part + "' is not one of " + elems);
            }
            bits |= 1L << i;
        }
        return bits;
    }

    private String setString(long bits) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < elems.size() && i < 64; i++) {
            if ((bits & (1L << i)) != 0) {
                if (sb.length() > 0) {
                    sb.append(',');
                }
                sb.append(elems.get(i));
            }
        }
        return sb.toString();
    }

    private String enumString(long index) {
        if (index == 0) {
            return "";
        }
        if (index < 0 || index > elems.size()) {
            throw error("enum index " + index + " has no element");
        }
        return elems.get((int) index - 1);
    }

    // ---- row format v2 payload ----

    /** Writes a normalized, non-null value as a row format v2 payload. */
    void writeRowV2(BytesWriter out, Object v) {
        switch (kind) {
            case INT:
            case YEAR:
                // Unsigned columns hold uint64 datums, which TiDB writes as compact uints.
                if (unsigned) {
                    writeCompactUint(out, (Long) v);
                } else {
                    writeCompactInt(out, (Long) v);
                }
                break;
            case UINT64:
                writeCompactUint(out, ((BigInteger) v).longValue());
                break;
            case FLOAT:
                Codec.writeComparableFloat(out, (Float) v);
                break;
            case DOUBLE:
                Codec.writeComparableFloat(out, (Double) v);
                break;
            case DECIMAL:
                writeDecimal(out, (BigDecimal) v);
                break;
            case STRING:
                out.write(Codec.utf8((String) v));
                break;
            case BYTES:
                out.write((byte[]) v);
                break;
            case DATE:
            case DATETIME:
            case TIMESTAMP:
                writeCompactUint(out, packTime(v));
                break;
            case DURATION:
                writeCompactInt(out, ((Duration) v).toNanos());
                break;
            case BIT:
                writeCompactUint(out, (Long) v);
                break;
            case ENUM:
                writeCompactUint(out, enumIndex((String) v));
                break;
            case SET:
                writeCompactUint(out, setBits((String) v));
                break;
            case JSON:
                BinaryJson.write(out, (String) v);
                break;
            default:
                throw error("unsupported");
        }
    }

    private void writeDecimal(BytesWriter out, BigDecimal v) {
        int precision = info.type.flen > 0 ? info.type.flen : 10;
        int frac = Math.max(info.type.decimal, 0);
        try {
            MyDecimal.write(out, v, precision, frac);
        } catch (CodecException e) {
            throw error(e.getMessage());
        }
    }

    private long packTime(Object v) {
        if (v instanceof LocalDate) {
            return PackedTime.pack((LocalDate) v);
        }
        if (v instanceof Instant) {
            return PackedTime.pack(LocalDateTime.ofInstant((Instant) v, ZoneOffset.UTC));
        }
        return PackedTime.pack((LocalDateTime) v);
    }

    /** Decodes a row format v2 payload of {@code len} bytes at {@code off}. */
    Object readRowV2(byte[] b, int off, int len) {
        switch (kind) {
            case INT:
            case YEAR:
                return unsigned ? readCompactUint(b, off, len) : readCompactInt(b, off, len);
            case UINT64:
                return toUnsignedBig(readCompactUint(b, off, len));
            case FLOAT:
                return (float) Codec.readComparableFloat(new BytesReader(b, off, off + len));
            case DOUBLE:
                return Codec.readComparableFloat(new BytesReader(b, off, off + len));
            case DECIMAL:
                return MyDecimal.read(new BytesReader(b, off, off + len));
            case STRING:
                return new String(b, off, len, StandardCharsets.UTF_8);
            case BYTES:
                return Arrays.copyOfRange(b, off, off + len);
            case DATE:
            case DATETIME:
            case TIMESTAMP:
                return fromPacked(readCompactUint(b, off, len));
            case DURATION:
                return Duration.ofNanos(readCompactInt(b, off, len));
            case BIT:
                return readCompactUint(b, off, len);
            case ENUM:
                return enumString(readCompactUint(b, off, len));
            case SET:
                return setString(readCompactUint(b, off, len));
            case JSON:
                return BinaryJson.toText(Arrays.copyOfRange(b, off, off + len));
            default:
                throw error("unsupported");
        }
    }

    private Object fromPacked(long packed) {
        LocalDateTime t = PackedTime.unpack(packed);
        if (t == null) {
            return null;
        }
        switch (kind) {
            case DATE:
                return t.toLocalDate();
            case TIMESTAMP:
                return t.toInstant(ZoneOffset.UTC);
            default:
                return t;
        }
    }

    static void writeCompactInt(BytesWriter out, long v) {
        if (v == (byte) v) {
            out.write((int) v);
        } else if (v == (short) v) {
            out.writeLE(v, 2);
        } else if (v == (int) v) {
            out.writeLE(v, 4);
        } else {
            out.writeLE(v, 8);
        }
    }

    static void writeCompactUint(BytesWriter out, long v) {
        if ((v & ~0xFFL) == 0) {
            out.write((int) v);
        } else if ((v & ~0xFFFFL) == 0) {
            out.writeLE(v, 2);
        } else if ((v & ~0xFFFFFFFFL) == 0) {
            out.writeLE(v, 4);
        } else {
            out.writeLE(v, 8);
        }
    }

    static long readCompactUint(byte[] b, int off, int len) {
        if (len != 1 && len != 2 && len != 4 && len != 8) {
            throw new CodecException("invalid compact integer length " + len);
        }
        long v = 0;
        for (int i = len - 1; i >= 0; i--) {
            v = (v << 8) | (b[off + i] & 0xFF);
        }
        return v;
    }

    static long readCompactInt(byte[] b, int off, int len) {
        long u = readCompactUint(b, off, len);
        int shift = 64 - 8 * len;
        return (u << shift) >> shift;
    }

    private static BigInteger toUnsignedBig(long v) {
        BigInteger b = BigInteger.valueOf(v & Long.MAX_VALUE);
        return v < 0 ? b.setBit(63) : b;
    }

    // ---- flagged datums: keys (comparable) ----

    /** Writes a normalized value (or null) as a key datum ({@code codec.EncodeKey}). */
    void writeKey(BytesWriter out, Object v) {
        if (v == null) {
            out.write(NIL_FLAG);
            return;
        }
        switch (kind) {
            case INT:
            case YEAR:
                if (unsigned) {
                    out.write(UINT_FLAG);
                    Codec.writeComparableUint(out, (Long) v);
                } else {
                    out.write(INT_FLAG);
                    Codec.writeComparableInt(out, (Long) v);
                }
                break;
            case UINT64:
                out.write(UINT_FLAG);
                Codec.writeComparableUint(out, ((BigInteger) v).longValue());
                break;
            case FLOAT:
                out.write(FLOAT_FLAG);
                Codec.writeComparableFloat(out, (Float) v);
                break;
            case DOUBLE:
                out.write(FLOAT_FLAG);
                Codec.writeComparableFloat(out, (Double) v);
                break;
            case DECIMAL:
                out.write(DECIMAL_FLAG);
                writeDecimal(out, (BigDecimal) v);
                break;
            case STRING:
                out.write(BYTES_FLAG);
                Codec.writeBytes(out, collator.key((String) v));
                break;
            case BYTES:
                out.write(BYTES_FLAG);
                Codec.writeBytes(out, (byte[]) v);
                break;
            case DATE:
            case DATETIME:
            case TIMESTAMP:
                out.write(UINT_FLAG);
                Codec.writeComparableUint(out, packTime(v));
                break;
            case DURATION:
                out.write(DURATION_FLAG);
                Codec.writeComparableInt(out, ((Duration) v).toNanos());
                break;
            case BIT:
                out.write(UINT_FLAG);
                Codec.writeComparableUint(out, (Long) v);
                break;
            case ENUM:
                out.write(UINT_FLAG);
                Codec.writeComparableUint(out, enumIndex((String) v));
                break;
            case SET:
                out.write(UINT_FLAG);
                Codec.writeComparableUint(out, setBits((String) v));
                break;
            default:
                throw error("cannot be part of a key");
        }
    }

    /**
     * Reads one flagged datum (key or row format v1) and converts it to this column's kind. Keys of
     * non-binary collations hold sort keys, not strings: callers must not decode those.
     */
    Object readDatum(BytesReader in) {
        int flag = in.readUnsignedByte();
        switch (flag) {
            case NIL_FLAG:
                return null;
            case INT_FLAG:
                return fromLong(Codec.readComparableInt(in), false);
            case UINT_FLAG:
                return fromLong(Codec.readComparableUint(in), true);
            case VARINT_FLAG:
                return fromLong(Codec.readVarint(in), false);
            case UVARINT_FLAG:
                return fromLong(Codec.readUvarint(in), true);
            case FLOAT_FLAG:
                {
                    double d = Codec.readComparableFloat(in);
                    return kind == ColumnKind.FLOAT ? (Object) (float) d : (Object) d;
                }
            case DECIMAL_FLAG:
                return MyDecimal.read(in);
            case DURATION_FLAG:
                return Duration.ofNanos(Codec.readComparableInt(in));
            case BYTES_FLAG:
                return fromBytes(Codec.readBytes(in));
            case COMPACT_BYTES_FLAG:
                return fromBytes(Codec.readCompactBytes(in));
            case JSON_FLAG:
                {
                    int start = in.position();
                    int n = BinaryJson.length(in.array(), start);
                    in.skip(n);
                    return BinaryJson.toText(Arrays.copyOfRange(in.array(), start, start + n));
                }
            default:
                throw error("unknown datum flag " + flag + " at offset " + (in.position() - 1));
        }
    }

    private Object fromLong(long v, boolean unsigned) {
        switch (kind) {
            case INT:
            case YEAR:
            case BIT:
                return v;
            case UINT64:
                return unsigned ? toUnsignedBig(v) : BigInteger.valueOf(v);
            case DATE:
            case DATETIME:
            case TIMESTAMP:
                return fromPacked(v);
            case DURATION:
                return Duration.ofNanos(v);
            case ENUM:
                return enumString(v);
            case SET:
                return setString(v);
            case FLOAT:
                return (float) v;
            case DOUBLE:
                return (double) v;
            case DECIMAL:
                return unsigned ? new BigDecimal(toUnsignedBig(v)) : BigDecimal.valueOf(v);
            default:
                throw error("cannot hold an integer datum");
        }
    }

    private Object fromBytes(byte[] b) {
        switch (kind) {
            case STRING:
                return new String(b, StandardCharsets.UTF_8);
            case BYTES:
                return b;
            case JSON:
                return BinaryJson.toText(b);
            default:
                throw error("cannot hold a bytes datum");
        }
    }

    // ---- defaults ----

    /**
     * The value an INSERT that omits the column gives it: its DEFAULT, with {@code
     * CURRENT_TIMESTAMP} evaluated now (in UTC: there is no session time zone).
     */
    Object insertDefault() {
        Object d = info.defaultValue;
        if (d != null
                && d.toString().toUpperCase(java.util.Locale.ROOT).startsWith("CURRENT_TIMESTAMP")
                && (kind == ColumnKind.DATETIME || kind == ColumnKind.TIMESTAMP)) {
            Instant now = Instant.now();
            return kind == ColumnKind.TIMESTAMP
                    ? normalize(now)
                    : normalize(LocalDateTime.ofInstant(now, ZoneOffset.UTC));
        }
        if (info.defaultIsExpr) {
            throw error("DEFAULT expression " + d + " cannot be evaluated outside TiDB");
        }
        return parseDefault(d, info.defaultBit);
    }

    private Object parseDefault(Object text, String bitBase64) {
        if (kind == ColumnKind.BIT && bitBase64 != null) {
            long v = 0;
            for (byte x : Base64.getDecoder().decode(bitBase64)) {
                v = (v << 8) | (x & 0xFF);
            }
            return v;
        }
        if (text == null) {
            return null;
        }
        String s = text.toString();
        try {
            switch (kind) {
                case INT:
                case YEAR:
                case BIT:
                    return normalize(new BigDecimal(s).longValueExact());
                case UINT64:
                    return normalize(new BigInteger(s));
                case FLOAT:
                case DOUBLE:
                    return normalize(Double.parseDouble(s));
                case DECIMAL:
                    return normalize(new BigDecimal(s));
                case DATE:
                    return s.startsWith("0000-00-00")
                            ? null
                            : TimeFormat.parseDatetime(s).toLocalDate();
                case DATETIME:
                    return s.startsWith("0000-00-00")
                            ? null
                            : normalize(TimeFormat.parseDatetime(s));
                case TIMESTAMP:
                    // TiDB keeps timestamp defaults in UTC (ColumnInfo version >= 1).
                    return s.startsWith("0000-00-00")
                            ? null
                            : normalize(TimeFormat.parseDatetime(s).toInstant(ZoneOffset.UTC));
                case DURATION:
                    return normalize(TimeFormat.parseDuration(s));
                default:
                    return normalize(s);
            }
        } catch (RuntimeException e) {
            throw error("invalid default value '" + s + "': " + e.getMessage());
        }
    }

    /** Whether an index key's bytes for this column are not the value itself (a sort key). */
    boolean keyIsLossy() {
        return kind == ColumnKind.STRING && !(collator.isBinary() && !collator.padSpace());
    }

    /**
     * {@code types.NeedRestoredData}: the key loses something the index value must keep. A _bin
     * (PAD SPACE) varchar loses trailing spaces; char and text under _bin keep none worth
     * restoring, and utf8mb4_0900_bin keys are the bytes themselves.
     */
    boolean needsRestoredData() {
        if (kind != ColumnKind.STRING) {
            return false;
        }
        if (collator.isBinary()) {
            boolean varchar =
                    info.type.tp == MysqlType.VARCHAR || info.type.tp == MysqlType.VAR_STRING;
            return varchar && collator.padSpace();
        }
        return true;
    }
}
