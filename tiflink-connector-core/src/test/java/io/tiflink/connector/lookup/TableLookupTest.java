package io.tiflink.connector.lookup;

import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SchemaFile;

import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Which access path a lookup takes, and the refusal when no index serves it. */
class TableLookupTest {
    private static TableInfo table(String ddl) {
        return SchemaFile.parse("t.sql", "CREATE DATABASE d; USE d; " + ddl).get(1).table;
    }

    private static String plan(TableInfo t, String... keys) {
        return TableLookup.plan("d." + t.name(), t, List.of(keys)).toString();
    }

    private static final TableInfo T =
            table(
                    "CREATE TABLE t (id BIGINT PRIMARY KEY, a INT, b INT, c VARCHAR(8),"
                            + " UNIQUE KEY ua (a), KEY iab (a, b), KEY ibc (b, c));");

    @Test
    void aPointReadFirstThenTheIndexCoveringTheMostKeyColumns() {
        assertThat(plan(T, "a", "id")).isEqualTo("INT_HANDLE");
        assertThat(plan(T, "a")).isEqualTo("UNIQUE_INDEX ua[1]");
        assertThat(plan(T, "b", "a")).isEqualTo("UNIQUE_INDEX ua[1]");
        assertThat(plan(T, "b")).isEqualTo("INDEX_RANGE ibc[1]");
        assertThat(plan(T, "c", "b")).isEqualTo("INDEX_RANGE ibc[2]");
    }

    @Test
    void theClusteredKeyWholeOrItsPrefixBeforeAnotherIndexOfAsManyColumns() {
        TableInfo p =
                table(
                        "CREATE TABLE p (a INT, b INT, v INT, PRIMARY KEY (a, b) CLUSTERED,"
                                + " KEY ia (a), KEY iv (v));");
        Collections.reverse(p.indices); // not by the order of the indexes
        assertThat(p.indices.get(0).name.o).isEqualTo("iv");
        assertThat(plan(p, "a", "b")).isEqualTo("CLUSTERED_KEY PRIMARY[2]");
        assertThat(plan(p, "a")).isEqualTo("CLUSTERED_RANGE PRIMARY[1]");
        assertThat(plan(p, "v")).isEqualTo("INDEX_RANGE iv[1]");
    }

    @Test
    void aLookupNoIndexStartsWithIsRefusedNamingTheColumnsAndTheIndexes() {
        assertThatThrownBy(() -> plan(T, "c"))
                .hasMessage(
                        "a lookup on [c] of TiDB table d.t needs an index starting with one of"
                                + " these columns, and it has PRIMARY (id), ua (a), iab (a, b),"
                                + " ibc (b, c): join on the columns of one of them");
        TableInfo bare = table("CREATE TABLE bare (x INT, y INT);");
        assertThatThrownBy(() -> plan(bare, "x"))
                .hasMessageContaining("it has no index (rows keyed by _tidb_rowid)");
    }
}
