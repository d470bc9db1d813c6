package io.tiflink.playground;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.storage.TimeStamps;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.TableInfo;

import java.io.PrintStream;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * Prints the playground's view as a TiDB reader sees it: the view and its progress row read at one
 * fresh TSO, as one read-only transaction does.
 */
final class ViewPrinter {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss.SSS");

    private final MiniTiKVCluster cluster;
    private final MiniClusterRows rows;
    private final TableInfo view;
    private final TableInfo progress;
    private final String viewName;
    private final PrintStream out;

    /** {@code viewName} is the view's progress row's: {@code database.table}. */
    ViewPrinter(
            MiniTiKVCluster cluster,
            String viewName,
            TableInfo view,
            TableInfo progress,
            PrintStream out) {
        this.cluster = cluster;
        this.rows = new MiniClusterRows(cluster);
        this.viewName = viewName;
        this.view = view;
        this.progress = progress;
        this.out = out;
    }

    void print() {
        long readTs = cluster.currentTs();
        Long cut = null;
        for (Object[] p : rows.rows(progress, readTs)) {
            if (p[0].equals(viewName)) {
                cut = (Long) p[1];
            }
        }
        if (cut == null) {
            // No cut yet: the job is still reading the sources' snapshots into the view.
            out.println(viewName + ": no cut yet, the view is being built");
            return;
        }
        StringBuilder line = new StringBuilder(viewName);
        line.append(" at T=").append(cut).append(" (").append(time(cut));
        long lagMillis = TimeStamps.physical(readTs) - TimeStamps.physical(cut);
        line.append(String.format(Locale.ROOT, ", %.1f s ago):", lagMillis / 1000.0));
        String separator = " ";
        for (Object[] r : rows.rows(view, readTs)) {
            line.append(separator).append(r[0]).append(' ').append(r[1]);
            line.append(" (").append(r[2]).append(r[2].equals(1L) ? " order)" : " orders)");
            separator = ", ";
        }
        out.println(line);
    }

    /** The wall-clock time of a TSO, as {@code TIDB_PARSE_TSO} gives it. */
    private static String time(long tso) {
        Instant at = Instant.ofEpochMilli(TimeStamps.physical(tso));
        return LocalTime.ofInstant(at, ZoneId.systemDefault()).format(TIME);
    }
}
