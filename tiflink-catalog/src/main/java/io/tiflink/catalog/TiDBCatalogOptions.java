package io.tiflink.catalog;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * Options of {@code CREATE CATALOG ... WITH ('type' = 'tidb', ...)}, besides the shared {@link
 * io.tiflink.connector.TiKVOptions} ({@code pd-addresses}, {@code tikv.*}).
 */
@PublicEvolving
public final class TiDBCatalogOptions {
    public static final String IDENTIFIER = "tidb";

    public static final ConfigOption<String> DEFAULT_DATABASE =
            ConfigOptions.key("default-database")
                    .stringType()
                    .defaultValue("test")
                    .withDescription("The database USE CATALOG starts in.");

    public static final ConfigOption<String> TIDB_DATABASE_URL =
            ConfigOptions.key("tidb.database.url")
                    .stringType()
                    .noDefaultValue()
                    .withDescription(
                            "JDBC URL of a TiDB server (jdbc:mysql://host:4000), for CREATE/DROP"
                                    + " DATABASE and TABLE; without it the catalog is read-only.");

    public static final ConfigOption<String> TIDB_USERNAME =
            ConfigOptions.key("tidb.username")
                    .stringType()
                    .defaultValue("root")
                    .withDescription("User for tidb.database.url.");

    public static final ConfigOption<String> TIDB_PASSWORD =
            ConfigOptions.key("tidb.password")
                    .stringType()
                    .defaultValue("")
                    .withDescription("Password for tidb.database.url.");

    private TiDBCatalogOptions() {}
}
