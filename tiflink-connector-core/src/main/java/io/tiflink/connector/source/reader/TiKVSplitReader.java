package io.tiflink.connector.source.reader;

import io.tiflink.cdc.client.CdcClient;
import io.tiflink.cdc.client.ChangeEvent;
import io.tiflink.cdc.client.ChangeStream;
import io.tiflink.cdc.client.KeyChange;
import io.tiflink.cdc.client.KeyRange;
import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.source.TiKVSourceConfig;
import io.tiflink.connector.source.split.CapturedTable;
import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.connector.source.split.StreamSplit;
import io.tiflink.connector.source.split.TiKVSplit;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.Sessions;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.connector.base.source.reader.RecordsBySplits;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;

import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/**
 * Reads the splits of one reader: snapshot splits one after the other, a scan batch per fetch, and
 * stream splits through the CDC client, whatever each has ready.
 */
final class TiKVSplitReader implements SplitReader<TiKVRecord, TiKVSplit> {
    private static final Logger LOG = LoggerFactory.getLogger(TiKVSplitReader.class);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final int MAX_EVENTS_PER_FETCH = 4096;

    private final TiKVSourceConfig config;
    private final TiKVSourceReaderMetrics metrics;
    private final TiSession session;
    private final int fetchSize;
    private CdcClient cdc;

    private final Queue<SnapshotSplit> snapshots = new ArrayDeque<>();

    /** Reads the snapshot, settling the locks it meets as TiDB's reads do. */
    private final TxnClient txn;

    /** Where the scan of the first snapshot split goes on, once started. */
    private byte[] scanFrom;

    private final Map<String, Stream> streams = new LinkedHashMap<>();

    /** A stream split being read, and the position before which changes were emitted already. */
    private static final class Stream {
        final ChangeStream changes;
        long skipCommitTs;
        byte[] skipKey;

        Stream(ChangeStream changes, StreamSplit split) {
            this.changes = changes;
            this.skipCommitTs = split.lastKey() == null ? 0 : split.lastCommitTs();
            this.skipKey = split.lastKey();
        }

        /** Whether a change was emitted before the split was last checkpointed. */
        boolean emittedBefore(KeyChange c) {
            if (skipKey == null) {
                return false;
            }
            if (c.commitTs() < skipCommitTs
                    || c.commitTs() == skipCommitTs
                            && Arrays.compareUnsigned(c.key(), skipKey) <= 0) {
                return true;
            }
            skipKey = null; // changes come in order: everything after this one is new
            return false;
        }
    }

    TiKVSplitReader(TiKVSourceConfig config, TiKVSourceReaderMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.session = TiKVOptions.connecting(() -> Sessions.open(config.tiConfiguration()));
        this.txn = new TxnClient(session, TiKVOptions.unavailableTimeout(config.options()));
        this.fetchSize = config.fetchSize();
    }

    @Override
    public RecordsWithSplitIds<TiKVRecord> fetch() {
        SnapshotSplit snapshot = snapshots.peek();
        if (snapshot != null) {
            return scan(snapshot);
        }
        RecordsBySplits.Builder<TiKVRecord> out = new RecordsBySplits.Builder<>();
        int taken = 0;
        long lastCommitTs = 0;
        try {
            for (Map.Entry<String, Stream> e : streams.entrySet()) {
                Stream s = e.getValue();
                // Wait for the first stream only, so that several streams do not add up waits.
                Duration wait = taken == 0 ? POLL : Duration.ZERO;
                ChangeEvent event;
                while (taken < MAX_EVENTS_PER_FETCH && (event = s.changes.poll(wait)) != null) {
                    wait = Duration.ZERO;
                    if (event.isResolved()) {
                        out.add(e.getKey(), TiKVRecord.resolved(event.resolvedTs()));
                        taken++;
                    } else if (!s.emittedBefore(event.change())) {
                        out.add(e.getKey(), TiKVRecord.change(event.change()));
                        lastCommitTs = event.change().commitTs();
                        taken++;
                    }
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        if (lastCommitTs != 0) {
            metrics.fetched(lastCommitTs);
        }
        return out.build();
    }

    /**
     * The next batch of a snapshot split, read page by page at its snapshot ts. tikv-client-java's
     * scanner is not used: it cannot settle a crashed async-commit transaction's locks.
     */
    private RecordsWithSplitIds<TiKVRecord> scan(SnapshotSplit split) {
        if (scanFrom == null) {
            scanFrom = split.resumeKey();
        }
        List<Kvrpcpb.KvPair> pairs =
                txn.scan(split.snapshotTs(), scanFrom, split.range().end(), fetchSize);
        RecordsBySplits.Builder<TiKVRecord> out = new RecordsBySplits.Builder<>();
        for (Kvrpcpb.KvPair p : pairs) {
            out.add(
                    split.splitId(),
                    TiKVRecord.snapshot(p.getKey().toByteArray(), p.getValue().toByteArray()));
        }
        if (pairs.size() < fetchSize) {
            out.addFinishedSplit(split.splitId());
            snapshots.poll();
            scanFrom = null;
        } else {
            scanFrom = Keys.next(pairs.get(pairs.size() - 1).getKey().toByteArray());
        }
        return out.build();
    }

    @Override
    public void handleSplitsChanges(SplitsChange<TiKVSplit> change) {
        if (!(change instanceof SplitsAddition)) {
            throw new UnsupportedOperationException(
                    "unsupported split change " + change.getClass().getSimpleName());
        }
        for (TiKVSplit split : change.splits()) {
            if (split.isSnapshot()) {
                snapshots.add(split.asSnapshot());
            } else {
                subscribe(split.asStream());
            }
        }
    }

    private void subscribe(StreamSplit split) {
        if (cdc == null) {
            cdc = CdcClient.create(session, config.cdcConfig());
        }
        List<KeyRange> ranges = new ArrayList<>(split.ranges());
        for (CapturedTable t : split.tables()) {
            byte[] meta = t.metaKey();
            ranges.add(KeyRange.of(meta, Arrays.copyOf(meta, meta.length + 1)));
        }
        LOG.info(
                "reading {} from resolved ts {}{}",
                split,
                split.resolvedTs(),
                split.lastKey() == null
                        ? ""
                        : ", after the change of "
                                + Keys.hex(split.lastKey())
                                + " at "
                                + split.lastCommitTs());
        ChangeStream changes = cdc.subscribe(ranges, split.resolvedTs());
        metrics.subscribed(changes);
        streams.put(split.splitId(), new Stream(changes, split));
    }

    @Override
    public void wakeUp() {
        // fetch() waits at most POLL for changes, so it returns soon by itself.
    }

    @Override
    public void close() throws Exception {
        for (Iterator<Stream> it = streams.values().iterator(); it.hasNext(); ) {
            ChangeStream changes = it.next().changes;
            metrics.closed(changes);
            changes.close();
            it.remove();
        }
        if (cdc != null) {
            cdc.close();
        }
        session.close();
    }
}
