package io.tiflink.tidb.meta;

import io.tiflink.tidb.types.MysqlType;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

/** A column ({@code model.ColumnInfo}). */
public final class ColumnInfo extends MetaObject {
    @JsonProperty("id")
    public long id;

    @JsonProperty("name")
    public CIStr name;

    @JsonProperty("offset")
    public int offset;

    /** The default that rows written before the column existed read as (a string, or null). */
    @JsonProperty("origin_default")
    public Object originDefault;

    @JsonProperty("origin_default_bit")
    public String originDefaultBit;

    @JsonProperty("default")
    public Object defaultValue;

    @JsonProperty("default_bit")
    public String defaultBit;

    @JsonProperty("default_is_expr")
    public boolean defaultIsExpr;

    @JsonProperty("generated_expr_string")
    public String generatedExprString = "";

    @JsonProperty("generated_stored")
    public boolean generatedStored;

    @JsonProperty("type")
    public FieldType type = new FieldType();

    @JsonProperty("state")
    public int state = SchemaState.PUBLIC;

    @JsonProperty("comment")
    public String comment = "";

    @JsonProperty("hidden")
    public boolean hidden;

    @JsonProperty("version")
    public int version = 2;

    @JsonIgnore
    public String name() {
        return name.o;
    }

    @JsonIgnore
    public boolean isPrimaryKey() {
        return type.hasFlag(MysqlType.PRI_KEY_FLAG);
    }

    /** A virtual generated column: computed on read, never stored. */
    @JsonIgnore
    public boolean isVirtualGenerated() {
        return generatedExprString != null && !generatedExprString.isEmpty() && !generatedStored;
    }

    @Override
    public String toString() {
        return name.o + " " + type.sqlName();
    }
}
