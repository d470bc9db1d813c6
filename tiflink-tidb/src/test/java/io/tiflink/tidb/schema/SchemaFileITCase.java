package io.tiflink.tidb.schema;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.meta.TiTableInfo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import static io.tiflink.tidb.schema.SchemaFileTest.SHOP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchemaFileITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @Test
    void appliedSchemaIsWhatTiDBReadersSee(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            SchemaFile.apply(SchemaFile.parse("shop.sql", SHOP), session);
            MetaReader meta = MetaReader.latest(session);
            TableInfo events = meta.table("shop", "events");
            assertThat(events.partition.definitions)
                    .extracting(d -> d.id)
                    .doesNotContain(0L)
                    .doesNotHaveDuplicates();
            assertThat(events.physicalIds()).hasSize(4);
            TiTableInfo orders = session.getCatalog().getTable("shop", "orders");
            assertThat(orders.getColumns()).hasSize(13);
            assertThat(orders.isPkHandle()).isTrue();
            // IF NOT EXISTS database: applying again fails only on the tables.
            assertThatThrownBy(() -> SchemaFile.apply(SchemaFile.parse("shop.sql", SHOP), session))
                    .isInstanceOf(SchemaFileException.class)
                    .hasMessageStartingWith("shop.sql:4:1: table 'shop.orders' already exists");
        }
    }
}
