package io.tiflink.tidb.meta;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

/** A database ({@code model.DBInfo}), stored at meta hash {@code DBs}, field {@code DB:<id>}. */
public final class DBInfo extends MetaObject {
    @JsonProperty("id")
    public long id;

    @JsonProperty("db_name")
    public CIStr name;

    @JsonProperty("charset")
    public String charset = "utf8mb4";

    @JsonProperty("collate")
    public String collate = "utf8mb4_bin";

    @JsonProperty("state")
    public int state = SchemaState.PUBLIC;

    @JsonIgnore
    public String name() {
        return name.o;
    }
}
