package io.tiflink.connector.lookup;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.LookupFunction;

import java.util.Collection;
import java.util.Collections;

/** Synchronous lookups in a TiDB table: each key read on its own, at a fresh TSO. */
@Internal
public final class TiKVRowDataLookupFunction extends LookupFunction {
    private static final long serialVersionUID = 1L;

    private final LookupReader reader;

    public TiKVRowDataLookupFunction(LookupReader reader) {
        this.reader = reader;
    }

    @Override
    public void open(FunctionContext context) {
        reader.open();
    }

    @Override
    public Collection<RowData> lookup(RowData keyRow) {
        return reader.read(Collections.singletonList(keyRow)).get(0);
    }

    @Override
    public void close() throws Exception {
        reader.close();
    }
}
