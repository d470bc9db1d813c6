package io.tiflink.tidb.types;

/**
 * MySQL type codes ({@code FieldType.Tp}) and column flags ({@code FieldType.Flag}) as TiDB stores
 * them.
 */
public final class MysqlType {
    public static final int TINY = 1;
    public static final int SHORT = 2;
    public static final int LONG = 3;
    public static final int FLOAT = 4;
    public static final int DOUBLE = 5;
    public static final int NULL = 6;
    public static final int TIMESTAMP = 7;
    public static final int LONGLONG = 8;
    public static final int INT24 = 9;
    public static final int DATE = 10;
    public static final int DURATION = 11;
    public static final int DATETIME = 12;
    public static final int YEAR = 13;
    public static final int NEWDATE = 14;
    public static final int VARCHAR = 15;
    public static final int BIT = 16;
    public static final int JSON = 245;
    public static final int NEWDECIMAL = 246;
    public static final int ENUM = 247;
    public static final int SET = 248;
    public static final int TINY_BLOB = 249;
    public static final int MEDIUM_BLOB = 250;
    public static final int LONG_BLOB = 251;
    public static final int BLOB = 252;
    public static final int VAR_STRING = 253;
    public static final int STRING = 254;
    public static final int GEOMETRY = 255;

    public static final int NOT_NULL_FLAG = 1;
    public static final int PRI_KEY_FLAG = 2;
    public static final int UNIQUE_KEY_FLAG = 4;
    public static final int MULTIPLE_KEY_FLAG = 8;
    public static final int BLOB_FLAG = 16;
    public static final int UNSIGNED_FLAG = 32;
    public static final int ZEROFILL_FLAG = 64;
    public static final int BINARY_FLAG = 128;
    public static final int ENUM_FLAG = 256;
    public static final int AUTO_INCREMENT_FLAG = 512;
    public static final int TIMESTAMP_FLAG = 1024;
    public static final int SET_FLAG = 2048;
    public static final int NO_DEFAULT_VALUE_FLAG = 4096;
    public static final int ON_UPDATE_NOW_FLAG = 8192;

    /** {@code types.UnspecifiedLength}. */
    public static final int UNSPECIFIED_LENGTH = -1;

    private MysqlType() {}

    public static boolean isInteger(int tp) {
        return tp == TINY || tp == SHORT || tp == INT24 || tp == LONG || tp == LONGLONG;
    }

    /** Char, varchar, text and blob types: strings or bytes depending on the charset. */
    public static boolean isString(int tp) {
        return tp == VARCHAR
                || tp == VAR_STRING
                || tp == STRING
                || tp == TINY_BLOB
                || tp == MEDIUM_BLOB
                || tp == LONG_BLOB
                || tp == BLOB;
    }

    /** The SQL name of a type code, for messages. */
    public static String name(int tp) {
        switch (tp) {
            case TINY:
                return "tinyint";
            case SHORT:
                return "smallint";
            case INT24:
                return "mediumint";
            case LONG:
                return "int";
            case LONGLONG:
                return "bigint";
            case FLOAT:
                return "float";
            case DOUBLE:
                return "double";
            case NEWDECIMAL:
                return "decimal";
            case TIMESTAMP:
                return "timestamp";
            case DATE:
            case NEWDATE:
                return "date";
            case DURATION:
                return "time";
            case DATETIME:
                return "datetime";
            case YEAR:
                return "year";
            case VARCHAR:
            case VAR_STRING:
                return "varchar";
            case STRING:
                return "char";
            case BIT:
                return "bit";
            case JSON:
                return "json";
            case ENUM:
                return "enum";
            case SET:
                return "set";
            case TINY_BLOB:
                return "tinyblob";
            case MEDIUM_BLOB:
                return "mediumblob";
            case LONG_BLOB:
                return "longblob";
            case BLOB:
                return "blob";
            case GEOMETRY:
                return "geometry";
            default:
                return "type " + tp;
        }
    }
}
