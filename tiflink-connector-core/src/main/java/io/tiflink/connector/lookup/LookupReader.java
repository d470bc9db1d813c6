package io.tiflink.connector.lookup;

import io.tiflink.connector.TiKVOptions;
import io.tiflink.connector.table.RowConverter;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tikv.txn.TxnClient;

import org.apache.flink.annotation.Internal;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.RowType;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Lookups of Flink key rows in one TiDB table: each batch of keys is read at a fresh TSO through
 * {@link TxnClient} (locks settled as TiDB's reads settle them), so every row is the committed one
 * as of a moment after the batch began. Keys and rows are converted as the source converts them.
 */
@Internal
public final class LookupReader implements KeyReader {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(LookupReader.class);

    private final Map<String, String> options;
    private final String database;
    private final String tableName;
    private final RowType keyType;
    private final RowType rowType;
    private final int maxRetries;

    private transient TxnClient client;
    private transient TableLookup lookup;
    private transient RowConverter keys;
    private transient RowConverter rows;

    /**
     * @param keyType the lookup key columns (named as the table's), in the key rows' order
     * @param rowType the columns of the rows produced
     * @param maxRetries how many times a failed read is tried again
     */
    public LookupReader(
            Map<String, String> options,
            String database,
            String tableName,
            RowType keyType,
            RowType rowType,
            int maxRetries) {
        this.options = options;
        this.database = database;
        this.tableName = tableName;
        this.keyType = keyType;
        this.rowType = rowType;
        this.maxRetries = maxRetries;
    }

    /** The table's current schema, or a failure naming it. */
    static TableInfo table(TxnClient client, String database, String tableName) {
        TableInfo t = MetaReader.latest(client.session()).table(database, tableName);
        if (t == null || t.isView()) {
            throw new IllegalArgumentException(
                    "TiDB table "
                            + database
                            + "."
                            + tableName
                            + " does not exist; a lookup reads one table, named exactly");
        }
        return t;
    }

    /**
     * Plans the lookup on the table's current schema: fails, naming the columns and the indexes,
     * when no index serves it.
     */
    public static TableLookup plan(
            Map<String, String> options, String database, String tableName, List<String> keys) {
        try (TxnClient c = open(options)) {
            return TableLookup.plan(
                    database + "." + tableName, table(c, database, tableName), keys);
        }
    }

    private static TxnClient open(Map<String, String> options) {
        Configuration conf = Configuration.fromMap(options);
        return TiKVOptions.connecting(
                () ->
                        TxnClient.open(
                                TiKVOptions.toTiConfiguration(conf),
                                TiKVOptions.unavailableTimeout(conf),
                                0));
    }

    @Override
    public void open() {
        client = open(options);
        String qualified = database + "." + tableName;
        TableInfo table = table(client, database, tableName);
        lookup = TableLookup.plan(qualified, table, keyType.getFieldNames());
        keys = new RowConverter(qualified, table, keyType);
        rows = new RowConverter(qualified, table, rowType);
        LOG.info("Lookups on {} by {} read {}", qualified, keyType.getFieldNames(), lookup);
    }

    /** The rows matching each key row, read at one fresh TSO; retried up to maxRetries times. */
    @Override
    public List<Collection<RowData>> read(List<RowData> keyRows) {
        List<Object[]> tidbKeys = new ArrayList<>(keyRows.size());
        for (RowData k : keyRows) {
            tidbKeys.add(keys.toTiDB(k));
        }
        for (int attempt = 0; ; attempt++) {
            try {
                List<List<Object[]>> found = lookup.read(client, client.timestamp(), tidbKeys);
                List<Collection<RowData>> out = new ArrayList<>(found.size());
                for (List<Object[]> matches : found) {
                    List<RowData> r = new ArrayList<>(matches.size());
                    for (Object[] m : matches) {
                        r.add(GenericRowData.of(rows.toInternal(m)));
                    }
                    out.add(r);
                }
                return out;
            } catch (RuntimeException e) {
                if (attempt >= maxRetries) {
                    throw e;
                }
                LOG.warn(
                        "Lookup of {} keys in {}.{} failed (attempt {} of {}), trying again",
                        keyRows.size(),
                        database,
                        tableName,
                        attempt + 1,
                        maxRetries + 1,
                        e);
            }
        }
    }

    @Override
    public void close() throws Exception {
        if (client != null) {
            client.close();
            client = null;
        }
    }
}
