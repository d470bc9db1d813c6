package io.tiflink.tidb.meta;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Keeps the JSON fields this model does not name, so a TiDB-written object read and written back
 * (an ALTER through {@link SchemaWriter}) loses nothing TiDB put there.
 */
public abstract class MetaObject {
    private final Map<String, Object> other = new LinkedHashMap<>();

    @JsonAnySetter
    void setOther(String name, Object value) {
        other.put(name, value);
    }

    @JsonAnyGetter
    Map<String, Object> other() {
        return other;
    }
}
