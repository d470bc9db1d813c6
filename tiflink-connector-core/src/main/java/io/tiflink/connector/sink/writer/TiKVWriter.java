package io.tiflink.connector.sink.writer;

import io.tiflink.connector.sink.TiKVSerializationSchema;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.committer.TiKVCommittable;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.write.RowRejectedException;
import io.tiflink.tidb.write.RowWrite;
import io.tiflink.tidb.write.TableWriter;
import io.tiflink.tidb.write.TargetTable;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.sink2.CommittingSinkWriter;
import org.apache.flink.api.connector.sink2.StatefulSinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.util.FlinkRuntimeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.UUID;

/**
 * A subtask of the TiKV sink: it turns records into row writes, checks them against the table and
 * buffers them; when the buffer fills, its delivery guarantee decides how they are written ({@link
 * ExactlyOnceWriter}, {@link AtLeastOnceWriter}). What is not written when a checkpoint is taken is
 * the writer's state.
 */
@Internal
public abstract class TiKVWriter<IN>
        implements CommittingSinkWriter<IN, TiKVCommittable>,
                StatefulSinkWriter<IN, TiKVWriterState> {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVWriter.class);

    protected final TiKVSinkConfig config;
    protected final int subtask;
    protected final TxnClient txn;
    protected final TableWriter writer;
    protected final TargetTable table;

    /** Row writes not yet written, in order. */
    protected final WriteBuffer buffer = new WriteBuffer();

    protected final TiKVWriterMetrics metrics;

    private final int[] primaryKeyOffsets;

    private final TiKVSerializationSchema<IN> serializer;

    /** The last checkpoint taken or restored, or -1; and the rows received since. */
    private long lastCheckpoint;

    private long received;

    protected TiKVWriter(
            TiKVSinkConfig config,
            TiKVSerializationSchema<IN> serializer,
            WriterInitContext context)
            throws IOException {
        this.config = config;
        this.serializer = serializer;
        this.subtask = context.getTaskInfo().getIndexOfThisSubtask();
        this.txn = config.openTxnClient();
        this.metrics = new TiKVWriterMetrics(context.metricGroup());
        this.lastCheckpoint = context.getRestoredCheckpointId().orElse(-1L);
        try {
            this.writer = config.openTableWriter(txn);
            writer.reportTo(metrics);
            this.table = writer.table();
            serializer.open(table.name(), table.info());
            this.primaryKeyOffsets =
                    table.info().primaryKeyColumns().stream()
                            .mapToInt(c -> table.info().column(c).offset)
                            .toArray();
        } catch (Exception e) {
            closeQuietly(txn);
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new IOException(e.getMessage(), e);
        }
    }

    /** The writer of the sink's delivery guarantee. */
    public static <IN> TiKVWriter<IN> create(
            TiKVSinkConfig config,
            TiKVSerializationSchema<IN> serializer,
            WriterInitContext context,
            Collection<TiKVWriterState> restored)
            throws IOException {
        return config.exactlyOnce()
                ? new ExactlyOnceWriter<>(config, serializer, context, restored)
                : new AtLeastOnceWriter<>(config, serializer, context, restored);
    }

    @Override
    public void write(IN element, Context context) throws IOException, InterruptedException {
        WriteBuffer.Position position = new WriteBuffer.Position(lastCheckpoint, ++received);
        RowWrite w;
        try {
            w = serializer.serialize(element);
        } catch (IllegalArgumentException e) {
            // A value that does not convert to its column (the serializer names it) never will.
            throw rejected(e, null, position);
        }
        if (w == null) {
            return;
        }
        RowWrite checked;
        try {
            checked = writer.checked(w);
        } catch (RowRejectedException e) {
            throw rejected(e, e.write(), position);
        }
        buffer.add(checked, position, this::primaryKey);
        // With consistency snapshot an epoch is written at its barrier, whole: a row written
        // twice in one transaction would have to wait for the next. Nor is a retraction written
        // before the write that may replace it comes.
        if (!config.consistent()
                && !w.isRetraction()
                && buffer.isFull(config.maxRows(), config.maxBytes())) {
            writeBuffer(true);
        }
    }

    /** A row's primary key values, to match a retraction with the write replacing it. */
    private List<Object> primaryKey(Object[] row) {
        List<Object> key = new ArrayList<>(primaryKeyOffsets.length);
        for (int offset : primaryKeyOffsets) {
            key.add(
                    row[offset] instanceof byte[]
                            ? ByteBuffer.wrap((byte[]) row[offset])
                            : row[offset]);
        }
        return key;
    }

    /**
     * The job's failure for a row the table refused, naming the row (its position in this subtask's
     * input, if known, and its values): final, as writing it again fails the same way.
     */
    protected final RuntimeException rejected(RowRejectedException e) {
        return rejected(e, e.write(), e.write() == null ? null : buffer.positionOf(e.write()));
    }

    private RuntimeException rejected(
            IllegalArgumentException e, RowWrite w, WriteBuffer.Position position) {
        FlinkRuntimeException failure =
                new FlinkRuntimeException(
                        "TiKV sink into "
                                + table.name()
                                + " (subtask "
                                + subtask
                                + "): "
                                + (position != null
                                        ? position.toString()
                                        : "a row restored from a checkpoint or deferred from an"
                                                + " earlier batch")
                                + (w == null ? "" : ", " + describe(w))
                                + ": "
                                + e.getMessage()
                                + "; no retry can write it: the job fails without restarts");
        // The client shows the root cause: this message, not the writer's shorter one.
        failure.addSuppressed(e);
        return new SuppressRestartsException(failure);
    }

    /** The columns a change gives, with their values (long ones abbreviated). */
    private String describe(RowWrite w) {
        StringBuilder sb = new StringBuilder("(");
        List<ColumnInfo> columns = table.info().columns;
        for (int i = 0; i < columns.size() && i < w.row().length; i++) {
            if (w.gives(i)) {
                sb.append(sb.length() == 1 ? "" : ", ")
                        .append(columns.get(i).name())
                        .append('=')
                        .append(literal(w.row()[i]));
            }
        }
        return sb.append(')').toString();
    }

    private static String literal(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof byte[]) {
            StringBuilder hex = new StringBuilder();
            for (byte b : (byte[]) v) {
                hex.append(String.format("%02X", b));
            }
            return "x'" + abbreviate(hex.toString()) + "'";
        }
        String s = abbreviate(String.valueOf(v));
        return v instanceof Number || v instanceof Boolean ? s : "'" + s + "'";
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 37) + "...";
    }

    /**
     * Writes what is buffered, if it can.
     *
     * @param mustWrite whether to wait until it can (a full buffer, the end of the input)
     */
    protected abstract void writeBuffer(boolean mustWrite) throws InterruptedException, IOException;

    /** The writes to keep in the checkpoint: those not written yet. */
    protected List<RowWrite> unwritten() {
        return buffer.writes();
    }

    /** The parts of epochs to keep in the checkpoint: those not known committed. */
    protected List<EpochPart> unsettledParts() {
        return List.of();
    }

    @Override
    public List<TiKVWriterState> snapshotState(long checkpointId) throws IOException {
        lastCheckpoint = checkpointId;
        received = 0;
        List<RowWrite> unwritten = unwritten();
        List<EpochPart> parts = unsettledParts();
        if (unwritten.isEmpty() && parts.isEmpty()) {
            return Collections.emptyList();
        }
        return List.of(
                new TiKVWriterState(
                        UUID.randomUUID().toString(),
                        ChangeCodec.write(unwritten, table.info()),
                        parts));
    }

    @Override
    public void close() throws Exception {
        txn.close();
    }

    /** Restored changes, encoded by {@link ChangeCodec}, decoded with the table's schema now. */
    protected final List<RowWrite> decode(byte[] changes) throws IOException {
        return ChangeCodec.read(changes, table.info());
    }

    private static void closeQuietly(TxnClient txn) {
        try {
            txn.close();
        } catch (Exception e) {
            LOG.warn("closing the TiKV session failed", e);
        }
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(" + table.name() + ", subtask " + subtask + ")";
    }
}
