package io.tiflink.connector.sink;

import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.annotation.PublicEvolving;

import java.io.Serializable;

/** Turns the records of a job into the row changes the TiKV sink writes. */
@PublicEvolving
public interface TiKVSerializationSchema<T> extends Serializable {
    /**
     * Called once per subtask with the table's schema, before the first record.
     *
     * @throws Exception naming the column at fault if the records cannot fit the table
     */
    default void open(String qualifiedTable, TableInfo table) throws Exception {}

    /** The change for a record, or null to write nothing for it. */
    RowWrite serialize(T record);
}
