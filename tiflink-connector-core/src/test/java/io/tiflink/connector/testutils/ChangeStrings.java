package io.tiflink.connector.testutils;

import io.tiflink.connector.source.TiDBChange;
import io.tiflink.connector.source.TiKVDeserializationSchema;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.util.Collector;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * A deserializer for tests: each change as a string, {@code KIND table [before] -> [after] @commit}
 * with the values as the codec gives them.
 */
public final class ChangeStrings implements TiKVDeserializationSchema<String> {
    @Override
    public void deserialize(TiDBChange change, Collector<String> out) {
        out.collect(
                change.kind()
                        + " "
                        + change.table().name()
                        + " "
                        + row(change.before())
                        + " -> "
                        + row(change.after())
                        + (change.commitTs() == 0 ? "" : " @" + change.commitTs()));
    }

    public static String row(Object[] values) {
        if (values == null) {
            return "-";
        }
        return Arrays.stream(values)
                .map(String::valueOf)
                .collect(Collectors.joining(",", "[", "]"));
    }

    @Override
    public TypeInformation<String> getProducedType() {
        return Types.STRING;
    }
}
