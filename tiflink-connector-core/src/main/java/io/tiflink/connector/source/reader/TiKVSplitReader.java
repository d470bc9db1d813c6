package io.tiflink.connector.source.reader;

import io.tiflink.cdc.client.CdcClient;
import io.tiflink.cdc.client.ChangeEvent;
import io.tiflink.cdc.client.ChangeStream;
import io.tiflink.cdc.client.KeyChange;
import io.tiflink.cdc.client.KeyRange;
import io.tiflink.connector.source.TiKVSourceConfig;
import io.tiflink.connector.source.split.CapturedTable;
import io.tiflink.connector.source.split.SnapshotSplit;
import io.tiflink.connector.source.split.StreamSplit;
import io.tiflink.connector.source.split.TiKVSplit;
import io.tiflink.tikv.Keys;

import org.apache.flink.connector.base.source.reader.RecordsBySplits;
import org.apache.flink.connector.base.source.reader.RecordsWithSplitIds;
import org.apache.flink.connector.base.source.reader.splitreader.SplitReader;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsAddition;
import org.apache.flink.connector.base.source.reader.splitreader.SplitsChange;

import org.tikv.common.TiSession;
import org.tikv.common.operation.iterator.ConcreteScanIterator;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

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
    private final TiSession session;
    private final int fetchSize;
    private CdcClient cdc;

    private final Queue<SnapshotSplit> snapshots = new ArrayDeque<>();

    /** The scan of the first snapshot split, once started. */
    private ConcreteScanIterator scan;

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

    TiKVSplitReader(TiKVSourceConfig config) {
        this.config = config;
        this.session = TiSession.create(config.tiConfiguration());
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
                        taken++;
                    }
                }
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        return out.build();
    }

    /**
     * The next batch of a snapshot split. The scan streams the split's range region by region; it
     * must be given the range's end: tikv-client-java 3.3.5 drops the rows of the last region of a
     * scan without one.
     */
    private RecordsWithSplitIds<TiKVRecord> scan(SnapshotSplit split) {
        if (scan == null) {
            scan =
                    new ConcreteScanIterator(
                            session.getConf(),
                            session.getRegionStoreClientBuilder(),
                            ByteString.copyFrom(split.resumeKey()),
                            ByteString.copyFrom(split.range().end()),
                            split.snapshotTs());
        }
        RecordsBySplits.Builder<TiKVRecord> out = new RecordsBySplits.Builder<>();
        for (int n = 0; n < fetchSize && scan.hasNext(); n++) {
            Kvrpcpb.KvPair p = scan.next();
            out.add(
                    split.splitId(),
                    TiKVRecord.snapshot(p.getKey().toByteArray(), p.getValue().toByteArray()));
        }
        if (!scan.hasNext()) {
            out.addFinishedSplit(split.splitId());
            snapshots.poll();
            scan = null;
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
        streams.put(split.splitId(), new Stream(cdc.subscribe(ranges, split.resolvedTs()), split));
    }

    @Override
    public void wakeUp() {
        // fetch() waits at most POLL for changes, so it returns soon by itself.
    }

    @Override
    public void close() throws Exception {
        for (Iterator<Stream> it = streams.values().iterator(); it.hasNext(); ) {
            it.next().changes.close();
            it.remove();
        }
        if (cdc != null) {
            cdc.close();
        }
        session.close();
    }
}
