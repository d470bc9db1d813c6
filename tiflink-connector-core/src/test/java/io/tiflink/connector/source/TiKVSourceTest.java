package io.tiflink.connector.source;

import io.tiflink.connector.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
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

import static org.assertj.core.api.Assertions.assertThat;

/** The source end to end on a Flink mini cluster: snapshot, hand-off, changes. */
class TiKVSourceTest {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension
    static final MiniClusterExtension FLINK =
            new MiniClusterExtension(
                    new MiniClusterResourceConfiguration.Builder()
                            .setNumberTaskManagers(1)
                            .setNumberSlotsPerTaskManager(2)
                            .build());

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
    @org.junit.jupiter.api.Timeout(90)
    void readsTheSnapshotThenEveryChangeAfterIt(MiniTiKVCluster cluster) throws Exception {
        TiDBTables.Txn load = tables.txn("shop", "orders");
        for (long i = 1; i <= 5; i++) {
            load.insert(i, "item" + i, i * 10);
        }
        load.commit();
        // The split planner cuts at region boundaries: give the table two regions.
        cluster.split(
                io.tiflink.tidb.table.TableCodec.recordKey(
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
}
