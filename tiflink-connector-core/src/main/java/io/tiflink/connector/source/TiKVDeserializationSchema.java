package io.tiflink.connector.source;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.util.Collector;

import java.io.Serializable;

/** Turns the source's decoded row changes into the records of a job. */
@PublicEvolving
public interface TiKVDeserializationSchema<T> extends Serializable, ResultTypeQueryable<T> {
    /** Called once per reader before the first change. */
    default void open() throws Exception {}

    /** Emits zero or more records for one change. */
    void deserialize(TiDBChange change, Collector<T> out) throws Exception;
}
