package io.tiflink.catalog;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.catalog.Catalog;
import org.apache.flink.table.factories.CatalogFactory;
import org.apache.flink.table.factories.FactoryUtil;

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
        return Set.of(
                TiDBCatalogOptions.DEFAULT_DATABASE,
                TiDBCatalogOptions.TIDB_DATABASE_URL,
                TiDBCatalogOptions.TIDB_USERNAME,
                TiDBCatalogOptions.TIDB_PASSWORD,
                TiKVOptions.TIKV_GRPC_TIMEOUT,
                TiKVOptions.TIKV_GRPC_SCAN_TIMEOUT,
                TiKVOptions.TIKV_BATCH_GET_CONCURRENCY,
                TiKVOptions.TIKV_BATCH_SCAN_CONCURRENCY);
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
