package io.tiflink.connector.source.reader;

import io.tiflink.cdc.client.KeyChange;
import io.tiflink.connector.source.TiDBChange;
import io.tiflink.connector.source.TiKVDeserializationSchema;
import io.tiflink.connector.source.split.CapturedTable;
import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.tidb.meta.MetaJson;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.TxnSource;

import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.connector.base.source.reader.RecordEmitter;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.util.Collector;
import org.apache.flink.util.FlinkRuntimeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Decodes what the split reader fetched into {@link TiDBChange}s, hands them to the deserialization
 * schema, and moves the split's position: the last snapshot key, or the last change and resolved ts
 * of a stream, whose resolved ts also becomes the split's watermark.
 */
final class TiKVRecordEmitter<T> implements RecordEmitter<TiKVRecord, T, TiKVSplitState> {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVRecordEmitter.class);

    private final TiKVDeserializationSchema<T> deserializer;
    private final OutputCollector<T> collector = new OutputCollector<>();

    /** Snapshot rows carry {@link Long#MIN_VALUE}: the cut operator lets them pass at once. */
    private final boolean consistent;

    /** Marks ({@link TxnSource#cdcWriteSource}) of transactions whose row changes are dropped. */
    private final Set<Long> skippedTxnSources;

    private final TiKVSourceReaderMetrics metrics;

    TiKVRecordEmitter(
            TiKVDeserializationSchema<T> deserializer,
            boolean consistent,
            Set<Long> skippedTxnSources,
            TiKVSourceReaderMetrics metrics) {
        this.deserializer = deserializer;
        this.consistent = consistent;
        this.skippedTxnSources = skippedTxnSources;
        this.metrics = metrics;
    }

    @Override
    public void emitRecord(TiKVRecord record, SourceOutput<T> output, TiKVSplitState state)
            throws Exception {
        collector.output = output;
        if (record.isSnapshot()) {
            metrics.snapshotRow(record.key.length + record.value.length);
            SnapshotSplit split = state.split().asSnapshot();
            CapturedTable table = split.table();
            collector.timestamp = consistent ? Long.MIN_VALUE : physicalMillis(split.snapshotTs());
            deserializer.deserialize(
                    new TiDBChange(
                            TiDBChange.Kind.SNAPSHOT,
                            table.database(),
                            table.info(),
                            null,
                            table.codec().decode(record.key, record.value),
                            0),
                    collector);
            state.lastKey = record.key;
        } else if (record.isChange()) {
            KeyChange c = record.change;
            metrics.keyChange(c.key().length + c.value().length + c.oldValue().length);
            if (!TableCodec.isRecordKey(c.key())) {
                // Followed whatever wrote it: a replicator copies DDLs too.
                followSchema(c, state);
                metrics.schemaChange();
            } else if (!skippedTxnSources.contains(TxnSource.cdcWriteSource(c.txnSource()))) {
                emitChange(c, state);
            }
            // A skipped change moves the position too, so a restore does not read it again.
            state.lastCommitTs = c.commitTs();
            state.lastKey = c.key();
        } else {
            metrics.resolvedTs();
            state.resolvedTs = record.resolvedTs;
            if (state.lastCommitTs <= record.resolvedTs) {
                // Everything at or below the resolved ts was emitted; no position inside it.
                state.lastCommitTs = 0;
                state.lastKey = null;
            }
            output.emitWatermark(new Watermark(physicalMillis(record.resolvedTs)));
        }
    }

    private void emitChange(KeyChange c, TiKVSplitState state) throws Exception {
        CapturedTable table = state.byPhysicalId.get(TableCodec.physicalId(c.key()));
        if (table == null) {
            throw new FlinkRuntimeException(
                    "change of key "
                            + Keys.hex(c.key())
                            + " belongs to none of the captured tables");
        }
        TableCodec codec = table.codec();
        Object[] before = c.oldValue().length == 0 ? null : codec.decode(c.key(), c.oldValue());
        TiDBChange.Kind kind;
        Object[] after = null;
        if (c.op() == KeyChange.Op.DELETE) {
            if (before == null) {
                return; // the key held nothing: there is no row to retract
            }
            kind = TiDBChange.Kind.DELETE;
        } else {
            after = codec.decode(c.key(), c.value());
            kind = before == null ? TiDBChange.Kind.INSERT : TiDBChange.Kind.UPDATE;
        }
        collector.timestamp = physicalMillis(c.commitTs());
        metrics.rowChange(kind);
        deserializer.deserialize(
                new TiDBChange(kind, table.database(), table.info(), before, after, c.commitTs()),
                collector);
    }

    /** A table's TableInfo changed: follow it if rows still decode the same, else fail. */
    private static void followSchema(KeyChange c, TiKVSplitState state) {
        List<CapturedTable> tables = new ArrayList<>(state.tables);
        for (int i = 0; i < tables.size(); i++) {
            CapturedTable t = tables.get(i);
            if (!Arrays.equals(t.metaKey(), c.key())) {
                continue;
            }
            // Both failures are final: a restart replays the same change from the checkpoint.
            if (c.op() == KeyChange.Op.DELETE) {
                throw new SuppressRestartsException(
                        new FlinkRuntimeException(
                                "table "
                                        + t.qualifiedName()
                                        + " was dropped or truncated at ts "
                                        + c.commitTs()
                                        + "; the source cannot follow it"));
            }
            TableInfo after = MetaJson.read(c.value(), TableInfo.class);
            List<String> problems = SchemaChanges.unsafe(t.info(), after);
            if (!problems.isEmpty()) {
                throw new SuppressRestartsException(
                        new FlinkRuntimeException(
                                "table "
                                        + t.qualifiedName()
                                        + " changed at ts "
                                        + c.commitTs()
                                        + " in a way the source cannot follow: "
                                        + String.join("; ", problems)));
            }
            LOG.info("table {} changed at ts {}; following its new schema", t, c.commitTs());
            tables.set(i, t.withInfo(after));
            state.setTables(tables);
            return;
        }
    }

    static long physicalMillis(long tso) {
        return tso >>> 18;
    }

    /** Forwards the deserializer's records to the split's output with the change's time. */
    private static final class OutputCollector<T> implements Collector<T> {
        SourceOutput<T> output;
        long timestamp;

        @Override
        public void collect(T record) {
            output.collect(record, timestamp);
        }

        @Override
        public void close() {}
    }
}
