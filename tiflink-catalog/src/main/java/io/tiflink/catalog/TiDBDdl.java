package io.tiflink.catalog;

import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ObjectPath;
import org.apache.flink.table.catalog.ResolvedCatalogTable;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.catalog.exceptions.CatalogException;
import org.apache.flink.table.types.logical.BinaryType;
import org.apache.flink.table.types.logical.CharType;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LocalZonedTimestampType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.TimeType;
import org.apache.flink.table.types.logical.TimestampType;
import org.apache.flink.table.types.logical.VarBinaryType;
import org.apache.flink.table.types.logical.VarCharType;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** The TiDB SQL of the catalog's DDL, sent through JDBC. */
final class TiDBDdl {
    private TiDBDdl() {}

    static String quote(String identifier) {
        return "`" + identifier.replace("`", "``") + "`";
    }

    private static String literal(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    static String createDatabase(String name, boolean ignoreIfExists) {
        return "CREATE DATABASE " + (ignoreIfExists ? "IF NOT EXISTS " : "") + quote(name);
    }

    static String dropDatabase(String name, boolean ignoreIfNotExists) {
        return "DROP DATABASE " + (ignoreIfNotExists ? "IF EXISTS " : "") + quote(name);
    }

    static String dropTable(ObjectPath path, boolean ignoreIfNotExists) {
        return "DROP TABLE "
                + (ignoreIfNotExists ? "IF EXISTS " : "")
                + quote(path.getDatabaseName())
                + "."
                + quote(path.getObjectName());
    }

    /**
     * CREATE TABLE for a Flink table: physical columns with their TiDB types, the primary key
     * (clustered, TiDB's default for new tables), and the comment.
     *
     * @throws CatalogException naming the column whose type TiDB cannot hold
     */
    static String createTable(ObjectPath path, ResolvedCatalogTable table, boolean ignoreIfExists) {
        ResolvedSchema schema = table.getResolvedSchema();
        List<String> defs = new ArrayList<>();
        for (Column c : schema.getColumns()) {
            if (!c.isPhysical()) {
                throw new CatalogException(
                        "column '"
                                + c.getName()
                                + "' of "
                                + path
                                + " is computed or metadata;"
                                + " a TiDB table holds physical columns only");
            }
            LogicalType t = c.getDataType().getLogicalType();
            String def = quote(c.getName()) + " " + tidbType(path, c.getName(), t);
            if (!t.isNullable()) {
                def += " NOT NULL";
            }
            if (c.getComment().isPresent()) {
                def += " COMMENT " + literal(c.getComment().get());
            }
            defs.add(def);
        }
        schema.getPrimaryKey()
                .ifPresent(
                        pk ->
                                defs.add(
                                        "PRIMARY KEY ("
                                                + pk.getColumns().stream()
                                                        .map(TiDBDdl::quote)
                                                        .collect(Collectors.joining(", "))
                                                + ")"));
        String sql =
                "CREATE TABLE "
                        + (ignoreIfExists ? "IF NOT EXISTS " : "")
                        + quote(path.getDatabaseName())
                        + "."
                        + quote(path.getObjectName())
                        + " ("
                        + String.join(", ", defs)
                        + ")";
        if (table.getComment() != null && !table.getComment().isEmpty()) {
            sql += " COMMENT=" + literal(table.getComment());
        }
        return sql;
    }

    private static String tidbType(ObjectPath path, String column, LogicalType t) {
        switch (t.getTypeRoot()) {
            case BOOLEAN:
                return "BOOLEAN";
            case TINYINT:
                return "TINYINT";
            case SMALLINT:
                return "SMALLINT";
            case INTEGER:
                return "INT";
            case BIGINT:
                return "BIGINT";
            case FLOAT:
                return "FLOAT";
            case DOUBLE:
                return "DOUBLE";
            case DECIMAL:
                {
                    DecimalType d = (DecimalType) t;
                    return "DECIMAL(" + d.getPrecision() + "," + d.getScale() + ")";
                }
            case CHAR:
                return "CHAR(" + ((CharType) t).getLength() + ")";
            case VARCHAR:
                {
                    int n = ((VarCharType) t).getLength();
                    return n == VarCharType.MAX_LENGTH ? "LONGTEXT" : "VARCHAR(" + n + ")";
                }
            case BINARY:
                return "BINARY(" + ((BinaryType) t).getLength() + ")";
            case VARBINARY:
                {
                    int n = ((VarBinaryType) t).getLength();
                    return n == VarBinaryType.MAX_LENGTH ? "LONGBLOB" : "VARBINARY(" + n + ")";
                }
            case DATE:
                return "DATE";
            case TIME_WITHOUT_TIME_ZONE:
                return "TIME(" + Math.min(((TimeType) t).getPrecision(), 6) + ")";
            case TIMESTAMP_WITHOUT_TIME_ZONE:
                return "DATETIME(" + Math.min(((TimestampType) t).getPrecision(), 6) + ")";
            case TIMESTAMP_WITH_LOCAL_TIME_ZONE:
                return "TIMESTAMP("
                        + Math.min(((LocalZonedTimestampType) t).getPrecision(), 6)
                        + ")";
            default:
                throw new CatalogException(
                        "column '"
                                + column
                                + "' of "
                                + path
                                + " has Flink type "
                                + t
                                + ", which has no TiDB type in TiFlink");
        }
    }
}
