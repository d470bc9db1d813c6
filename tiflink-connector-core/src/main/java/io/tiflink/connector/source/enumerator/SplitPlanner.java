package io.tiflink.connector.source.enumerator;

import io.tiflink.cdc.client.KeyRange;
import io.tiflink.connector.source.HandleRange;
import io.tiflink.connector.source.split.CapturedTable;
import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.connector.source.split.StreamSplit;
import io.tiflink.tidb.meta.DBInfo;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.annotation.Internal;
import org.apache.flink.util.FlinkRuntimeException;

import org.tikv.common.TiSession;
import org.tikv.common.region.TiRegion;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Finds the captured tables (for the enumerator, and for the table source's checks at planning) and
 * cuts them into splits.
 */
@Internal
public final class SplitPlanner {
    private SplitPlanner() {}

    /**
     * The tables of {@code database} named {@code table} (compared as TiDB does, ignoring case), or
     * else matching it as a regular expression, as of {@code ts}.
     *
     * @throws FlinkRuntimeException naming the database or table when nothing matches
     */
    public static List<CapturedTable> tables(
            TiSession session, long ts, String database, String table) {
        MetaReader meta = new MetaReader(session, ts);
        DBInfo db = meta.database(database);
        if (db == null) {
            throw new FlinkRuntimeException("database '" + database + "' does not exist in TiDB");
        }
        List<CapturedTable> out = new ArrayList<>();
        List<TableInfo> all = meta.tables(db.id);
        for (TableInfo t : all) {
            if (t.name().equalsIgnoreCase(table) && !t.isView()) {
                return List.of(new CapturedTable(db.name(), db.id, t));
            }
        }
        Pattern pattern;
        try {
            pattern = Pattern.compile(table, Pattern.CASE_INSENSITIVE);
        } catch (PatternSyntaxException e) {
            pattern = null;
        }
        for (TableInfo t : all) {
            if (pattern != null && pattern.matcher(t.name()).matches() && !t.isView()) {
                out.add(new CapturedTable(db.name(), db.id, t));
            }
        }
        if (out.isEmpty()) {
            throw new FlinkRuntimeException(
                    "table '" + table + "' does not exist in TiDB database '" + database + "'");
        }
        return out;
    }

    /** The record keys of a physical table whose handle lies in {@code handles}. */
    public static KeyRange recordRange(TableInfo table, long physicalId, HandleRange handles) {
        byte[] prefix = TableCodec.recordPrefix(physicalId);
        byte[] end = prefix.clone();
        end[end.length - 1]++; // t<id>_r -> t<id>_s
        if (handles.isAll() || !table.pkIsHandle) {
            return KeyRange.of(prefix, end);
        }
        byte[] from = TableCodec.recordKey(physicalId, Handle.ofInt(handles.min()));
        byte[] to =
                handles.max() == Long.MAX_VALUE
                        ? end
                        : TableCodec.recordKey(physicalId, Handle.ofInt(handles.max() + 1));
        return KeyRange.of(from, to);
    }

    /** Snapshot splits: each table's record ranges cut at region boundaries. */
    static List<SnapshotSplit> snapshotSplits(
            TiSession session, List<CapturedTable> tables, HandleRange handles, long snapshotTs) {
        List<SnapshotSplit> splits = new ArrayList<>();
        for (CapturedTable t : tables) {
            for (long physicalId : t.info().physicalIds()) {
                KeyRange range = recordRange(t.info(), physicalId, handles);
                int n = 0;
                for (KeyRange part : byRegion(session, range)) {
                    splits.add(
                            new SnapshotSplit(
                                    "snapshot-" + physicalId + "-" + n++,
                                    t,
                                    physicalId,
                                    part,
                                    snapshotTs,
                                    null));
                }
            }
        }
        return splits;
    }

    /** One stream split per table, from {@code startTs}. */
    static List<StreamSplit> streamSplits(
            List<CapturedTable> tables, HandleRange handles, long startTs) {
        List<StreamSplit> splits = new ArrayList<>();
        for (CapturedTable t : tables) {
            List<KeyRange> ranges = new ArrayList<>();
            for (long physicalId : t.info().physicalIds()) {
                ranges.add(recordRange(t.info(), physicalId, handles));
            }
            splits.add(
                    new StreamSplit(
                            "stream-" + t.qualifiedName(), List.of(t), ranges, startTs, 0, null));
        }
        return splits;
    }

    private static List<KeyRange> byRegion(TiSession session, KeyRange range) {
        List<KeyRange> parts = new ArrayList<>();
        byte[] key = range.start();
        byte[] end = range.end();
        while (true) {
            TiRegion region = session.getRegionManager().getRegionByKey(ByteString.copyFrom(key));
            byte[] regionEnd = region.getEndKey().toByteArray();
            boolean last = regionEnd.length == 0 || Arrays.compareUnsigned(regionEnd, end) >= 0;
            parts.add(KeyRange.of(key, last ? end : regionEnd));
            if (last) {
                return parts;
            }
            key = regionEnd;
        }
    }
}
