package io.tiflink.connector.lookup;

import io.tiflink.tidb.codec.CodecException;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.SchemaState;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.annotation.Internal;

import org.tikv.kvproto.Kvrpcpb;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Reads the rows of a TiDB table whose lookup columns equal given values, at one TSO, the way TiDB
 * reads them by an index: keys on the integer handle or on every column of the clustered primary
 * key or of a unique index are point reads (batch gets of the record keys, or of the index keys
 * then the records); keys covering a prefix of an index are range scans of its entries (or of the
 * clustered records). Values are compared as TiDB compares them (their key datums: collation sort
 * keys for strings), and a null never matches.
 */
@Internal
public final class TableLookup {
    /** How the rows are found. */
    enum Path {
        INT_HANDLE,
        CLUSTERED_KEY,
        UNIQUE_INDEX,
        INDEX_RANGE,
        CLUSTERED_RANGE
    }

    private final TableInfo table;
    private final TableCodec codec;
    private final int[] keyOffsets;
    private final Path path;
    private final IndexInfo index;
    private final int prefix;

    private TableLookup(TableInfo table, int[] keyOffsets, Path path, IndexInfo index, int prefix) {
        this.table = table;
        this.codec = new TableCodec(table);
        this.keyOffsets = keyOffsets;
        this.path = path;
        this.index = index;
        this.prefix = prefix;
    }

