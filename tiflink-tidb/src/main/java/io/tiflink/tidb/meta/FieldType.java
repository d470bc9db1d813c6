package io.tiflink.tidb.meta;

import io.tiflink.tidb.types.MysqlType;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.List;

/** A column's type as TiDB stores it ({@code types.FieldType}: {@code "type":{"Tp":..}}). */
public final class FieldType extends MetaObject {
    @JsonProperty("Tp")
    public int tp;

    @JsonProperty("Flag")
    public int flag;

    @JsonProperty("Flen")
    public int flen = MysqlType.UNSPECIFIED_LENGTH;

    @JsonProperty("Decimal")
    public int decimal = MysqlType.UNSPECIFIED_LENGTH;

    @JsonProperty("Charset")
    public String charset = "binary";

    @JsonProperty("Collate")
    public String collate = "binary";

    @JsonProperty("Elems")
    public List<String> elems;

    @JsonProperty("ElemsIsBinaryLit")
    public List<Boolean> elemsIsBinaryLit;

    @JsonProperty("Array")
    public boolean array;

    public FieldType() {}

    public FieldType(int tp) {
        this.tp = tp;
    }

    public boolean hasFlag(int f) {
        return (flag & f) != 0;
    }

    @JsonIgnore
    public boolean isUnsigned() {
        return hasFlag(MysqlType.UNSIGNED_FLAG);
    }

    @JsonIgnore
    public boolean isNotNull() {
        return hasFlag(MysqlType.NOT_NULL_FLAG);
    }

    /**
     * The range a TINYINT, SMALLINT, MEDIUMINT or INT column holds, as {@code {min, max}}; null for
     * other types (BIGINT holds every {@code long}).
     */
    @JsonIgnore
    public long[] intRange() {
        int bits;
        switch (tp) {
            case MysqlType.TINY:
                bits = 8;
                break;
            case MysqlType.SHORT:
                bits = 16;
                break;
            case MysqlType.INT24:
                bits = 24;
                break;
            case MysqlType.LONG:
                bits = 32;
                break;
            default:
                return null;
        }
        return isUnsigned()
                ? new long[] {0, (1L << bits) - 1}
                : new long[] {-(1L << (bits - 1)), (1L << (bits - 1)) - 1};
    }

    /** Char/varchar/text/blob with the binary charset: bytes rather than text. */
    @JsonIgnore
    public boolean isBinaryString() {
        return MysqlType.isString(tp) && "binary".equals(charset);
    }

    @JsonIgnore
    public List<String> elemsOrEmpty() {
        return elems == null ? new ArrayList<>() : elems;
    }

    /** The SQL form of the type, e.g. {@code varchar(64)} or {@code bigint unsigned}. */
    public String sqlName() {
        boolean bytes = "binary".equals(charset);
        String name = MysqlType.name(tp);
        String args = "";
        switch (tp) {
            case MysqlType.STRING:
                name = bytes ? "binary" : "char";
                args = "(" + flen + ")";
                break;
            case MysqlType.VARCHAR:
            case MysqlType.VAR_STRING:
                name = bytes ? "varbinary" : "varchar";
                args = "(" + flen + ")";
                break;
            case MysqlType.TINY_BLOB:
            case MysqlType.BLOB:
            case MysqlType.MEDIUM_BLOB:
            case MysqlType.LONG_BLOB:
                name = bytes ? name : name.replace("blob", "text");
                break;
            case MysqlType.NEWDECIMAL:
                args = "(" + flen + "," + decimal + ")";
                break;
            case MysqlType.BIT:
                args = "(" + flen + ")";
                break;
            case MysqlType.DATETIME:
            case MysqlType.TIMESTAMP:
            case MysqlType.DURATION:
                args = decimal > 0 ? "(" + decimal + ")" : "";
                break;
            case MysqlType.ENUM:
            case MysqlType.SET:
                StringBuilder sb = new StringBuilder("(");
                for (String e : elemsOrEmpty()) {
                    sb.append(sb.length() > 1 ? "," : "")
                            .append('\'')
                            .append(e.replace("'", "''"))
                            .append('\'');
                }
                args = sb.append(')').toString();
                break;
            default:
                break;
        }
        return name + args + (isUnsigned() && tp != MysqlType.BIT ? " unsigned" : "");
    }
}
