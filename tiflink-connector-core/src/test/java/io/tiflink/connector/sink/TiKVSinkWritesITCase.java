package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.Failures;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.SettledListSource;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.MetaKeys;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * What the sink writes, change by change, as TiDB would: upserts replacing rows that hold a unique
 * key, inserts refused on a duplicate, deletes, columns left out, AUTO_INCREMENT and _tidb_rowid
 * ids, and rows changed several times in one checkpoint (with a buffer small enough to be written
 * in between). The index entries must match the rows afterwards.
 */
@Timeout(120)
class TiKVSinkWritesITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE w; USE w;"
                        + " CREATE TABLE users (id BIGINT PRIMARY KEY, email VARCHAR(32) NOT NULL,"
                        + "   city VARCHAR(16), score INT DEFAULT 7,"
                        + "   UNIQUE KEY uk_email (email), KEY k_city_score (city, score));"
                        + " CREATE TABLE members (id BIGINT PRIMARY KEY, email VARCHAR(32) NOT NULL,"
                        + "   city VARCHAR(16), score INT, UNIQUE KEY uk_email (email));"
                        + " CREATE TABLE orders (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,"
                        + "   note VARCHAR(16), KEY k_note (note));"
                        + " CREATE TABLE tags (tag VARCHAR(16) NOT NULL, hits INT,"
                        + "   PRIMARY KEY (tag) NONCLUSTERED, KEY k_hits (hits));"
                        + " CREATE TABLE codes (code VARCHAR(8), region INT, label VARCHAR(8),"
                        + "   PRIMARY KEY (code, region), UNIQUE KEY uk_label (label));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    /** The messages of a write that fails. */
    private static String failedWrite(MiniTiKVCluster cluster, String table, RowWrite change) {
        return Failures.messages(
                catchThrowable(
                        () -> {
                            StreamExecutionEnvironment env = env();
                            env.fromSource(
                                            new SettledListSource<>(change),
                                            WatermarkStrategy.noWatermarks(),
                                            "changes",
                                            TypeInformation.of(RowWrite.class))
                                    .sinkTo(sink(cluster, table));
                            env.execute("write " + table);
                        }));
    }

    private static void write(MiniTiKVCluster cluster, String table, RowWrite... changes)
            throws Exception {
        StreamExecutionEnvironment env = env();
        env.fromData(TypeInformation.of(RowWrite.class), changes).sinkTo(sink(cluster, table));
        env.execute("write " + table);
    }

    private static StreamExecutionEnvironment env() {
        return FlinkClusters.noRestartEnv(1, 50);
    }

    private static TiKVSink<RowWrite> sink(MiniTiKVCluster cluster, String table) {
        return TiKVSink.<RowWrite>builder()
                .pdAddresses(cluster.pdAddress())
                .database("w")
                .table(table)
                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, 2)
                .serializer(c -> c)
                .build();
    }

    private static List<String> rows(MiniTiKVCluster cluster, String table) {
        long ts = cluster.currentTs();
        assertThat(tables.indexEntries("w", table, ts))
                .as("index entries of %s", table)
                .isEqualTo(tables.expectedIndexEntries("w", table, ts));
        List<String> out = new ArrayList<>();
        for (Object[] r : tables.rows("w", table, ts)) {
            out.add(Arrays.toString(r));
        }
        return out;
    }

    private static Object[] user(long id, String email, String city, Long score) {
        return new Object[] {id, email, city, score};
    }

    @Test
    void upsertsReplaceRowsHoldingAUniqueKey(MiniTiKVCluster cluster) throws Exception {
        write(
                cluster,
                "users",
                RowWrite.upsert(user(1, "a@x", "paris", 1L)),
                RowWrite.upsert(user(2, "b@x", "rome", 2L)),
                RowWrite.upsert(user(3, "c@x", "oslo", 3L)),
                // id 1 moves to another city and email (old index entries go)
                RowWrite.upsert(user(1, "a2@x", "lima", 10L)),
                // id 4 takes b@x: the row holding it (id 2) is replaced, as REPLACE does
                RowWrite.upsert(user(4, "b@x", "rome", 4L)),
                RowWrite.delete(new Object[] {3L, null, null, null}),
                // changed several times between two writes of a two-row buffer
                RowWrite.upsert(user(5, "e1@x", "kyiv", 1L)),
                RowWrite.upsert(user(5, "e2@x", "kyiv", 2L)),
                RowWrite.upsert(user(5, "e3@x", "kyiv", 3L)),
                RowWrite.upsert(user(5, "e4@x", "kyiv", 4L)),
                RowWrite.delete(new Object[] {5L, null, null, null}),
                RowWrite.upsert(user(5, "e5@x", "kyiv", 5L)),
                // only id and email given: city and score keep their values
                RowWrite.of(
                        RowWrite.Kind.UPSERT,
                        user(1, "a3@x", null, null),
                        new boolean[] {true, true, false, false}),
                // a new row with columns left out gets their defaults
                RowWrite.of(
                        RowWrite.Kind.UPSERT,
                        user(6, "f@x", null, null),
                        new boolean[] {true, true, false, false}));
        assertThat(rows(cluster, "users"))
                .containsExactlyInAnyOrder(
                        "[1, a3@x, lima, 10]",
                        "[4, b@x, rome, 4]",
                        "[5, e5@x, kyiv, 5]",
                        "[6, f@x, null, 7]");
    }

    @Test
    void aDuplicateInsertFailsNamingTheIndex(MiniTiKVCluster cluster) throws Exception {
        write(cluster, "members", RowWrite.upsert(user(20, "dup@x", "bern", 1L)));
        assertThat(failedWrite(cluster, "members", RowWrite.insert(user(21, "dup@x", "bern", 1L))))
                .contains("Duplicate entry 'dup@x' for key 'members.uk_email'");
        assertThat(
                        failedWrite(
                                cluster,
                                "members",
                                RowWrite.insert(user(20, "other@x", "bern", 1L))))
                .contains("Duplicate entry '20' for key 'members.PRIMARY'");
        assertThat(rows(cluster, "members")).containsExactly("[20, dup@x, bern, 1]");
    }

    @Test
    void allocatesAutoIncrementIdsAndRebasesPastExplicitOnes(MiniTiKVCluster cluster)
            throws Exception {
        write(
                cluster,
                "orders",
                RowWrite.insert(new Object[] {null, "a"}),
                RowWrite.insert(new Object[] {5000L, "explicit"}),
                RowWrite.insert(new Object[] {null, "b"}));
        List<String> first = rows(cluster, "orders");
        assertThat(first).hasSize(3).contains("[5000, explicit]");
        write(cluster, "orders", RowWrite.insert(new Object[] {null, "c"}));
        // TiDB's allocator (meta field TID:<table id>) is past every id written.
        long tableId = tables.table("w", "orders").id;
        long dbId = io.tiflink.tidb.meta.MetaReader.latest(tables.session()).database("w").id;
        byte[] allocated =
                tables.session()
                        .createSnapshot()
                        .get(MetaKeys.hashField(MetaKeys.dbKey(dbId), "TID:" + tableId));
        long maxId = Long.parseLong(new String(allocated, StandardCharsets.US_ASCII));
        List<Long> ids = new ArrayList<>();
        for (Object[] r : tables.rows("w", "orders", cluster.currentTs())) {
            ids.add((Long) r[0]);
        }
        assertThat(ids).hasSize(4).doesNotHaveDuplicates().allMatch(id -> id > 0 && id <= maxId);
    }

    @Test
    void rowIdTablesAreUpsertedThroughTheirPrimaryKeyIndex(MiniTiKVCluster cluster)
            throws Exception {
        write(
                cluster,
                "tags",
                RowWrite.upsert(new Object[] {"red", 1L}),
                RowWrite.upsert(new Object[] {"blue", 1L}),
                RowWrite.upsert(new Object[] {"red", 2L}),
                RowWrite.delete(new Object[] {"blue", null}),
                RowWrite.upsert(new Object[] {"red", 3L}));
        assertThat(rows(cluster, "tags")).containsExactly("[red, 3]");
    }

    @Test
    void clusteredCompositeKeys(MiniTiKVCluster cluster) throws Exception {
        write(
                cluster,
                "codes",
                RowWrite.upsert(new Object[] {"a", 1L, "one"}),
                RowWrite.upsert(new Object[] {"a", 2L, "two"}),
                RowWrite.upsert(new Object[] {"a", 1L, "uno"}),
                RowWrite.upsert(new Object[] {"b", 1L, "two"}));
        assertThat(rows(cluster, "codes")).containsExactlyInAnyOrder("[a, 1, uno]", "[b, 1, two]");
    }
}
