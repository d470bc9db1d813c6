package io.tiflink.tidb.meta;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.List;

/**
 * A partitioned table's partitioning ({@code model.PartitionInfo}). Each partition is a physical
 * table of its own id: its rows and local indexes are keyed by the partition id, not the table id.
 */
public final class PartitionInfo extends MetaObject {
    public static final int RANGE = 1;
    public static final int HASH = 2;
    public static final int LIST = 3;
    public static final int KEY = 4;

    @JsonProperty("type")
    public int type;

    @JsonProperty("expr")
    public String expr = "";

    @JsonProperty("columns")
    public List<CIStr> columns = new ArrayList<>();

    @JsonProperty("enable")
    public boolean enable = true;

    @JsonProperty("definitions")
    public List<PartitionDefinition> definitions = new ArrayList<>();

    @JsonProperty("num")
    public long num;

    /** One partition ({@code model.PartitionDefinition}). */
    public static final class PartitionDefinition extends MetaObject {
        @JsonProperty("id")
        public long id;

        @JsonProperty("name")
        public CIStr name;

        @JsonProperty("less_than")
        public List<String> lessThan = new ArrayList<>();

        @JsonProperty("in_values")
        public List<List<String>> inValues;

        @JsonProperty("comment")
        public String comment = "";
    }
}
