package io.tiflink.connector.table;

import io.tiflink.connector.source.TiDBChange;
import io.tiflink.connector.source.TiKVDeserializationSchema;
import io.tiflink.tidb.meta.TableInfo;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.data.StringData;
import org.apache.flink.table.data.TimestampData;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.logical.RowType;
import org.apache.flink.types.RowKind;
import org.apache.flink.util.Collector;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * TiDB row changes as Flink SQL's {@link RowData} changelog: the physical columns (matched by
 * name), then the requested metadata columns. Updates are -U/+U, or +U alone in upsert mode.
 */
final class RowDataDeserializationSchema implements TiKVDeserializationSchema<RowData> {
    private static final long serialVersionUID = 1L;

    private final RowType physicalType;
    private final List<ReadableMetadata> metadata;
    private final boolean upsert;
    private final TypeInformation<RowData> producedType;

    /** Converters per table schema (the same TableInfo object until a schema change). */
    private transient Map<TableInfo, RowConverter> converters;

    public RowDataDeserializationSchema(
            RowType physicalType,
            List<ReadableMetadata> metadata,
            boolean upsert,
            TypeInformation<RowData> producedType) {
        this.physicalType = physicalType;
        this.metadata = metadata;
        this.upsert = upsert;
        this.producedType = producedType;
    }

    @Override
    public void deserialize(TiDBChange change, Collector<RowData> out) {
        RowConverter converter = converter(change);
        switch (change.kind()) {
            case SNAPSHOT:
            case INSERT:
                out.collect(row(RowKind.INSERT, converter, change.after(), change));
                break;
            case UPDATE:
                if (!upsert) {
                    out.collect(row(RowKind.UPDATE_BEFORE, converter, change.before(), change));
                }
                out.collect(row(RowKind.UPDATE_AFTER, converter, change.after(), change));
                break;
            case DELETE:
                out.collect(row(RowKind.DELETE, converter, change.before(), change));
                break;
            default:
                throw new IllegalStateException("unknown change kind " + change.kind());
        }
    }

    private RowConverter converter(TiDBChange change) {
        if (converters == null || converters.size() > 64) {
            converters = new IdentityHashMap<>();
        }
        return converters.computeIfAbsent(
                change.table(),
                t -> new RowConverter(change.database() + "." + t.name(), t, physicalType));
    }

    private GenericRowData row(
            RowKind kind, RowConverter converter, Object[] values, TiDBChange c) {
        Object[] physical = converter.toInternal(values);
        GenericRowData row = new GenericRowData(kind, physical.length + metadata.size());
        for (int i = 0; i < physical.length; i++) {
            row.setField(i, physical[i]);
        }
        for (int i = 0; i < metadata.size(); i++) {
            row.setField(physical.length + i, metadata.get(i).read(c));
        }
        return row;
    }

    @Override
    public TypeInformation<RowData> getProducedType() {
        return producedType;
    }

    /** The metadata columns the source can add to its rows. */
    public enum ReadableMetadata {
        DATABASE_NAME("database_name", DataTypes.STRING().notNull()) {
            @Override
            Object read(TiDBChange c) {
                return StringData.fromString(c.database());
            }
        },
        TABLE_NAME("table_name", DataTypes.STRING().notNull()) {
            @Override
            Object read(TiDBChange c) {
                return StringData.fromString(c.table().name());
            }
        },
        /** The commit time; 0 (the epoch) for rows of the snapshot, as in flink-cdc. */
        OP_TS("op_ts", DataTypes.TIMESTAMP_LTZ(3).notNull()) {
            @Override
            Object read(TiDBChange c) {
                return TimestampData.fromEpochMillis(c.commitTimeMillis());
            }
        };

        final String key;
        final DataType type;

        ReadableMetadata(String key, DataType type) {
            this.key = key;
            this.type = type;
        }

        abstract Object read(TiDBChange c);

        public String key() {
            return key;
        }

        static ReadableMetadata of(String key) {
            for (ReadableMetadata m : values()) {
                if (m.key.equals(key)) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown metadata column '" + key + "'");
        }
    }
}
