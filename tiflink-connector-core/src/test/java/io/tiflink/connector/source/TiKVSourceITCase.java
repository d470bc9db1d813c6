package io.tiflink.connector.source;

import io.tiflink.connector.testutils.ChangeStrings;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.minicluster.workload.TiDBLikeWriter;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Crash;
import io.tiflink.minicluster.workload.TiDBLikeWriter.Shape;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** The source end to end on a Flink mini cluster: snapshot, hand-off, changes. */
class TiKVSourceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE shop;"
                        + " USE shop;"
                        + " CREATE TABLE orders (id BIGINT PRIMARY KEY, item VARCHAR(32), qty INT);");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    private static List<String> take(CloseableIterator<String> it, int n) {
        List<String> out = new ArrayList<>();
        while (out.size() < n && it.hasNext()) {
            out.add(it.next().replaceAll(" @\\d+$", ""));
        }
        return out;
    }

    @Test
    void readsTheSnapshotThenEveryChangeAfterIt(MiniTiKVCluster cluster) throws Exception {
        MiniClusterRows.Txn load = tables.txn("shop", "orders");
        for (long i = 1; i <= 5; i++) {
            load.insert(i, "item" + i, i * 10);
        }
        load.commit();
        // The split planner cuts at region boundaries: give the table two regions.
        cluster.split(
                TableCodec.recordKey(
                        tables.table("shop", "orders").id, io.tiflink.tidb.table.Handle.ofInt(3)));

        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(200);
        TiKVSource<String> source =
                TiKVSource.<String>builder()
                        .pdAddresses(cluster.pdAddress())
                        .database("shop")
                        .table("orders")
                        .deserializer(new ChangeStrings())
                        .build();
        try (CloseableIterator<String> it =
                env.fromSource(source, WatermarkStrategy.noWatermarks(), "orders")
                        .executeAndCollect()) {
            assertThat(take(it, 5))
                    .containsExactlyInAnyOrder(
                            "SNAPSHOT orders - -> [1,item1,10]",
                            "SNAPSHOT orders - -> [2,item2,20]",
                            "SNAPSHOT orders - -> [3,item3,30]",
                            "SNAPSHOT orders - -> [4,item4,40]",
                            "SNAPSHOT orders - -> [5,item5,50]");
            tables.txn("shop", "orders").insert(6L, "item6", 60L).commit();
            tables.txn("shop", "orders")
                    .update(new Object[] {2L, "item2", 20L}, new Object[] {2L, "item2b", 21L})
                    .commit();
            tables.txn("shop", "orders").delete(3L, "item3", 30L).commit();
            assertThat(take(it, 3))
                    .containsExactly(
                            "INSERT orders - -> [6,item6,60]",
                            "UPDATE orders [2,item2,20] -> [2,item2b,21]",
                            "DELETE orders [3,item3,30] -> -");
        }
    }

    /** A job that fails for good on the first error: these tests check the errors. */
    private static StreamExecutionEnvironment env() {
        return FlinkClusters.noRestartEnv(1, 200);
    }

    private static TiKVSourceBuilder<String> source(MiniTiKVCluster cluster, String table) {
        return TiKVSource.<String>builder()
                .pdAddresses(cluster.pdAddress())
                .database("shop")
                .table(table)
                .deserializer(new ChangeStrings());
    }

    @Test
    void snapshotModeIsBoundedAndReadsOneConsistentTs(MiniTiKVCluster cluster) throws Exception {
        tables.ddl("USE shop; CREATE TABLE bounded (id BIGINT PRIMARY KEY, v INT);");
        tables.txn("shop", "bounded").insert(1L, 1L).insert(2L, 2L).commit();
        List<String> rows = new ArrayList<>();
        try (CloseableIterator<String> it =
                env().fromSource(
                                source(cluster, "bounded")
                                        .startupMode(StartupMode.SNAPSHOT)
                                        .build(),
                                WatermarkStrategy.noWatermarks(),
                                "bounded")
                        .executeAndCollect()) {
            it.forEachRemaining(rows::add); // ends: the source is bounded
        }
        assertThat(rows)
                .containsExactlyInAnyOrder(
                        "SNAPSHOT bounded - -> [1,1]", "SNAPSHOT bounded - -> [2,2]");
    }

    /**
     * TiDB commits with async commit by default: a snapshot meeting the locks of crashed
     * async-commit transactions reads the rows of the one whose every key was prewritten (it is
     * committed) and not those of the one with a key never prewritten (rolled back).
     */
    @Test
    void theSnapshotSettlesCrashedAsyncCommitTransactions(MiniTiKVCluster cluster)
            throws Exception {
        tables.ddl(
                "USE shop; CREATE TABLE crashed (id BIGINT PRIMARY KEY, v INT);"
                        + " CREATE TABLE crashed_too (id BIGINT PRIMARY KEY, v INT);");
        tables.txn("shop", "crashed").insert(1L, 1L).commit();
        TableInfo crashed = tables.table("shop", "crashed");
        TableInfo other = tables.table("shop", "crashed_too");
        try (TiDBLikeWriter tidb = new TiDBLikeWriter(cluster, 100)) {
            // Each table has a region of its own: both transactions span two regions.
            tidb.crash(
                    Shape.ASYNC_COMMIT,
                    Crash.AFTER_PREWRITE,
                    tables.txn(crashed).insert(2L, 2L).in(other).insert(2L, 2L).writes());
            tidb.crash(
                    Shape.ASYNC_COMMIT,
                    Crash.MISSING_SECONDARIES,
                    tables.txn(crashed).insert(3L, 3L).in(other).insert(3L, 3L).writes());
        }
        List<String> rows = new ArrayList<>();
        try (CloseableIterator<String> it =
                env().fromSource(
                                source(cluster, "crashed")
                                        .startupMode(StartupMode.SNAPSHOT)
                                        .build(),
                                WatermarkStrategy.noWatermarks(),
                                "crashed")
                        .executeAndCollect()) {
            it.forEachRemaining(rows::add);
        }
        assertThat(rows)
                .containsExactlyInAnyOrder(
                        "SNAPSHOT crashed - -> [1,1]", "SNAPSHOT crashed - -> [2,2]");
    }

    @Test
    void latestOffsetAndTimestampModesStartWithoutASnapshot(MiniTiKVCluster cluster)
            throws Exception {
        tables.ddl("USE shop; CREATE TABLE modes (id BIGINT PRIMARY KEY, v INT);");
        tables.txn("shop", "modes").insert(1L, 1L).commit();
        long first = System.currentTimeMillis();
        await().until(() -> System.currentTimeMillis() > first); // a later millisecond
        long afterFirst = System.currentTimeMillis();
        tables.txn("shop", "modes").insert(2L, 2L).commit();
        try (CloseableIterator<String> latest =
                        env().fromSource(
                                        source(cluster, "modes")
                                                .startupMode(StartupMode.LATEST_OFFSET)
                                                .build(),
                                        WatermarkStrategy.noWatermarks(),
                                        "latest")
                                .executeAndCollect();
                CloseableIterator<String> fromTime =
                        env().fromSource(
                                        source(cluster, "modes")
                                                .startupTimestampMillis(afterFirst)
                                                .build(),
                                        WatermarkStrategy.noWatermarks(),
                                        "timestamp")
                                .executeAndCollect()) {
            // The timestamp source starts before row 2 was written: it reads it from TiKV.
            assertThat(take(fromTime, 1)).containsExactly("INSERT modes - -> [2,2]");
            tables.txn("shop", "modes").insert(3L, 3L).commit();
            assertThat(take(fromTime, 1)).containsExactly("INSERT modes - -> [3,3]");
            // The latest-offset source started before row 3 (the job was running by then).
            assertThat(take(latest, 1)).containsExactly("INSERT modes - -> [3,3]");
        }
    }

    @Test
    void followsAnAddedColumnAndFailsOnADroppedOne(MiniTiKVCluster cluster) throws Exception {
        tables.ddl("USE shop; CREATE TABLE evolving (id BIGINT PRIMARY KEY, a INT, b INT);");
        tables.txn("shop", "evolving").insert(1L, 10L, 100L).commit();
        try (CloseableIterator<String> it =
                FlinkClusters.restartingEnv(1, 200)
                        .fromSource(
                                source(cluster, "evolving").build(),
                                WatermarkStrategy.noWatermarks(),
                                "evolving")
                        .executeAndCollect()) {
            assertThat(take(it, 1)).containsExactly("SNAPSHOT evolving - -> [1,10,100]");
            io.tiflink.tidb.meta.ColumnInfo c = new io.tiflink.tidb.meta.ColumnInfo();
            c.name = io.tiflink.tidb.meta.CIStr.of("c");
            c.type = new io.tiflink.tidb.meta.FieldType(io.tiflink.tidb.types.MysqlType.LONG);
            c.defaultValue = "7";
            new io.tiflink.tidb.meta.SchemaWriter(tables.session())
                    .addColumn("shop", "evolving", c);
            tables.txn("shop", "evolving").insert(2L, 20L, 200L, 2000L).commit();
            tables.txn("shop", "evolving")
                    .update(new Object[] {1L, 10L, 100L, 7L}, new Object[] {1L, 11L, 100L, 7L})
                    .commit();
            // The old row reads the new column's default, as in TiDB.
            assertThat(take(it, 2))
                    .containsExactly(
                            "INSERT evolving - -> [2,20,200,2000]",
                            "UPDATE evolving [1,10,100,7] -> [1,11,100,7]");
            new io.tiflink.tidb.meta.SchemaWriter(tables.session())
                    .dropColumn("shop", "evolving", "b");
            // Final: a restart would replay the same change.
            assertThatThrownBy(() -> assertTimeoutPreemptively(Duration.ofMinutes(1), it::hasNext))
                    .hasStackTraceContaining("table shop.evolving changed at ts")
                    .hasStackTraceContaining("column 'b' was dropped")
                    .hasStackTraceContaining(SuppressRestartsException.class.getName());
        }
    }

    @Test
    void aDroppedTableEndsTheJobWithoutRestarts(MiniTiKVCluster cluster) throws Exception {
        tables.ddl("USE shop; CREATE TABLE doomed (id BIGINT PRIMARY KEY);");
        tables.txn("shop", "doomed").insert(1L).commit();
        try (CloseableIterator<String> it =
                FlinkClusters.restartingEnv(1, 200)
                        .fromSource(
                                source(cluster, "doomed").build(),
                                WatermarkStrategy.noWatermarks(),
                                "doomed")
                        .executeAndCollect()) {
            assertThat(take(it, 1)).containsExactly("SNAPSHOT doomed - -> [1]");
            new io.tiflink.tidb.meta.SchemaWriter(tables.session()).dropTable("shop", "doomed");
            assertThatThrownBy(() -> assertTimeoutPreemptively(Duration.ofMinutes(1), it::hasNext))
                    .hasStackTraceContaining("table shop.doomed was dropped or truncated at ts")
                    .hasStackTraceContaining(SuppressRestartsException.class.getName());
        }
    }

    /**
     * A table's rows in the first region, whose start key is empty: where they are without TiDB's
     * split-table, or once its region merged into the first one.
     */
    @Test
    void readsATableWhoseRowsAreInTheFirstRegion(MiniTiKVCluster cluster) throws Exception {
        tables.ddl("USE shop; CREATE TABLE early (id BIGINT PRIMARY KEY, v INT);");
        tables.txn("shop", "early").insert(1L, 1L).commit();
        byte[] prefix = TableCodec.tablePrefix(tables.table("shop", "early").id);
        Region region = cluster.regions().locate(prefix);
        while (region.start.length > 0) {
            cluster.merge(region.id, cluster.regions().leftSibling(region).id);
            region = cluster.regions().locate(prefix);
        }
        try (CloseableIterator<String> it =
                env().fromSource(
                                source(cluster, "early").build(),
                                WatermarkStrategy.noWatermarks(),
                                "early")
                        .executeAndCollect()) {
            assertThat(take(it, 1)).containsExactly("SNAPSHOT early - -> [1,1]");
            tables.txn("shop", "early").insert(2L, 2L).commit();
            assertThat(take(it, 1)).containsExactly("INSERT early - -> [2,2]");
        }
    }

    @Test
    void readsSeveralTablesMatchingAPattern(MiniTiKVCluster cluster) throws Exception {
        tables.ddl(
                "USE shop; CREATE TABLE shard_1 (id BIGINT PRIMARY KEY, v INT);"
                        + " CREATE TABLE shard_2 (id BIGINT PRIMARY KEY, v INT);"
                        + " CREATE TABLE other (id BIGINT PRIMARY KEY, v INT);");
        tables.txn("shop", "shard_1").insert(1L, 1L).commit();
        tables.txn("shop", "shard_2").insert(2L, 2L).commit();
        tables.txn("shop", "other").insert(3L, 3L).commit();
        try (CloseableIterator<String> it =
                env().fromSource(
                                source(cluster, "shard_\\d+").build(),
                                WatermarkStrategy.noWatermarks(),
                                "shards")
                        .executeAndCollect()) {
            assertThat(take(it, 2))
                    .containsExactlyInAnyOrder(
                            "SNAPSHOT shard_1 - -> [1,1]", "SNAPSHOT shard_2 - -> [2,2]");
            tables.txn("shop", "other").insert(30L, 30L).commit();
            tables.txn("shop", "shard_2").insert(20L, 20L).commit();
            assertThat(take(it, 1)).containsExactly("INSERT shard_2 - -> [20,20]");
        }
    }

    @Test
    void anUnknownTableFailsTheJobNamingIt(MiniTiKVCluster cluster) {
        assertThatThrownBy(
                        () -> {
                            try (CloseableIterator<String> it =
                                    env().fromSource(
                                                    source(cluster, "nope").build(),
                                                    WatermarkStrategy.noWatermarks(),
                                                    "nope")
                                            .executeAndCollect()) {
                                it.hasNext();
                            }
                        })
                .hasStackTraceContaining("table 'nope' does not exist in TiDB database 'shop'");
    }

    @Test
    void aMissingOptionIsNamed(MiniTiKVCluster cluster) {
        assertThatThrownBy(
                        () ->
                                TiKVSource.<String>builder()
                                        .pdAddresses(cluster.pdAddress())
                                        .table("orders")
                                        .deserializer(new ChangeStrings())
                                        .build())
                .hasMessageContaining("option 'database-name' is required");
        assertThatThrownBy(
                        () ->
                                source(cluster, "orders")
                                        .options(Map.of("scan.startup.mode", "sometimes"))
                                        .build())
                .hasMessageContaining(
                        "option 'scan.startup.mode' has 'sometimes'; expected initial,"
                                + " latest-offset, timestamp or snapshot");
    }
}
