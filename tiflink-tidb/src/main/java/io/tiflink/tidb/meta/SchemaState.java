package io.tiflink.tidb.meta;

/** TiDB's schema object states ({@code model.SchemaState}); readers see only public objects. */
public final class SchemaState {
    public static final int NONE = 0;
    public static final int DELETE_ONLY = 1;
    public static final int WRITE_ONLY = 2;
    public static final int WRITE_REORGANIZATION = 3;
    public static final int DELETE_REORGANIZATION = 4;
    public static final int PUBLIC = 5;

    private SchemaState() {}
}
