package io.tiflink.e2e;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.TableInfo;

import org.tikv.common.TiSession;

import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TiDB tables' rows read from the minicluster's stores, for comparing a job's target to its source.
 */
final class TableContents {
    private TableContents() {}

    /** Asserts that {@code target} holds the same rows as {@code source}, both read at one TSO. */
    static void assertSameRows(
            MiniTiKVCluster cluster,
            TiSession session,
            String database,
            String source,
            String target) {
        MiniClusterRows rows = new MiniClusterRows(cluster);
        MetaReader meta = MetaReader.latest(session);
        long ts = cluster.currentTs();
        assertThat(rowStrings(rows, meta.table(database, target), ts))
                .as("the rows of %s.%s, equal to those of %s", database, target, source)
                .isEqualTo(rowStrings(rows, meta.table(database, source), ts));
    }

    private static List<String> rowStrings(MiniClusterRows rows, TableInfo table, long ts) {
        return rows.rows(table, ts).stream()
                .map(Arrays::toString)
                .sorted()
                .collect(Collectors.toList());
    }
}
