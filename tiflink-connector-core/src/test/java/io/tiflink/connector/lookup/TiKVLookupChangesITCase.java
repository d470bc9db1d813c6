package io.tiflink.connector.lookup;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;

import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Lookups while the looked-up table changes: each lookup must return the row as of a TSO taken
 * after its key arrived, through region splits and leader moves; a cached row until it expires. The
 * keys come from a TiDB table read by the TiKV source, one at a time: each is written after the row
 * it looks up changed.
 */
class TiKVLookupChangesITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).cdcResolvedTsInterval(Duration.ofMillis(50)));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static final int IDS = 4;

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    /** Fresh tables {@code <db>.versions (id, ver)} with ver 0 and {@code <db>.probes}. */
    private static StreamTableEnvironment tables(
            MiniTiKVCluster cluster, String db, String lookupOptions) {
        tables.ddl(
                "CREATE DATABASE "
                        + db
                        + "; USE "
                        + db
                        + "; CREATE TABLE versions (id BIGINT PRIMARY KEY, ver BIGINT);"
                        + " CREATE TABLE probes (seq BIGINT PRIMARY KEY, id BIGINT);");
        var load = tables.txn(db, "versions");
        for (long id = 1; id <= IDS; id++) {
            load.insert(id, 0L);
        }
        load.commit();
        StreamTableEnvironment t =
                StreamTableEnvironment.create(FlinkClusters.noRestartEnv(1, 200));
        String with =
                " WITH ('connector' = 'tikv', 'pd-addresses' = '"
                        + cluster.pdAddress()
                        + "', 'database-name' = '"
                        + db
                        + "', 'table-name' = '";
        t.executeSql(
                "CREATE TABLE versions (id BIGINT, ver BIGINT)"
                        + with
                        + "versions'"
                        + lookupOptions
                        + ")");
        t.executeSql(
                "CREATE TABLE probes (seq BIGINT, id BIGINT, pt AS PROCTIME())"
                        + with
                        + "probes')");
        return t;
    }

    private static final String QUERY =
            "SELECT p.seq, d.ver FROM probes AS p JOIN versions FOR SYSTEM_TIME AS OF p.pt AS d"
                    + " ON p.id = d.id";

    @ParameterizedTest(name = "async={0}")
    @ValueSource(booleans = {true, false})
    void eachLookupReadsTheRowAsOfAfterItsKeyArrivedThroughSplitsAndLeaderMoves(
            boolean async, MiniTiKVCluster cluster) throws Exception {
        String db = "changes_" + async;
        StreamTableEnvironment t = tables(cluster, db, ", 'lookup.async' = '" + async + "'");
        TableInfo versions = tables.table(db, "versions");
        TableInfo probes = tables.table(db, "probes");
        long[] ver = new long[IDS + 1];
        Random random = new Random(7);
        int moves = 0;
        try (CloseableIterator<Row> it = t.executeSql(QUERY).collect()) {
            for (long seq = 1; seq <= 40; seq++) {
                long id = 1 + random.nextInt(IDS);
                tables.txn(versions)
                        .update(new Object[] {id, ver[(int) id]}, new Object[] {id, seq})
                        .commit();
                ver[(int) id] = seq;
                if (seq % 3 == 0) {
                    // Between the write and the lookup: the key's region splits, or a leader moves.
                    if (random.nextBoolean()) {
                        cluster.split(
                                TableCodec.recordKey(
                                        versions.id, Handle.ofInt(1 + random.nextInt(IDS))));
                    } else {
                        List<Region> regions = cluster.regions().all();
                        Region r = regions.get(random.nextInt(regions.size()));
                        List<Long> stores = cluster.storeIds();
                        cluster.transferLeader(r.id, stores.get(random.nextInt(stores.size())));
                    }
                    moves++;
                }
                tables.txn(probes).insert(seq, id).commit();
                // The row as of a TSO after the key arrived: the version just written, not older.
                assertThat(it.next().toString()).isEqualTo("+I[" + seq + ", " + seq + "]");
            }
        }
        assertThat(moves).isPositive();
    }

    @Test
    void aCachedRowIsReturnedUntilItExpires(MiniTiKVCluster cluster) throws Exception {
        Duration expiry = Duration.ofSeconds(8);
        StreamTableEnvironment t =
                tables(
                        cluster,
                        "cached",
                        ", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '100',"
                                + " 'lookup.partial-cache.expire-after-write' = '"
                                + expiry.getSeconds()
                                + "s'");
        TableInfo versions = tables.table("cached", "versions");
        TableInfo probes = tables.table("cached", "probes");
        try (CloseableIterator<Row> it = t.executeSql(QUERY).collect()) {
            long start = System.nanoTime();
            tables.txn(probes).insert(1L, 1L).commit();
            assertThat(it.next().toString()).isEqualTo("+I[1, 0]");
            tables.txn(versions).update(new Object[] {1L, 0L}, new Object[] {1L, 1L}).commit();
            // Read from the cache: the row as it was.
            tables.txn(probes).insert(2L, 1L).commit();
            assertThat(it.next().toString()).isEqualTo("+I[2, 0]");
            AtomicReference<Long> seq = new AtomicReference<>(2L);
            await().atMost(Duration.ofSeconds(60))
                    .pollInterval(Duration.ofMillis(500))
                    .until(
                            () -> {
                                long s = seq.updateAndGet(x -> x + 1);
                                tables.txn(probes).insert(s, 1L).commit();
                                return it.next().toString().equals("+I[" + s + ", 1]");
                            });
            // The new row only once the cached one, written after start, expired.
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThan(expiry);
        }
    }
}