    /**
     * The lookup on {@code keyColumns} of {@code table}: by the integer handle if it is one of
     * them, else by the index whose leading columns are the most of them (a unique index or the
     * clustered key covered whole first).
     *
     * @throws IllegalArgumentException naming the columns and the table's indexes when no index
     *     starts with one of them
     */
    public static TableLookup plan(
            String qualifiedTable, TableInfo table, List<String> keyColumns) {
        int[] offsets = new int[keyColumns.size()];
        boolean[] isKey = new boolean[table.columns.size()];
        for (int i = 0; i < offsets.length; i++) {
            ColumnInfo c = table.column(keyColumns.get(i));
            if (c == null) {
                throw new IllegalArgumentException(
                        "lookup column '"
                                + keyColumns.get(i)
                                + "' does not exist in TiDB table "
                                + qualifiedTable);
            }
            offsets[i] = c.offset;
            isKey[c.offset] = true;
        }
        ColumnInfo handle = table.pkHandleColumn();
        if (handle != null && isKey[handle.offset]) {
            return new TableLookup(table, offsets, Path.INT_HANDLE, null, 0);
        }
        IndexInfo best = null;
        int bestCovered = 0;
        int bestScore = -1;
        for (IndexInfo idx : table.indices) {
            if (idx.state != SchemaState.PUBLIC || idx.global || idx.mvIndex) {
                continue;
            }
            int covered = 0;
            while (covered < idx.columns.size() && isKey[idx.columns.get(covered).offset]) {
                covered++;
            }
            if (covered == 0) {
                continue;
            }
            boolean point = idx.unique && covered == idx.columns.size();
            boolean clustered = idx.primary && table.isCommonHandle;
            // A point read first, then the most columns, then the clustered key (one read less).
            int score = (point ? 1 << 20 : 0) + (covered << 1) + (clustered ? 1 : 0);
            if (score > bestScore) {
                best = idx;
                bestCovered = covered;
                bestScore = score;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException(
                    "a lookup on "
                            + keyColumns
                            + " of TiDB table "
                            + qualifiedTable
                            + " needs an index starting with one of these columns, and it has "
                            + describeIndexes(table)
                            + ": join on the columns of one of them");
        }
        boolean clustered = best.primary && table.isCommonHandle;
        Path path;
        if (best.unique && bestCovered == best.columns.size()) {
            path = clustered ? Path.CLUSTERED_KEY : Path.UNIQUE_INDEX;
        } else {
            path = clustered ? Path.CLUSTERED_RANGE : Path.INDEX_RANGE;
        }
        return new TableLookup(table, offsets, path, best, bestCovered);
    }

    private static String describeIndexes(TableInfo table) {
        StringJoiner all = new StringJoiner(", ");
        ColumnInfo handle = table.pkHandleColumn();
        if (handle != null) {
            all.add("PRIMARY (" + handle.name() + ")");
        }
        for (IndexInfo idx : table.indices) {
            StringJoiner cols = new StringJoiner(", ", idx.name.o + " (", ")");
            idx.columns.forEach(c -> cols.add(table.columns.get(c.offset).name()));
            all.add(cols.toString());
        }
        return all.length() == 0 ? "no index (rows keyed by _tidb_rowid)" : all.toString();
    }

    /**
     * The rows (in {@link TableInfo#columns} order) matching each of {@code keys}, read at {@code
     * ts}. A key is a row of the table's width with the lookup columns set.
     */
    public List<List<Object[]>> read(TxnClient client, long ts, List<Object[]> keys) {
        List<List<Object[]>> out = new ArrayList<>(keys.size());
        // Each key's datums for the final comparison; null: the key matches nothing.
        List<byte[][]> datums = new ArrayList<>(keys.size());
        for (Object[] key : keys) {
            out.add(new ArrayList<>());
            datums.add(datums(key));
        }
        // Record key -> the keys whose rows it may hold.
        Map<ByteKey, List<Integer>> records = new LinkedHashMap<>();
        List<Long> physicalIds = table.physicalIds();
        switch (path) {
            case INT_HANDLE:
            case CLUSTERED_KEY:
                for (int k = 0; k < keys.size(); k++) {
                    if (datums.get(k) != null) {
                        Handle h = codec.handleOf(keys.get(k));
                        for (long pid : physicalIds) {
                            add(records, TableCodec.recordKey(pid, h), k);
                        }
                    }
                }
                break;
            case UNIQUE_INDEX:
                {
                    Map<ByteKey, List<Integer>> entries = new LinkedHashMap<>();
                    for (int k = 0; k < keys.size(); k++) {
                        if (datums.get(k) != null) {
                            for (long pid : physicalIds) {
                                add(
                                        entries,
                                        codec.indexKeyPrefix(pid, index, keys.get(k), prefix),
                                        k);
                            }
                        }
                    }
                    Map<ByteKey, byte[]> found = client.get(ts, keysOf(entries));
                    for (Map.Entry<ByteKey, byte[]> e : found.entrySet()) {
                        byte[] key = e.getKey().bytes();
                        Handle h = codec.indexHandle(index, key, e.getValue());
                        byte[] record = TableCodec.recordKey(TableCodec.physicalId(key), h);
                        for (int k : entries.get(e.getKey())) {
                            add(records, record, k);
                        }
                    }
                    break;
                }
            case INDEX_RANGE:
            case CLUSTERED_RANGE:
                for (int k = 0; k < keys.size(); k++) {
                    if (datums.get(k) == null) {
                        continue;
                    }
                    for (long pid : physicalIds) {
                        byte[] start =
                                path == Path.INDEX_RANGE
                                        ? codec.indexKeyPrefix(pid, index, keys.get(k), prefix)
                                        : codec.recordKeyPrefix(pid, keys.get(k), prefix);
                        for (Kvrpcpb.KvPair p :
                                client.scan(ts, start, Keys.prefixEnd(start), Integer.MAX_VALUE)) {
                            byte[] key = p.getKey().toByteArray();
                            if (path == Path.CLUSTERED_RANGE) {
                                match(
                                        out,
                                        datums,
                                        k,
                                        codec.decode(key, p.getValue().toByteArray()));
                            } else {
                                Handle h =
                                        codec.indexHandle(index, key, p.getValue().toByteArray());
                                add(records, TableCodec.recordKey(pid, h), k);
                            }
                        }
                    }
                }
                break;
            default:
                throw new IllegalStateException("unknown path " + path);
        }
        if (!records.isEmpty()) {
            Map<ByteKey, byte[]> rows = client.get(ts, keysOf(records));
            for (Map.Entry<ByteKey, List<Integer>> r : records.entrySet()) {
                byte[] value = rows.get(r.getKey());
                if (value == null) {
                    continue;
                }
                Object[] row = codec.decode(r.getKey().bytes(), value);
                for (int k : r.getValue()) {
                    match(out, datums, k, row);
                }
            }
        }
        return out;
    }

    /** The key datums of a key's lookup columns; null if one is null (it matches no row). */
    private byte[][] datums(Object[] key) {
        byte[][] d = new byte[keyOffsets.length][];
        for (int i = 0; i < keyOffsets.length; i++) {
            try {
                d[i] = codec.keyDatum(keyOffsets[i], key[keyOffsets[i]]);
            } catch (CodecException e) {
                return null; // a value the column cannot hold equals none of its values
            }
            if (d[i] == null) {
                return null;
            }
        }
        return d;
    }

    /**
     * Adds {@code row} to key {@code k}'s rows if its lookup columns equal the key's: the index may
     * hold a prefix of a column, or cover only some of the lookup columns.
     */
    private void match(List<List<Object[]>> out, List<byte[][]> datums, int k, Object[] row) {
        byte[][] want = datums.get(k);
        for (int i = 0; i < keyOffsets.length; i++) {
            if (!Arrays.equals(want[i], codec.keyDatum(keyOffsets[i], row[keyOffsets[i]]))) {
                return;
            }
        }
        out.get(k).add(row);
    }

    private static void add(Map<ByteKey, List<Integer>> m, byte[] key, int k) {
        List<Integer> ks = m.computeIfAbsent(new ByteKey(key), x -> new ArrayList<>(1));
        if (ks.isEmpty() || ks.get(ks.size() - 1) != k) {
            ks.add(k);
        }
    }

    private static List<byte[]> keysOf(Map<ByteKey, ?> m) {
        List<byte[]> keys = new ArrayList<>(m.size());
        m.keySet().forEach(k -> keys.add(k.bytes()));
        return keys;
    }

    /** For messages: the planned path. */
    @Override
    public String toString() {
        return path + (index == null ? "" : " " + index.name.o + "[" + prefix + "]");
    }
}
