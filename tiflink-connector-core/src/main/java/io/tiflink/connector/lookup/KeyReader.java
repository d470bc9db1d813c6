package io.tiflink.connector.lookup;

import org.apache.flink.annotation.Internal;
import org.apache.flink.table.data.RowData;

import java.io.Serializable;
import java.util.Collection;
import java.util.List;

/** Reads the rows of batches of lookup keys; {@link LookupReader} reads them from TiKV. */
@Internal
interface KeyReader extends Serializable {
    void open();

    /** The rows matching each key row, in the keys' order. */
    List<Collection<RowData>> read(List<RowData> keyRows);

    void close() throws Exception;
}
