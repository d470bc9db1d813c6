package io.tiflink.tidb.table;

import io.tiflink.tidb.codec.BytesReader;
import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.Codec;
import io.tiflink.tidb.codec.CodecException;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tikv.Keys;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Encodes and decodes one table's rows exactly as TiDB does ({@code pkg/tablecodec}): record keys
 * {@code t<tableId>_r<handle>}, row values (format v2; v1 read too), and index entries {@code
 * t<tableId>_i<indexId><datums>[<handle>]} with TiDB's index value layouts. Rows are {@code
 * Object[]} indexed like {@link TableInfo#columns}, in the classes of {@link ColumnKind}.
 *
 * <p>For a partitioned table, pass the partition's id as {@code physicalId}. Thread-safe and meant
 * to be built once per table version.
 */
public final class TableCodec {
    static final byte[] RECORD_SEP = {'_', 'r'};
    static final byte[] INDEX_SEP = {'_', 'i'};
    private static final int PREFIX_LEN = 11;
    // Index value segment flags (pkg/tablecodec).
    private static final int INDEX_VERSION_FLAG = 125;
    private static final int PARTITION_ID_FLAG = 126;
    private static final int COMMON_HANDLE_FLAG = 127;
    private static final int MAX_OLD_ENCODE_VALUE_LEN = 9;

    private final TableInfo table;
    private final ColumnCodec[] columns;

    /** Stored columns (not the int handle, not virtual) in ascending id order. */
    private final ColumnCodec[] stored;

    private final int handleOffset;
    private final int[] pkOffsets;
    private final IndexInfo primary;

    public TableCodec(TableInfo table) {
        this.table = table;
        this.columns = new ColumnCodec[table.columns.size()];
        for (int i = 0; i < columns.length; i++) {
            ColumnInfo c = table.columns.get(i);
            if (c.offset != i) {
                throw new IllegalArgumentException(
                        "table '"
                                + table.name()
                                + "': column '"
                                + c.name()
                                + "' has offset "
                                + c.offset
                                + " but is at position "
                                + i);
            }
            columns[i] = new ColumnCodec(c);
        }
        ColumnInfo handleColumn = table.pkHandleColumn();
        this.handleOffset = handleColumn == null ? -1 : handleColumn.offset;
        List<ColumnCodec> s = new ArrayList<>();
        for (ColumnCodec c : columns) {
            if (c.info.offset != handleOffset && !c.info.isVirtualGenerated()) {
                s.add(c);
            }
        }
        s.sort(Comparator.comparingLong(ColumnCodec::id));
        this.stored = s.toArray(new ColumnCodec[0]);
        this.primary = table.primaryIndex();
        if (table.isCommonHandle) {
            if (primary == null) {
                throw new IllegalArgumentException(
                        "table '" + table.name() + "' is clustered but has no primary index");
            }
            pkOffsets = primary.columns.stream().mapToInt(c -> c.offset).toArray();
        } else {
            pkOffsets = new int[0];
        }
    }

    public TableInfo table() {
        return table;
    }

    /**
     * The value an INSERT that omits the column at {@code offset} gives it: its DEFAULT (null if
     * none), with {@code CURRENT_TIMESTAMP} evaluated now in UTC.
     *
     * @throws CodecException naming the column if the default is an expression TiDB alone can
     *     evaluate
     */
    public Object defaultValue(int offset) {
        return columns[offset].insertDefault();
    }

    // ---- keys ----

    /**
     * {@code t<physicalId>}: every key of a physical table (records and indexes) starts with it;
     * TiDB splits a new table's region here ({@code tablecodec.GenTablePrefix}).
     */
    public static byte[] tablePrefix(long physicalId) {
        BytesWriter out = new BytesWriter(9);
        out.write('t');
        Codec.writeComparableInt(out, physicalId);
        return out.toByteArray();
    }

    /** {@code t<physicalId>_r}: every record key of a physical table starts with it. */
    public static byte[] recordPrefix(long physicalId) {
        BytesWriter out = new BytesWriter(PREFIX_LEN);
        out.write('t');
        Codec.writeComparableInt(out, physicalId);
        out.write(RECORD_SEP);
        return out.toByteArray();
    }

    /** {@code t<physicalId>_i<indexId>}: every key of one index starts with it. */
    public static byte[] indexPrefix(long physicalId, long indexId) {
        BytesWriter out = new BytesWriter(19);
        out.write('t');
        Codec.writeComparableInt(out, physicalId);
        out.write(INDEX_SEP);
        Codec.writeComparableInt(out, indexId);
        return out.toByteArray();
    }

    public static byte[] recordKey(long physicalId, Handle handle) {
        BytesWriter out = new BytesWriter(32);
        out.write('t');
        Codec.writeComparableInt(out, physicalId);
        out.write(RECORD_SEP);
        if (handle.isInt()) {
            Codec.writeComparableInt(out, handle.intValue());
        } else {
            out.write(handle.encodedUnsafe());
        }
        return out.toByteArray();
    }

    /** Whether {@code key} is a record key ({@code t..._r...}). */
    public static boolean isRecordKey(byte[] key) {
        return key.length > PREFIX_LEN && key[0] == 't' && key[9] == '_' && key[10] == 'r';
    }

    /** Whether {@code key} is an index key ({@code t..._i...}). */
    public static boolean isIndexKey(byte[] key) {
        return key.length >= 19 && key[0] == 't' && key[9] == '_' && key[10] == 'i';
    }

    /** The index id of an index key. */
    public static long indexId(byte[] indexKey) {
        if (!isIndexKey(indexKey)) {
            throw new CodecException("not an index key: " + Keys.hex(indexKey));
        }
        return Codec.readComparableInt(new BytesReader(indexKey, PREFIX_LEN, PREFIX_LEN + 8));
    }

    /** The physical table id of a table key. */
    public static long physicalId(byte[] key) {
        if (key.length < 9 || key[0] != 't') {
            throw new CodecException("not a table key: " + Keys.hex(key));
        }
        return Codec.readComparableInt(new BytesReader(key, 1, 9));
    }

    /** The handle of a record key of this table. */
    public Handle handle(byte[] recordKey) {
        if (!isRecordKey(recordKey)) {
            throw new CodecException("not a record key: " + Keys.hex(recordKey));
        }
        if (table.isCommonHandle) {
            return Handle.ofCommon(Arrays.copyOfRange(recordKey, PREFIX_LEN, recordKey.length));
        }
        if (recordKey.length != PREFIX_LEN + 8) {
            throw new CodecException(
                    "record key of table '"
                            + table.name()
                            + "' is not an int handle: "
                            + Keys.hex(recordKey));
        }
        return Handle.ofInt(
                Codec.readComparableInt(new BytesReader(recordKey, PREFIX_LEN, recordKey.length)));
    }

    /**
     * The handle of a row: its integer primary key, or its clustered primary key encoded. Tables
     * keyed by {@code _tidb_rowid} have none in the row: use {@link Handle#ofInt} with the row id.
     */
    public Handle handleOf(Object[] row) {
        if (handleOffset >= 0) {
            Object v = columns[handleOffset].normalize(row[handleOffset]);
            if (v == null) {
                throw new CodecException(
                        "primary key column '" + columns[handleOffset].name() + "' is null");
            }
            return Handle.ofInt(v instanceof BigInteger ? ((BigInteger) v).longValue() : (Long) v);
        }
        if (table.isCommonHandle) {
            BytesWriter out = new BytesWriter(32);
            for (int i = 0; i < pkOffsets.length; i++) {
                ColumnCodec c = columns[pkOffsets[i]];
                Object v = truncate(c, primary.columns.get(i), c.normalize(row[pkOffsets[i]]));
                if (v == null) {
                    throw new CodecException("primary key column '" + c.name() + "' is null");
                }
                c.writeKey(out, v);
            }
            return Handle.ofCommon(out.toByteArray());
        }
        throw new IllegalStateException(
                "table '" + table.name() + "' is keyed by _tidb_rowid: the row holds no handle");
    }

    // ---- rows ----

    /** The row value (format v2) of a row; the integer handle column is not stored. */
    public byte[] encodeValue(Object[] row) {
        checkWidth(row);
        long[] ids = new long[stored.length];
        byte[][] payloads = new byte[stored.length][];
        BytesWriter scratch = new BytesWriter(64);
        for (int i = 0; i < stored.length; i++) {
            ColumnCodec c = stored[i];
            ids[i] = c.id();
            Object v = c.normalize(row[c.info.offset]);
            if (v != null) {
                scratch.truncate(0);
                c.writeRowV2(scratch, v);
                payloads[i] = scratch.toByteArray();
            }
        }
        BytesWriter out = new BytesWriter(64);
        RowV2.write(out, ids, payloads);
        return out.toByteArray();
    }

    /**
     * Decodes a record: the columns in the value (format v2 or v1), the handle columns from the
     * key, and for columns the value lacks (added after it was written) their origin default.
     */
    public Object[] decode(byte[] recordKey, byte[] value) {
        if (value == null || value.length == 0) {
            throw new CodecException("empty row value for key " + Keys.hex(recordKey));
        }
        Object[] row = new Object[columns.length];
        boolean[] found = new boolean[columns.length];
        if ((value[0] & 0xFF) == RowV2.CODEC_VER) {
            RowV2 r = new RowV2(value);
            for (ColumnCodec c : columns) {
                int i = r.findNotNull(c.id());
                if (i >= 0) {
                    row[c.info.offset] = c.readRowV2(r.bytes(), r.valueStart(i), r.valueLength(i));
                    found[c.info.offset] = true;
                } else if (r.isNull(c.id())) {
                    found[c.info.offset] = true;
                }
            }
        } else {
            decodeV1(value, row, found);
        }
        fillFromKey(recordKey, row, found);
        for (ColumnCodec c : columns) {
            int o = c.info.offset;
            if (!found[o] && !c.info.isVirtualGenerated()) {
                row[o] = c.originDefault();
            }
        }
        return row;
    }

    /**
     * The columns a record key holds (the primary key; nulls elsewhere), for deletes whose value is
     * gone.
     */
    public Object[] decodeKey(byte[] recordKey) {
        Object[] row = new Object[columns.length];
        fillFromKey(recordKey, row, new boolean[columns.length]);
        return row;
    }

    private void fillFromKey(byte[] key, Object[] row, boolean[] found) {
        if (handleOffset >= 0) {
            ColumnCodec c = columns[handleOffset];
            long h = handle(key).intValue();
            row[handleOffset] =
                    c.kind == ColumnKind.UINT64 ? new BigInteger(Long.toUnsignedString(h)) : h;
            found[handleOffset] = true;
            return;
        }
        if (!table.isCommonHandle) {
            return;
        }
        BytesReader in = new BytesReader(key, PREFIX_LEN, key.length);
        for (int i = 0; i < pkOffsets.length; i++) {
            ColumnCodec c = columns[pkOffsets[i]];
            if (found[c.info.offset]) {
                skipDatum(in);
                continue;
            }
            if (c.keyIsLossy() || primary.columns.get(i).length >= 0) {
                // The key holds a sort key or a prefix, not the value.
                skipDatum(in);
                continue;
            }
            row[c.info.offset] = c.readDatum(in);
            found[c.info.offset] = true;
        }
    }

    private void decodeV1(byte[] value, Object[] row, boolean[] found) {
        BytesReader in = new BytesReader(value);
        if (value.length == 1 && value[0] == ColumnCodec.NIL_FLAG) {
            return;
        }
        while (in.hasRemaining()) {
            int flag = in.readUnsignedByte();
            long id;
            if (flag == ColumnCodec.VARINT_FLAG) {
                id = Codec.readVarint(in);
            } else if (flag == ColumnCodec.INT_FLAG) {
                id = Codec.readComparableInt(in);
            } else {
                throw new CodecException("row format v1: column id has datum flag " + flag);
            }
            ColumnCodec c = byId(id);
            if (c == null) {
                // A dropped column: skip its datum.
                skipDatum(in);
                continue;
            }
            row[c.info.offset] = c.readDatum(in);
            found[c.info.offset] = true;
        }
    }

    private ColumnCodec byId(long id) {
        for (ColumnCodec c : columns) {
            if (c.id() == id) {
                return c;
            }
        }
        return null;
    }

    /** Skips one flagged datum of any type. */
    static void skipDatum(BytesReader in) {
        int flag = in.readUnsignedByte();
        switch (flag) {
            case ColumnCodec.NIL_FLAG:
                return;
            case ColumnCodec.INT_FLAG:
            case ColumnCodec.UINT_FLAG:
            case ColumnCodec.FLOAT_FLAG:
            case ColumnCodec.DURATION_FLAG:
                in.skip(8);
                return;
            case ColumnCodec.VARINT_FLAG:
            case ColumnCodec.UVARINT_FLAG:
                Codec.readUvarint(in);
                return;
            case ColumnCodec.BYTES_FLAG:
                Codec.readBytes(in);
                return;
            case ColumnCodec.COMPACT_BYTES_FLAG:
                Codec.readCompactBytes(in);
                return;
            case ColumnCodec.DECIMAL_FLAG:
                {
                    int precision = in.readUnsignedByte();
                    int frac = in.readUnsignedByte();
                    in.skip(io.tiflink.tidb.types.MyDecimal.binSize(precision, frac));
                    return;
                }
            case ColumnCodec.JSON_FLAG:
                in.skip(io.tiflink.tidb.types.BinaryJson.length(in.array(), in.position()));
                return;
            default:
                throw new CodecException("unknown datum flag " + flag);
        }
    }

    private void checkWidth(Object[] row) {
        if (row.length != columns.length) {
            throw new IllegalArgumentException(
                    "table '"
                            + table.name()
                            + "' has "
                            + columns.length
                            + " columns, the row has "
                            + row.length);
        }
    }

    // ---- whole records ----

    /**
     * The record and every index entry of a row, as TiDB's INSERT writes them. {@code handle} is
     * {@link #handleOf} for tables with a primary key handle, or the row id for {@code _tidb_rowid}
     * tables.
     */
    public List<KeyValue> encodeRecord(long physicalId, Object[] row, Handle handle) {
        List<KeyValue> out = new ArrayList<>(1 + table.indices.size());
        out.add(new KeyValue(recordKey(physicalId, handle), encodeValue(row)));
        for (IndexInfo idx : table.indices) {
            if (writesIndex(idx)) {
                out.add(indexEntry(physicalId, idx, row, handle));
            }
        }
        return out;
    }

    /**
     * The keys a delete of this row removes: the record and its entry in each index, those being
     * added or dropped too (delete-only and delete reorganization included), as TiDB's DELETE does.
     */
    public List<byte[]> recordKeys(long physicalId, Object[] row, Handle handle) {
        List<byte[]> out = new ArrayList<>(1 + table.indices.size());
        out.add(recordKey(physicalId, handle));
        for (IndexInfo idx : table.indices) {
            if (idx.deletable() && hasEntries(idx)) {
                out.add(indexEntry(physicalId, idx, row, handle).key());
            }
        }
        return out;
    }

    private boolean writesIndex(IndexInfo idx) {
        return idx.writable() && hasEntries(idx);
    }

    private boolean hasEntries(IndexInfo idx) {
        if (idx.primary && table.isCommonHandle) {
            return false; // the clustered primary key is the record itself
        }
        if (idx.global || idx.mvIndex) {
            throw new CodecException(
                    "index '"
                            + idx.name.o
                            + "' of table '"
                            + table.name()
                            + "' is "
                            + (idx.global ? "a global" : "a multi-valued")
                            + " index, which TiFlink cannot write");
        }
        return true;
    }

    /** One index entry of a row. */
    public KeyValue indexEntry(long physicalId, IndexInfo idx, Object[] row, Handle handle) {
        checkWidth(row);
        int n = idx.columns.size();
        Object[] values = indexValues(idx, row, n);
        boolean hasNull = false;
        for (Object v : values) {
            hasNull |= v == null;
        }
        boolean distinct = idx.unique && !hasNull;
        BytesWriter key = indexKey(physicalId, idx, values);
        if (!distinct) {
            if (handle.isInt()) {
                key.write(ColumnCodec.INT_FLAG);
                Codec.writeComparableInt(key, handle.intValue());
            } else {
                key.write(handle.encodedUnsafe());
            }
        }
        return new KeyValue(key.toByteArray(), indexValue(idx, values, row, handle, distinct));
    }

    /**
     * The start of the keys of {@code idx}'s entries whose first {@code n} columns hold {@code
     * row}'s values (as the index keeps them: normalized, a prefix column truncated). With every
     * column of a unique index and no null among them, it is the whole key of the one entry.
     */
    public byte[] indexKeyPrefix(long physicalId, IndexInfo idx, Object[] row, int n) {
        checkWidth(row);
        return indexKey(physicalId, idx, indexValues(idx, row, n)).toByteArray();
    }

    /**
     * The start of the record keys of a clustered table whose first {@code n} primary key columns
     * hold {@code row}'s values.
     */
    public byte[] recordKeyPrefix(long physicalId, Object[] row, int n) {
        checkWidth(row);
        if (!table.isCommonHandle) {
            throw new IllegalStateException("table '" + table.name() + "' is not clustered");
        }
        BytesWriter out = new BytesWriter(32);
        out.write(recordPrefix(physicalId));
        Object[] values = indexValues(primary, row, n);
        for (int i = 0; i < n; i++) {
            columns[pkOffsets[i]].writeKey(out, values[i]);
        }
        return out.toByteArray();
    }

    /**
     * The column's value as a key datum: two values TiDB takes for equal (under the column's
     * collation, after normalization) have the same datum; null for null.
     */
    public byte[] keyDatum(int offset, Object value) {
        ColumnCodec c = columns[offset];
        Object v = c.normalize(value);
        if (v == null) {
            return null;
        }
        BytesWriter out = new BytesWriter(16);
        c.writeKey(out, v);
        return out.toByteArray();
    }

    /** The first {@code n} column values of {@code idx} in {@code row}, as the index keeps them. */
    private Object[] indexValues(IndexInfo idx, Object[] row, int n) {
        Object[] values = new Object[n];
        for (int i = 0; i < n; i++) {
            IndexInfo.IndexColumn ic = idx.columns.get(i);
            ColumnCodec c = columns[ic.offset];
            values[i] = truncate(c, ic, c.normalize(row[ic.offset]));
        }
        return values;
    }

    private BytesWriter indexKey(long physicalId, IndexInfo idx, Object[] values) {
        BytesWriter key = new BytesWriter(64);
        key.write('t');
        Codec.writeComparableInt(key, physicalId);
        key.write(INDEX_SEP);
        Codec.writeComparableInt(key, idx.id);
        for (int i = 0; i < values.length; i++) {
            columns[idx.columns.get(i).offset].writeKey(key, values[i]);
        }
        return key;
    }

    private byte[] indexValue(
            IndexInfo idx, Object[] values, Object[] row, Handle handle, boolean distinct) {
        boolean needRestored = false;
        for (IndexInfo.IndexColumn ic : idx.columns) {
            needRestored |= columns[ic.offset].needsRestoredData();
        }
        BytesWriter out = new BytesWriter(32);
        if (table.isCommonHandle && table.commonHandleVersion == 1) {
            // IndexValueForClusteredIndexVersion1: TailLen | VersionFlag | 1 | options.
            out.write(0).write(INDEX_VERSION_FLAG).write(1);
            if (distinct) {
                writeCommonHandle(out, handle);
            }
            List<Long> ids = new ArrayList<>();
            List<byte[]> payloads = new ArrayList<>();
            if (needRestored) {
                for (int i = 0; i < values.length; i++) {
                    ColumnCodec c = columns[idx.columns.get(i).offset];
                    if (c.info.isPrimaryKey() || !c.needsRestoredData()) {
                        continue;
                    }
                    addRestored(ids, payloads, c, values[i], false);
                }
            }
            for (int i = 0; i < pkOffsets.length; i++) {
                ColumnCodec c = columns[pkOffsets[i]];
                if (c.needsRestoredData()) {
                    Object v = truncate(c, primary.columns.get(i), c.normalize(row[pkOffsets[i]]));
                    addRestored(ids, payloads, c, v, true);
                }
            }
            if (!ids.isEmpty()) {
                writeRestored(out, ids, payloads);
            }
            return out.toByteArray();
        }
        if (needRestored || (!handle.isInt() && distinct)) {
            // IndexValueVersion0: TailLen | options | padding | [IntHandle].
            out.write(0);
            if (!handle.isInt() && distinct) {
                writeCommonHandle(out, handle);
            }
            if (needRestored) {
                List<Long> ids = new ArrayList<>();
                List<byte[]> payloads = new ArrayList<>();
                BytesWriter scratch = new BytesWriter(32);
                for (int i = 0; i < values.length; i++) {
                    ColumnCodec c = columns[idx.columns.get(i).offset];
                    ids.add(c.id());
                    if (values[i] == null) {
                        payloads.add(null);
                    } else {
                        scratch.truncate(0);
                        c.writeRowV2(scratch, values[i]);
                        payloads.add(scratch.toByteArray());
                    }
                }
                writeRestored(out, ids, payloads);
            }
            int tail = 0;
            if (handle.isInt() && distinct) {
                tail = 8;
                out.writeLongBE(handle.intValue());
            } else if (out.length() < 10) {
                tail = 10 - out.length();
                out.writeZeros(tail);
            }
            out.put(0, tail);
            return out.toByteArray();
        }
        // The old layout: the handle for a unique entry, else '0'.
        if (distinct) {
            out.writeLongBE(handle.intValue());
        } else {
            out.write('0');
        }
        return out.toByteArray();
    }

    private static void writeCommonHandle(BytesWriter out, Handle handle) {
        byte[] h = handle.encodedUnsafe();
        out.write(COMMON_HANDLE_FLAG).write(h.length >>> 8).write(h.length);
        out.write(h);
    }

    /** Restored data of one column: a _bin string keeps only its trailing space count. */
    private static void addRestored(
            List<Long> ids, List<byte[]> payloads, ColumnCodec c, Object v, boolean handleColumn) {
        ids.add(c.id());
        if (v == null) {
            payloads.add(null);
            return;
        }
        BytesWriter scratch = new BytesWriter(32);
        if (c.collator.isBinary()) {
            String s = (String) v;
            int spaces = 0;
            while (spaces < s.length() && s.charAt(s.length() - 1 - spaces) == ' ') {
                spaces++;
            }
            // TiDB writes an int datum for handle columns, a uint datum for index columns.
            if (handleColumn) {
                ColumnCodec.writeCompactInt(scratch, spaces);
            } else {
                ColumnCodec.writeCompactUint(scratch, spaces);
            }
        } else {
            c.writeRowV2(scratch, v);
        }
        payloads.add(scratch.toByteArray());
    }

    private static void writeRestored(BytesWriter out, List<Long> ids, List<byte[]> payloads) {
        Integer[] order = new Integer[ids.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingLong(ids::get));
        long[] sortedIds = new long[order.length];
        byte[][] sortedPayloads = new byte[order.length][];
        for (int i = 0; i < order.length; i++) {
            sortedIds[i] = ids.get(order[i]);
            sortedPayloads[i] = payloads.get(order[i]);
        }
        RowV2.write(out, sortedIds, sortedPayloads);
    }

    /** A prefix index keeps the first {@code length} characters (bytes for binary strings). */
    private static Object truncate(ColumnCodec c, IndexInfo.IndexColumn ic, Object v) {
        if (v == null || ic.length < 0) {
            return v;
        }
        if (v instanceof byte[]) {
            byte[] b = (byte[]) v;
            return b.length > ic.length ? Arrays.copyOf(b, ic.length) : b;
        }
        if (v instanceof String) {
            String s = (String) v;
            if (s.codePointCount(0, s.length()) > ic.length) {
                return s.substring(0, s.offsetByCodePoints(0, ic.length));
            }
        }
        return v;
    }

    /**
     * A key's values for messages, as TiDB prints a duplicate entry: the values at {@code offsets}
     * joined by '-' (bytes in hex).
     */
    public static String keyValues(Object[] row, int[] offsets) {
        StringBuilder sb = new StringBuilder();
        for (int o : offsets) {
            Object v = row[o];
            sb.append(sb.length() == 0 ? "" : "-")
                    .append(v instanceof byte[] ? Keys.hex((byte[]) v) : String.valueOf(v));
        }
        return sb.toString();
    }

    /**
     * The values of a row's key in {@code idx}, for messages: see {@link #keyValues(Object[],
     * int[])}.
     */
    public static String keyValues(Object[] row, IndexInfo idx) {
        return keyValues(row, idx.columns.stream().mapToInt(c -> c.offset).toArray());
    }

    /**
     * The handle an index entry points to: from the value for a unique entry, else from the key's
     * tail.
     */
    public Handle indexHandle(IndexInfo idx, byte[] key, byte[] value) {
        if (value.length <= MAX_OLD_ENCODE_VALUE_LEN) {
            if (value.length >= 8) {
                return Handle.ofInt(new BytesReader(value, 0, 8).readLongBE());
            }
        } else {
            int tail = value[0] & 0xFF;
            int p = 1;
            if ((value[1] & 0xFF) == INDEX_VERSION_FLAG) {
                p = 3;
            }
            if ((value[p] & 0xFF) == COMMON_HANDLE_FLAG) {
                int len = (value[p + 1] & 0xFF) << 8 | (value[p + 2] & 0xFF);
                return Handle.ofCommon(Arrays.copyOfRange(value, p + 3, p + 3 + len));
            }
            if (tail >= 8 && p == 1) {
                int at = value.length - tail;
                return Handle.ofInt(new BytesReader(value, at, at + 8).readLongBE());
            }
        }
        // Non-unique: the handle follows the index column datums in the key.
        BytesReader in = new BytesReader(key, 19, key.length);
        for (int i = 0; i < idx.columns.size(); i++) {
            skipDatum(in);
        }
        if (table.isCommonHandle) {
            return Handle.ofCommon(Arrays.copyOfRange(key, in.position(), key.length));
        }
        if (in.readUnsignedByte() != ColumnCodec.INT_FLAG) {
            throw new CodecException("index key has no int handle: " + Keys.hex(key));
        }
        return Handle.ofInt(Codec.readComparableInt(in));
    }
}
