package io.tiflink.connector.sink.coordinator;

import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.write.RowWrite;
import io.tiflink.tidb.write.SharedTxnWriter;
import io.tiflink.tidb.write.TableWriter;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.util.FlinkRuntimeException;

import java.util.List;

/**
 * The progress table of a consistent sink: one row per sink table ({@code view_name}, as {@code
 * database.table}), the cut ({@code cut_ts}, a TSO) its rows are as of and the checkpoint that
 * closed it. Each epoch's transaction writes the row with the epoch's rows, so that a TiDB reader
 * reading both at one timestamp learns which source snapshot it sees.
 */
final class ProgressTable {
    static final String VIEW_NAME = "view_name";
    static final String CUT_TS = "cut_ts";
    static final String CHECKPOINT_ID = "checkpoint_id";

    private final TiKVSinkConfig config;
    private final TxnClient txn;
    private final TableWriter writer;
    private final int[] offsets;

    private ProgressTable(TiKVSinkConfig config, TxnClient txn, TableWriter writer, int[] offsets) {
        this.config = config;
        this.txn = txn;
        this.writer = writer;
        this.offsets = offsets;
    }

    /** The sink's progress table; refuses one that is missing or lacks a column. */
    static ProgressTable open(TiKVSinkConfig config, TxnClient txn) {
        TableWriter writer;
        try {
            writer =
                    TableWriter.open(
                            txn,
                            config.database(),
                            config.progressTable(),
                            config.lockTtl(),
                            config.maxRetries());
        } catch (IllegalArgumentException e) {
            throw refused(config, e.getMessage());
        }
        int[] offsets = new int[3];
        String[] names = {VIEW_NAME, CUT_TS, CHECKPOINT_ID};
        for (int i = 0; i < names.length; i++) {
            ColumnInfo c = writer.table().info().column(names[i]);
            if (c == null) {
                throw refused(config, "it has no column '" + names[i] + "'");
            }
            offsets[i] = c.offset;
        }
        return new ProgressTable(config, txn, writer, offsets);
    }

    private static IllegalArgumentException refused(TiKVSinkConfig config, String why) {
        String table = config.database() + "." + config.progressTable();
        return new IllegalArgumentException(
                "TiKV sink into "
                        + config.qualifiedTable()
                        + " with consistency 'snapshot' records its cuts in table "
                        + table
                        + " ('"
                        + TiKVSinkOptions.PROGRESS_TABLE.key()
                        + "'), which it cannot write: "
                        + why
                        + ". Create it in TiDB: CREATE TABLE "
                        + table
                        + " (view_name VARCHAR(255) PRIMARY KEY, cut_ts BIGINT NOT NULL,"
                        + " checkpoint_id BIGINT NOT NULL)");
    }

    /** Prewrites the sink's row, cut {@code cutTs}, into the transaction of {@code primary}. */
    void prewrite(long cutTs, long checkpointId, byte[] primary, long startTs) {
        Object[] row = new Object[writer.table().info().columns.size()];
        row[offsets[0]] = config.qualifiedTable();
        row[offsets[1]] = cutTs;
        row[offsets[2]] = checkpointId;
        SharedTxnWriter epoch = new SharedTxnWriter(writer, txn, config.lockTtl().toMillis());
        epoch.prewrite(List.of(writer.checked(RowWrite.upsert(row))), primary, startTs);
        if (epoch.hasDeferred()) {
            throw new FlinkRuntimeException(
                    "the progress row of "
                            + config.qualifiedTable()
                            + " is locked by another transaction");
        }
    }

    byte[] keyPrefix() {
        return writer.table().keyPrefix();
    }

    byte[] keyEnd() {
        return writer.table().keyEnd();
    }

    /** Commits ({@code commitTs > 0}) or rolls back what the transaction wrote into the table. */
    void resolve(long startTs, long commitTs) {
        txn.resolveRange(keyPrefix(), keyEnd(), startTs, commitTs);
    }
}
