package io.tiflink.connector.source.enumerator;

import io.tiflink.connector.source.HandleRange;
import io.tiflink.connector.source.TiKVSourceConfig;
import io.tiflink.connector.source.split.TiKVSplit;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.api.connector.source.ReaderInfo;
import org.apache.flink.api.connector.source.SplitsAssignment;
import org.apache.flink.api.connector.source.mocks.MockSplitEnumeratorContext;
import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** The enumerator driven step by step, for orderings a running job only hits by chance. */
class TiKVSourceEnumeratorITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @Test
    void aCheckpointCompletingWhilePlanningDoesNotStartTheStreams(MiniTiKVCluster cluster)
            throws Throwable {
        try (TiDBTables tables = new TiDBTables(cluster)) {
            tables.ddl("CREATE DATABASE shop; USE shop; CREATE TABLE t (id BIGINT PRIMARY KEY);");
            tables.txn("shop", "t").insert(1L).commit();
        }
        Configuration options =
                Configuration.fromMap(
                        Map.of(
                                "pd-addresses", cluster.pdAddress(),
                                "database-name", "shop",
                                "table-name", "t"));
        TiKVSourceConfig config = new TiKVSourceConfig(options, HandleRange.ALL, true);
        try (MockSplitEnumeratorContext<TiKVSplit> context = new MockSplitEnumeratorContext<>(1);
                TiKVSourceEnumerator enumerator = new TiKVSourceEnumerator(context, config, null)) {
            context.registerReader(new ReaderInfo(0, "localhost"));
            enumerator.start(); // the plan is made asynchronously: not yet
            enumerator.handleSplitRequest(0, "localhost");
            enumerator.snapshotState(1);
            enumerator.notifyCheckpointComplete(1); // before the plan is in
            context.runNextOneTimeCallable(); // the plan
            enumerator.addReader(0); // e.g. the reader re-registering after a failover

            List<String> assigned =
                    context.getSplitsAssignmentSequence().stream()
                            .map(SplitsAssignment::assignment)
                            .flatMap(a -> a.values().stream())
                            .flatMap(List::stream)
                            .map(s -> s.isSnapshot() ? "snapshot" : "stream")
                            .collect(Collectors.toList());
            assertThat(assigned)
                    .as("splits assigned while the snapshot is unread")
                    .containsOnly("snapshot")
                    .isNotEmpty();
        }
    }
}
