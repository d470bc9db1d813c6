package io.tiflink.tidb.meta;

import io.tiflink.tidb.types.MysqlType;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * A table ({@code model.TableInfo}), stored at meta hash {@code DB:<dbId>}, field {@code
 * Table:<id>}. Its handle is one of: the integer primary key ({@code pk_is_handle}), the clustered
 * primary key ({@code is_common_handle}), or the hidden {@code _tidb_rowid}.
 */
public final class TableInfo extends MetaObject {
    /** {@code model.TableInfoVersion5}. */
    public static final int CURRENT_VERSION = 5;

    @JsonProperty("id")
    public long id;

    @JsonProperty("name")
    public CIStr name;

    @JsonProperty("charset")
    public String charset = "utf8mb4";

    @JsonProperty("collate")
    public String collate = "utf8mb4_bin";

    @JsonProperty("cols")
    public List<ColumnInfo> columns = new ArrayList<>();

    @JsonProperty("index_info")
    public List<IndexInfo> indices = new ArrayList<>();

    @JsonProperty("state")
    public int state = SchemaState.PUBLIC;

    @JsonProperty("pk_is_handle")
    public boolean pkIsHandle;

    @JsonProperty("is_common_handle")
    public boolean isCommonHandle;

    @JsonProperty("common_handle_version")
    public int commonHandleVersion;

    @JsonProperty("comment")
    public String comment = "";

    @JsonProperty("auto_inc_id")
    public long autoIncId;

    /** {@code AUTO_ID_CACHE}: 1 makes TiDB allocate auto-increment ids in a service of its own. */
    @JsonProperty("auto_id_cache")
    public long autoIdCache;

    /** The shard bits of an {@code AUTO_RANDOM} primary key; 0 for other tables. */
    @JsonProperty("auto_random_bits")
    public long autoRandomBits;

    @JsonProperty("max_col_id")
    public long maxColumnId;

    @JsonProperty("max_idx_id")
    public long maxIndexId;

    @JsonProperty("update_timestamp")
    public long updateTimestamp;

    @JsonProperty("partition")
    public PartitionInfo partition;

    @JsonProperty("version")
    public int version = CURRENT_VERSION;

    /** A view's definition ({@code model.ViewInfo}); null for a base table. */
    @JsonProperty("view")
    public Object view;

    @JsonIgnore
    public boolean isView() {
        return view != null;
    }

    @JsonIgnore
    public String name() {
        return name.o;
    }

    /** The column of this name (case-insensitive), or null. */
    public ColumnInfo column(String columnName) {
        String l = columnName.toLowerCase(Locale.ROOT);
        for (ColumnInfo c : columns) {
            if (c.name.l.equals(l)) {
                return c;
            }
        }
        return null;
    }

    /** The index of this name (case-insensitive), in any state, or null. */
    public IndexInfo index(String indexName) {
        CIStr n = CIStr.of(indexName);
        return indices.stream().filter(i -> n.equals(i.name)).findFirst().orElse(null);
    }

    /** The primary key index (clustered or not), or null; an integer handle PK has none. */
    @JsonIgnore
    public IndexInfo primaryIndex() {
        for (IndexInfo idx : indices) {
            if (idx.primary) {
                return idx;
            }
        }
        return null;
    }

    /** The integer primary key column stored as the handle, or null. */
    @JsonIgnore
    public ColumnInfo pkHandleColumn() {
        if (!pkIsHandle) {
            return null;
        }
        for (ColumnInfo c : columns) {
            if (c.isPrimaryKey() && MysqlType.isInteger(c.type.tp)) {
                return c;
            }
        }
        return null;
    }

    /** Primary key column names in key order; empty for a table without a primary key. */
    @JsonIgnore
    public List<String> primaryKeyColumns() {
        ColumnInfo handle = pkHandleColumn();
        if (handle != null) {
            return List.of(handle.name());
        }
        IndexInfo pk = primaryIndex();
        if (pk == null) {
            return Collections.emptyList();
        }
        List<String> names = new ArrayList<>();
        for (IndexInfo.IndexColumn c : pk.columns) {
            names.add(columns.get(c.offset).name());
        }
        return names;
    }

    /** Ids of the physical tables holding the rows: the partitions', or this table's own. */
    @JsonIgnore
    public List<Long> physicalIds() {
        if (partition == null || partition.definitions.isEmpty()) {
            return List.of(id);
        }
        List<Long> ids = new ArrayList<>();
        for (PartitionInfo.PartitionDefinition d : partition.definitions) {
            ids.add(d.id);
        }
        return ids;
    }
}
