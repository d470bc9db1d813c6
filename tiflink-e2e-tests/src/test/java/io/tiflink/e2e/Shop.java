package io.tiflink.e2e;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.schema.SchemaFile;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The TiDB database the SQL client scripts work on: {@code shop.orders} (5 rows), {@code archive},
 * {@code live_orders} (for {@link RandomChanges}) and {@code mirror}, all {@code (id BIGINT PRIMARY
 * KEY, item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2))}.
 */
final class Shop {
    /** Statements browsing the catalog, checked by {@link #assertBrowsed}. */
    static final String BROWSE = "SHOW DATABASES;\nSHOW TABLES;\nDESCRIBE orders;\n";

    private Shop() {}

    static void create(MiniTiKVCluster cluster) {
        try (TiSession session =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            SchemaFile.apply(
                    SchemaFile.parse(
                            "shop.sql",
                            "CREATE DATABASE shop; USE shop;"
                                    + " CREATE TABLE orders (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2),"
                                    + " KEY by_item (item));"
                                    + " CREATE TABLE archive (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2));"
                                    + " CREATE TABLE live_orders (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2));"
                                    + " CREATE TABLE mirror (id BIGINT PRIMARY KEY,"
                                    + " item VARCHAR(32) NOT NULL, qty INT, price DECIMAL(10,2),"
                                    + " KEY by_item (item));"),
                    session);
            MiniClusterRows.Txn txn =
                    new MiniClusterRows(cluster)
                            .txn(MetaReader.latest(session).table("shop", "orders"));
            for (long i = 1; i <= 5; i++) {
                txn.insert(i, "item" + i, i, new BigDecimal(i + ".25"));
            }
            txn.commit();
        } catch (Exception e) {
            throw new IllegalStateException("creating the shop database", e);
        }
    }

    /** Script lines creating the {@code tidb} catalog over the cluster and using it. */
    static String catalog(MiniTiKVCluster cluster) {
        return "SET 'sql-client.execution.result-mode' = 'tableau';\n"
                + "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                + cluster.pdAddress()
                + "', 'default-database' = 'shop');\n"
                + "USE CATALOG tidb;\n";
    }

    /** Checks what the client printed for {@link #BROWSE}. */
    static void assertBrowsed(String out) {
        assertThat(out).doesNotContain("[ERROR]");
        assertThat(out).containsPattern("\\|\\s+shop\\s+\\|");
        assertThat(out)
                .containsPattern("\\|\\s+archive\\s+\\|")
                .containsPattern("\\|\\s+orders\\s+\\|");
        assertThat(out).containsPattern("\\|\\s+id \\|\\s+BIGINT \\|\\s+FALSE \\|\\s+PRI\\(id\\)");
        assertThat(out).containsPattern("\\|\\s+price \\|\\s+DECIMAL\\(10, 2\\) \\|\\s+TRUE");
    }
}
