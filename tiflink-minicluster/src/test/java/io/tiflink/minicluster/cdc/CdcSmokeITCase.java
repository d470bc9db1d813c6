package io.tiflink.minicluster.cdc;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** One region captured end to end: scan, INITIALIZED, a 2PC write, resolved ts past it. */
class CdcSmokeITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.cdcResolvedTsInterval(Duration.ofMillis(50)));

    @Test
    void capturesACommitAndResolvesPastIt(MiniTiKVCluster cluster) {
        byte[] key = "cdc-smoke".getBytes();
        commit(cluster, key, "v1");
        long checkpoint = cluster.currentTs();
        try (Feed feed = new Feed(cluster, key, checkpoint)) {
            List<Cdcpb.ChangeDataEvent> received = feed.received;
            long commitTs = commit(cluster, key, "v2");
            await().atMost(Duration.ofSeconds(5)).until(() -> feed.resolvedTs() >= commitTs);
            List<Cdcpb.Event.Row> prewrites = feed.rows(Cdcpb.Event.LogType.PREWRITE);
            List<Cdcpb.Event.Row> commits = feed.rows(Cdcpb.Event.LogType.COMMIT);
            assertThat(prewrites).hasSize(1);
            assertThat(prewrites.get(0).getValue().toStringUtf8()).isEqualTo("v2");
            assertThat(prewrites.get(0).getOldValue().toStringUtf8()).isEqualTo("v1");
            assertThat(commits)
                    .singleElement()
                    .satisfies(c -> assertThat(c.getCommitTs()).isEqualTo(commitTs));
            // The commit arrived before the resolved ts that covers it.
            int commitAt = indexOf(received, Cdcpb.Event.LogType.COMMIT);
            int resolvedAt = -1;
            for (int i = 0; i < received.size(); i++) {
                if (received.get(i).hasResolvedTs()
                        && received.get(i).getResolvedTs().getTs() >= commitTs) {
                    resolvedAt = i;
                    break;
                }
            }
            assertThat(commitAt).isLessThan(resolvedAt);
        }
    }

    private static long commit(MiniTiKVCluster cluster, byte[] key, String value) {
        long startTs = cluster.currentTs();
        Kvrpcpb.PrewriteResponse prewrite =
                cluster.percolator()
                        .prewrite(
                                Kvrpcpb.PrewriteRequest.newBuilder()
                                        .setStartVersion(startTs)
                                        .setPrimaryLock(ByteString.copyFrom(key))
                                        .setLockTtl(3000)
                                        .setMinCommitTs(startTs)
                                        .addMutations(
                                                Kvrpcpb.Mutation.newBuilder()
                                                        .setOp(Kvrpcpb.Op.Put)
                                                        .setKey(ByteString.copyFrom(key))
                                                        .setValue(ByteString.copyFromUtf8(value)))
                                        .build());
        assertThat(prewrite.getErrorsList()).isEmpty();
        long commitTs = cluster.currentTs();
        Kvrpcpb.CommitResponse commit =
                cluster.percolator()
                        .commit(
                                Kvrpcpb.CommitRequest.newBuilder()
                                        .setStartVersion(startTs)
                                        .setCommitVersion(commitTs)
                                        .addKeys(ByteString.copyFrom(key))
                                        .build());
        assertThat(commit.hasError()).isFalse();
        return commitTs;
    }

    private static int indexOf(List<Cdcpb.ChangeDataEvent> events, Cdcpb.Event.LogType type) {
        for (int i = 0; i < events.size(); i++) {
            for (Cdcpb.Event ev : events.get(i).getEventsList()) {
                for (Cdcpb.Event.Row r : ev.getEntries().getEntriesList()) {
                    if (r.getType() == type) {
                        return i;
                    }
                }
            }
        }
        return -1;
    }
}
