package io.tiflink.catalog;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.factories.CatalogFactory;
import org.apache.flink.table.factories.FactoryUtil;

import java.util.HashSet;
import java.util.Set;

/** {@code CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '...')}. */
@PublicEvolving
public class TiDBCatalogFactory implements CatalogFactory {
    @Override
    public String factoryIdentifier() {
        return TiDBCatalogOptions.IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(TiKVOptions.PD_ADDRESSES);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        // The connection options (TLS included) reach the catalog's tables too.
        Set<ConfigOption<?>> o = new HashSet<>(TiKVOptions.optional());
        o.add(TiDBCatalogOptions.DEFAULT_DATABASE);
        o.add(TiDBCatalogOptions.TIDB_DATABASE_URL);
        o.add(TiDBCatalogOptions.TIDB_USERNAME);
        o.add(TiDBCatalogOptions.TIDB_PASSWORD);
        return o;
    }

    @Override
    public Catalog createCatalog(Context context) {
        FactoryUtil.CatalogFactoryHelper helper =
                FactoryUtil.createCatalogFactoryHelper(this, context);
        helper.validate();
        Configuration options = Configuration.fromMap(context.getOptions());
        // Fail at CREATE CATALOG, naming the option, rather than at first use.
        TiKVOptions.toTiConfiguration(options);
        return new TiDBCatalog(
                context.getName(),
                helper.getOptions().get(TiDBCatalogOptions.DEFAULT_DATABASE),
                options);
    }
}
