package io.tiflink.connector.sink;

import io.tiflink.connector.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TiKVSinkSmokeTest {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

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
                "CREATE DATABASE shop; USE shop;"
                        + " CREATE TABLE orders (id BIGINT PRIMARY KEY, item VARCHAR(32), qty INT,"
                        + " UNIQUE KEY uk_item (item), KEY k_qty (qty));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    @Test
    @Timeout(60)
    void writesRows(MiniTiKVCluster cluster) throws Exception {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(100);
        env.fromSequence(1, 100)
                .sinkTo(
                        TiKVSink.<Long>builder()
                                .pdAddresses(cluster.pdAddress())
                                .database("shop")
                                .table("orders")
                                .serializer(
                                        id ->
                                                RowChange.upsert(
                                                        new Object[] {id, "item" + id, id % 7}))
                                .build());
        env.execute("smoke");
        List<Object[]> rows = tables.rows("shop", "orders", cluster.currentTs());
        List<String> out = new ArrayList<>();
        rows.forEach(r -> out.add(java.util.Arrays.toString(r)));
        assertThat(rows).hasSize(100);
    }
}
