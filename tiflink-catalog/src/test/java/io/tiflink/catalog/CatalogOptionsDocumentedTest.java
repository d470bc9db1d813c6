package io.tiflink.catalog;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.table.catalog.CommonCatalogOptions;
import org.apache.flink.table.factories.Factory;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static io.tiflink.connector.testutils.OptionsDocs.assertDocuments;
import static io.tiflink.connector.testutils.OptionsDocs.ownOptions;

/**
 * Each option of the catalog is documented once, with its default, in docs/catalog.md (see {@link
 * io.tiflink.connector.testutils.OptionsDocs}), and its option table lists no other option.
 */
class CatalogOptionsDocumentedTest {
    @Test
    void catalogOptionsInCatalogMd() {
        Factory factory = new TiDBCatalogFactory();
        Set<ConfigOption<?>> options = ownOptions(TiDBCatalogOptions.class, factory);
        // Besides its own options, the table has 'type', which Flink needs to find the factory,
        // and 'pd-addresses', required here too; the tikv.* ones are only in connector-options.md.
        options.add(CommonCatalogOptions.CATALOG_TYPE);
        options.add(TiKVOptions.PD_ADDRESSES);
        Set<ConfigOption<?>> required = new HashSet<>(factory.requiredOptions());
        required.add(CommonCatalogOptions.CATALOG_TYPE);
        assertDocuments("catalog.md", options, required);
    }
}
