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
        StringBuilder sb = new StringBuilder(MysqlType.name(tp));
        if (tp == MysqlType.STRING && "binary".equals(charset)) {
            sb = new StringBuilder("binary");
        } else if ((tp == MysqlType.VARCHAR || tp == MysqlType.VAR_STRING)
                && "binary".equals(charset)) {
            sb = new StringBuilder("varbinary");
        } else if (MysqlType.isString(tp)
                && tp != MysqlType.STRING
                && tp != MysqlType.VARCHAR
                && tp != MysqlType.VAR_STRING
                && !"binary".equals(charset)) {
            sb = new StringBuilder(MysqlType.name(tp).replace("blob", "text"));
        }
        if (tp == MysqlType.NEWDECIMAL) {
            sb.append('(').append(flen).append(',').append(decimal).append(')');
        } else if ((MysqlType.isString(tp)
                                && !sb.toString().endsWith("text")
                                && !sb.toString().endsWith("blob")
                        || tp == MysqlType.BIT)
                && flen >= 0) {
            sb.append('(').append(flen).append(')');
        } else if ((tp == MysqlType.DATETIME
                        || tp == MysqlType.TIMESTAMP
                        || tp == MysqlType.DURATION)
                && decimal > 0) {
            sb.append('(').append(decimal).append(')');
        }
        if ((tp == MysqlType.ENUM || tp == MysqlType.SET) && elems != null) {
            sb.append('(');
            for (int i = 0; i < elems.size(); i++) {
                sb.append(i > 0 ? "," : "")
                        .append('\'')
                        .append(elems.get(i).replace("'", "''"))
                        .append('\'');
            }
            sb.append(')');
        }
        if (isUnsigned()) {
            sb.append(" unsigned");
        }
        return sb.toString();
    }
}
