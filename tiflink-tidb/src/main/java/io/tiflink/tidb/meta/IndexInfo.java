package io.tiflink.tidb.meta;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.List;

/** An index ({@code model.IndexInfo}); the primary key of a clustered table is one too. */
public final class IndexInfo extends MetaObject {
    /** BTREE, as TiDB writes it for ordinary indexes. */
    public static final int TYPE_BTREE = 1;

    @JsonProperty("id")
    public long id;

    @JsonProperty("idx_name")
    public CIStr name;

    @JsonProperty("tbl_name")
    public CIStr tableName = new CIStr("", "");

    @JsonProperty("idx_cols")
    public List<IndexColumn> columns = new ArrayList<>();

    @JsonProperty("state")
    public int state = SchemaState.PUBLIC;

    @JsonProperty("comment")
    public String comment = "";

    @JsonProperty("index_type")
    public int indexType = TYPE_BTREE;

    @JsonProperty("is_unique")
    public boolean unique;

    @JsonProperty("is_primary")
    public boolean primary;

    @JsonProperty("is_invisible")
    public boolean invisible;

    @JsonProperty("is_global")
    public boolean global;

    @JsonProperty("mv_index")
    public boolean mvIndex;

    /** An ordinary index over whole columns, to add with {@link SchemaWriter#addIndex}. */
    public static IndexInfo of(String name, boolean unique, String... columns) {
        IndexInfo idx = new IndexInfo();
        idx.name = CIStr.of(name);
        idx.unique = unique;
        for (String c : columns) {
            idx.columns.add(new IndexColumn(CIStr.of(c), 0, -1));
        }
        return idx;
    }

    /**
     * Whether writes add this index's entries ({@code tables.IsIndexWritable}): in every state but
     * delete-only and delete reorganization, so from write-only on while it is added and until
     * write-only while it is dropped.
     */
    @JsonIgnore
    public boolean writable() {
        return state != SchemaState.NONE
                && state != SchemaState.DELETE_ONLY
                && state != SchemaState.DELETE_REORGANIZATION;
    }

    /**
     * Whether deletes remove this index's entries: in every state it is listed in ({@code
     * DeletableIndices}), so that a row deleted by a writer one schema version behind leaves no
     * entry that a writer one version ahead wrote.
     */
    @JsonIgnore
    public boolean deletable() {
        return state != SchemaState.NONE;
    }

    /** A column of an index: its name, its offset in the table's columns, a prefix length or -1. */
    public static final class IndexColumn extends MetaObject {
        @JsonProperty("name")
        public CIStr name;

        @JsonProperty("offset")
        public int offset;

        @JsonProperty("length")
        public int length = -1;

        public IndexColumn() {}

        public IndexColumn(CIStr name, int offset, int length) {
            this.name = name;
            this.offset = offset;
            this.length = length;
        }
    }
}
