package io.tiflink.tidb.meta;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The JSON of TiDB's schema objects, read and written with TiDB's field names. */
public final class MetaJson {
    private static final ObjectMapper MAPPER =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private MetaJson() {}

    public static String write(Object metaObject) {
        try {
            return MAPPER.writeValueAsString(metaObject);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(
                    "cannot serialize " + metaObject.getClass().getSimpleName(), e);
        }
    }

    public static byte[] bytes(Object metaObject) {
        return write(metaObject).getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Parses TiDB-written JSON.
     *
     * @throws UncheckedIOException saying what could not be parsed
     */
    public static <T> T read(byte[] json, Class<T> type) {
        try {
            return MAPPER.readValue(json, type);
        } catch (IOException e) {
            throw new UncheckedIOException(
                    "invalid "
                            + type.getSimpleName()
                            + " JSON: "
                            + new String(json, StandardCharsets.UTF_8),
                    e);
        }
    }

    /** A deep copy, through JSON. */
    public static <T> T copy(T metaObject, Class<T> type) {
        return read(bytes(metaObject), type);
    }
}
