package io.tiflink.connector.sink;

import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.txn.Percolator;
import io.tiflink.tidb.codec.Codec;
import io.tiflink.tidb.write.RowWrite;
import io.tiflink.tikv.Keys;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;

import org.tikv.common.key.IndexKey;
import org.tikv.common.key.Key;
import org.tikv.common.key.RowKey;
import org.tikv.common.key.TypedKey;
import org.tikv.common.meta.TiIndexInfo;
import org.tikv.common.meta.TiTableInfo;
import org.tikv.common.row.ObjectRowImpl;
import org.tikv.common.types.IntegerType;
import org.tikv.kvproto.Kvrpcpb;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the sink writes reads back through tikv-client-java's own decoders (its row codec and index
 * key encoder, with the table schema from its Catalog), for the types it supports: another
 * implementation than ours agrees on every record and index entry.
 */
@Timeout(60)
class TiKVSinkDecodingITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(2);

    private static TiDBTables tables;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE dec; USE dec;"
                        + " CREATE TABLE typed (id BIGINT PRIMARY KEY, ti TINYINT, si SMALLINT,"
                        + "   n INT, big BIGINT, un INT UNSIGNED, amount DECIMAL(12, 3), ratio DOUBLE,"
                        + "   name VARCHAR(20), note TEXT, raw VARBINARY(8), day DATE,"
                        + "   UNIQUE KEY uk_n (n), KEY k_name (name), KEY k_amount_big (amount, big));");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    private static Object[] row(Random r, long id) {
        byte[] raw = new byte[r.nextInt(8)];
        r.nextBytes(raw);
        return new Object[] {
            id,
            (long) (r.nextInt(256) - 128),
            (long) (r.nextInt(65536) - 32768),
            id * 1000 + r.nextInt(1000), // unique
            r.nextLong(),
            (long) r.nextInt(Integer.MAX_VALUE),
            BigDecimal.valueOf(r.nextLong() % 1_000_000_000_000L, 3),
            r.nextDouble() * 1e6,
            "name-" + r.nextInt(20),
            "note " + Long.toHexString(r.nextLong()),
            raw,
            LocalDate.of(1990 + r.nextInt(50), 1 + r.nextInt(12), 1 + r.nextInt(28))
        };
    }

    @Test
    void tikvClientJavaReadsWhatWeWrote(MiniTiKVCluster cluster) throws Exception {
        Random r = new Random(42);
        Map<Long, Object[]> written = new TreeMap<>();
        for (long id = 1; id <= 200; id++) {
            written.put(id, row(r, id));
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        env.enableCheckpointing(50);
        env.fromData(
                        TypeInformation.of(RowWrite.class),
                        written.values().stream().map(RowWrite::upsert).toArray(RowWrite[]::new))
                .sinkTo(
                        TiKVSink.<RowWrite>builder()
                                .pdAddresses(cluster.pdAddress())
                                .database("dec")
                                .table("typed")
                                .option(TiKVSinkOptions.BUFFER_FLUSH_MAX_ROWS, 32)
                                .serializer(c -> c)
                                .build());
        env.execute("typed");

        TiTableInfo table = tables.session().getCatalog().getTable("dec", "typed");
        long ts = cluster.currentTs();
        Map<String, byte[]> stored = new HashMap<>();
        byte[] start = {'t'};
        for (Kvrpcpb.KvPair p :
                cluster.percolator()
                        .scan(
                                start,
                                new byte[] {'u'},
                                Integer.MAX_VALUE,
                                false,
                                false,
                                new Percolator.ReadContext(ts, Set.of(), false))) {
            stored.put(Keys.hex(p.getKey().toByteArray()), p.getValue().toByteArray());
        }
        int records = 0;
        int entries = 0;
        for (Map.Entry<String, byte[]> e : stored.entrySet()) {
            byte[] key = Codec.unhex(e.getKey());
            if (key[9] != '_' || key[10] != 'r') {
                continue;
            }
            records++;
            long handle = RowKey.decode(key).getHandle();
            Object[] theirs =
                    org.tikv.common.codec.TableCodec.decodeObjects(e.getValue(), handle, table);
            Object[] ours = written.get(handle);
            assertThat(theirs[0]).isEqualTo(ours[0]);
            for (int i : new int[] {1, 2, 3, 4, 5, 7, 8}) {
                assertThat(theirs[i]).as("column %s of row %s", i, handle).isEqualTo(ours[i]);
            }
            // tikv-client-java reads TEXT as its bytes
            assertThat(new String((byte[]) theirs[9], StandardCharsets.UTF_8)).isEqualTo(ours[9]);
            assertThat((BigDecimal) theirs[6]).isEqualByComparingTo((BigDecimal) ours[6]);
            // (it reads VARBINARY as a String: raw bytes are checked by our own decoder below)
            assertThat(theirs[11].toString()).isEqualTo(ours[11].toString());
            // Each index entry, as tikv-client-java encodes it, is there, pointing at the row.
            for (TiIndexInfo idx : table.getIndices()) {
                Key[] datums =
                        IndexKey.encodeIndexDataValues(
                                        ObjectRowImpl.create(theirs),
                                        idx.getIndexColumns(),
                                        handle,
                                        false,
                                        table)
                                .keys;
                if (!idx.isUnique()) {
                    datums = Arrays.copyOf(datums, datums.length + 1);
                    datums[datums.length - 1] = TypedKey.toTypedKey(handle, IntegerType.BIGINT);
                }
                byte[] entryKey =
                        IndexKey.toIndexKey(table.getId(), idx.getId(), datums).getBytes();
                byte[] value = stored.get(Keys.hex(entryKey));
                assertThat(value)
                        .as("entry of index %s for row %s", idx.getName(), handle)
                        .isNotNull();
                if (idx.isUnique()) {
                    assertThat(org.tikv.common.codec.TableCodec.decodeHandle(value))
                            .isEqualTo(handle);
                }
                entries++;
            }
        }
        assertThat(records).isEqualTo(written.size());
        for (Object[] row : tables.rows("dec", "typed", ts)) {
            assertThat(row).isEqualTo(written.get((Long) row[0]));
        }
        // ... and there is no other entry.
        List<TiIndexInfo> indexes = table.getIndices();
        assertThat(entries).isEqualTo(records * indexes.size());
        assertThat(stored.size() - records - tables.indexEntries("dec", "typed", ts).size())
                .as("keys besides records and index entries")
                .isZero();
    }
}
