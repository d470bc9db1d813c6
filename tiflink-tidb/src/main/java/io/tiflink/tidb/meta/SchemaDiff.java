package io.tiflink.tidb.meta;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * What one schema version changed ({@code model.SchemaDiff}), stored at meta string key {@code
 * Diff:<version>}; TiDB and CDC tools reload only what a diff names.
 */
public final class SchemaDiff extends MetaObject {
    // ActionType codes of pkg/meta/model/job.go.
    public static final int CREATE_SCHEMA = 1;
    public static final int DROP_SCHEMA = 2;
    public static final int CREATE_TABLE = 3;
    public static final int DROP_TABLE = 4;
    public static final int ADD_COLUMN = 5;
    public static final int DROP_COLUMN = 6;
    public static final int ADD_INDEX = 7;
    public static final int DROP_INDEX = 8;
    public static final int TRUNCATE_TABLE = 11;

    @JsonProperty("version")
    public long version;

    @JsonProperty("type")
    public int type;

    @JsonProperty("schema_id")
    public long schemaId;

    @JsonProperty("table_id")
    public long tableId;

    @JsonProperty("old_table_id")
    public long oldTableId;

    @JsonProperty("old_schema_id")
    public long oldSchemaId;

    @JsonProperty("regenerate_schema_map")
    public boolean regenerateSchemaMap;
}
