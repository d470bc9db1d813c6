package io.tiflink.connector.sink.committer;

import io.tiflink.connector.sink.EpochKeys;
import io.tiflink.connector.sink.TiKVSinkConfig;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.sink.writer.ChangeCodec;
import io.tiflink.tidb.write.TableWriter;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.connector.sink2.Committer;
import org.apache.flink.util.FlinkRuntimeException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Collection;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * Commits what the subtasks wrote once the checkpoint holding it completes, and again,
 * idempotently, after a restore. The coordinator decides the epoch at its primary (it commits it,
 * or rolls it back if the table's schema changed meanwhile); the committer waits for that decision,
 * reads the commit ts back, and commits the subtask's secondary locks at that one ts in the
 * background, region by region. Readers that meet a secondary before that resolve it from the
 * primary, so it is visible at the commit ts either way.
 */
@Internal
public final class TiKVCommitter implements Committer<TiKVCommittable> {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVCommitter.class);

    private static final long DECISION_POLL_MILLIS = 10;

    private final TiKVSinkConfig config;
    private TxnClient txn;
    private TableWriter table;
    private final ExecutorService background =
            Executors.newSingleThreadExecutor(
                    r -> {
                        Thread t = new Thread(r, "tikv-sink-committer");
                        t.setDaemon(true);
                        return t;
                    });

    public TiKVCommitter(TiKVSinkConfig config) {
        this.config = config;
    }

    @Override
    public void commit(Collection<CommitRequest<TiKVCommittable>> requests)
            throws InterruptedException {
        if (txn == null) {
            txn = config.openTxnClient();
        }
        for (CommitRequest<TiKVCommittable> request : requests) {
            TiKVCommittable c = request.getCommittable();
            if (!c.hasEpoch()) {
                writeCarried(c); // its epoch never opened: carried changes only
                continue;
            }
            TxnClient.Status status = awaitDecision(c);
            if (!status.committed()) {
                if (c.carried().length > 0) {
                    throw new FlinkRuntimeException(
                            "TiKV sink into "
                                    + config.qualifiedTable()
                                    + " cannot commit "
                                    + c
                                    + ": it is "
                                    + status
                                    + " (its locks outlived '"
                                    + TiKVSinkOptions.LOCK_TTL.key()
                                    + "' while the job was down), and its input had ended, so no"
                                    + " later epoch writes its changes again. Restart the job from"
                                    + " an earlier checkpoint to write them.");
                }
                // Its writer writes its changes again (EpochPart).
                LOG.info("{} is {}: its writer writes it again", c, status);
                continue;
            }
            long commitTs = status.commitTs;
            if (c.carried().length > 0) {
                writeCarried(c);
            }
            if (!c.hasKeys()) {
                continue; // the subtask only carried changes past the epoch
            }
            byte[] end = Keys.next(c.lastKey());
            background.execute(
                    () -> {
                        try {
                            txn.resolveRange(c.firstKey(), end, c.startTs(), commitTs);
                        } catch (RuntimeException e) {
                            // Readers resolve the locks left from the committed primary.
                            LOG.warn("committing the secondary locks of {} failed", c, e);
                        }
                    });
        }
    }

    /**
     * The fate of the committable's epoch, once the coordinator decided it (committed, or rolled
     * back); waits for that up to {@code sink.transaction.open-timeout}.
     */
    private TxnClient.Status awaitDecision(TiKVCommittable c) throws InterruptedException {
        long deadline = System.currentTimeMillis() + config.epochTimeout().toMillis();
        while (true) {
            TxnClient.Status status = txn.status(c.primary(), c.startTs());
            if (!status.locked) {
                return status;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new FlinkRuntimeException(
                        "TiKV sink into "
                                + config.qualifiedTable()
                                + ": "
                                + c
                                + " was neither committed nor rolled back by the sink's"
                                + " coordinator within '"
                                + TiKVSinkOptions.EPOCH_TIMEOUT.key()
                                + "' ("
                                + config.epochTimeout()
                                + ")");
            }
            Thread.sleep(DECISION_POLL_MILLIS);
        }
    }

    /** What the subtask deferred past its last epoch, written once in a transaction after it. */
    private void writeCarried(TiKVCommittable c) {
        try {
            if (table == null) {
                table = config.openTableWriter(txn);
            }
            table.writeOnce(
                    ChangeCodec.read(c.carried(), table.table().info()),
                    EpochKeys.carried(c.primary(), c.subtask()));
        } catch (IOException e) {
            throw new FlinkRuntimeException("decoding the changes carried by " + c + " failed", e);
        }
    }

    @Override
    public void close() throws Exception {
        background.shutdown();
        if (!background.awaitTermination(30, TimeUnit.SECONDS)) {
            background.shutdownNow();
        }
        if (txn != null) {
            txn.close();
        }
    }
}
