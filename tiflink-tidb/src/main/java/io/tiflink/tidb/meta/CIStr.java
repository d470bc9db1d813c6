package io.tiflink.tidb.meta;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.Locale;
import java.util.Objects;

/** TiDB's case-insensitive name: the original ({@code O}) and its lower case ({@code L}). */
public final class CIStr {
    @JsonProperty("O")
    public final String o;

    @JsonProperty("L")
    public final String l;

    @JsonCreator
    public CIStr(@JsonProperty("O") String o, @JsonProperty("L") String l) {
        this.o = o == null ? "" : o;
        this.l = l == null ? this.o.toLowerCase(Locale.ROOT) : l;
    }

    public static CIStr of(String name) {
        return new CIStr(name, name.toLowerCase(Locale.ROOT));
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CIStr && ((CIStr) other).l.equals(l);
    }

    @Override
    public int hashCode() {
        return Objects.hash(l);
    }

    @Override
    public String toString() {
        return o;
    }
}
