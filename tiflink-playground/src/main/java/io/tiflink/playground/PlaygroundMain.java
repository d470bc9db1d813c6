package io.tiflink.playground;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.schema.SchemaFile;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestOptions;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The playground: a minicluster with a small TiDB shop whose orders keep changing, and a Flink SQL
 * streaming job that reads them through the TiKV source and prints the live changelog of a join of
 * orders with customers. The same job keeps a consistent materialized view in TiDB, revenue per
 * city, which is printed every few seconds as a TiDB reader sees it. Flink's web UI runs on
 * localhost.
 *
 * <pre>
 * bin/tiflink-playground [--pd-port 2379] [--web-port 8081] [--changes-per-second 2] [--rows N]
 * </pre>
 */
public final class PlaygroundMain {
    static final String USAGE =
            "usage: tiflink-playground [--pd-port PORT] [--web-port PORT]"
                    + " [--changes-per-second N] [--rows N]\n"
                    + "  --pd-port             PD's port on 127.0.0.1 (default 2379; 0: any free)\n"
                    + "  --web-port            Flink's web UI (default 8081; 0: any free)\n"
                    + "  --changes-per-second  transactions the shop makes (default 2)\n"
                    + "  --rows                stop after printing this many changelog rows"
                    + " (default: run until Ctrl-C)";

    /** The query the playground runs; the changelog of its result is printed. */
    static final String QUERY =
            "SELECT o.order_id, c.name AS customer, c.city, o.item, o.qty, o.price"
                    + " FROM orders AS o JOIN customers AS c ON o.customer_id = c.id";

    /** The view's progress row: {@code database.table}. */
    static final String VIEW_NAME = "shop.revenue";

    /**
     * Keeps the consistent view: every TiKV table of it, sources and sink, takes part in the cuts
     * (the catalog's tables get the option as a hint).
     */
    static final String VIEW =
            "INSERT INTO revenue /*+ OPTIONS('consistency' = 'snapshot') */"
                    + " SELECT c.city, SUM(o.qty * o.price), COUNT(*)"
                    + " FROM orders /*+ OPTIONS('consistency' = 'snapshot') */ AS o"
                    + " JOIN customers /*+ OPTIONS('consistency' = 'snapshot') */ AS c"
                    + " ON o.customer_id = c.id GROUP BY c.city";

    /** How a TiDB user reads the view with the TSO {@code T} it is as of. */
    static final String READ_VIEW =
            "START TRANSACTION READ ONLY; SELECT cut_ts, TIDB_PARSE_TSO(cut_ts) FROM"
                    + " tiflink_progress WHERE view_name = '"
                    + VIEW_NAME
                    + "'; SELECT * FROM revenue; COMMIT;";

    private static final Duration VIEW_PRINT_PERIOD = Duration.ofSeconds(3);

    private PlaygroundMain() {}

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("tiflink-playground: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        run(options, System.out);
        System.exit(0);
    }

    static final class Options {
        int pdPort = 2379;
        int webPort = 8081;
        int changesPerSecond = 2;
        long rows = Long.MAX_VALUE;

        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String option = args[i];
                if (option.equals("-h") || option.equals("--help")) {
                    throw new IllegalArgumentException("help requested");
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(option + " needs a value");
                }
                long v = number(option, args[++i]);
                switch (option) {
                    case "--pd-port":
                        o.pdPort = port(option, v);
                        break;
                    case "--web-port":
                        o.webPort = port(option, v);
                        break;
                    case "--changes-per-second":
                        o.changesPerSecond = (int) positive(option, v);
                        break;
                    case "--rows":
                        o.rows = positive(option, v);
                        break;
                    default:
                        throw new IllegalArgumentException("unknown option '" + option + "'");
                }
            }
            return o;
        }

        private static long number(String option, String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        option + " expects a number, got '" + value + "'");
            }
        }

        private static int port(String option, long v) {
            if (v < 0 || v > 65535) {
                throw new IllegalArgumentException(option + " expects 0 to 65535, got " + v);
            }
            return (int) v;
        }

        private static long positive(String option, long v) {
            if (v <= 0) {
                throw new IllegalArgumentException(option + " must be positive, got " + v);
            }
            return v;
        }
    }

    /** Runs the playground until {@code options.rows} rows were printed (or forever). */
    static void run(Options options, PrintStream out) throws Exception {
        try (MiniTiKVCluster cluster =
                        MiniTiKVCluster.builder()
                                .stores(3)
                                .pdPort(options.pdPort)
                                .cdcResolvedTsInterval(Duration.ofMillis(200))
                                .start();
                TiSession session =
                        TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            SchemaFile.apply(SchemaFile.parse("playground-schema.sql", schema()), session);
            MetaReader meta = MetaReader.latest(session);
            ShopWriter shop =
                    new ShopWriter(
                            cluster, meta.table("shop", "customers"), meta.table("shop", "orders"));
            shop.load(10);
            ViewPrinter view =
                    new ViewPrinter(
                            cluster,
                            VIEW_NAME,
                            meta.table("shop", "revenue"),
                            meta.table("shop", "tiflink_progress"),
                            out);
            // One thread for the shop, one for the view's reader, which may wait for a commit.
            ScheduledExecutorService background =
                    Executors.newScheduledThreadPool(
                            2,
                            r -> {
                                Thread t = new Thread(r, "playground");
                                t.setDaemon(true);
                                return t;
                            });

            Configuration conf = new Configuration();
            conf.set(RestOptions.PORT, options.webPort);
            StreamExecutionEnvironment env =
                    StreamExecutionEnvironment.createLocalEnvironmentWithWebUI(conf);
            env.setParallelism(2);
            env.enableCheckpointing(1000);
            StreamTableEnvironment tables = StreamTableEnvironment.create(env);
            tables.executeSql(
                    "CREATE CATALOG tidb WITH ('type' = 'tidb', 'pd-addresses' = '"
                            + cluster.pdAddress()
                            + "', 'default-database' = 'shop')");
            tables.executeSql("USE CATALOG tidb");
            // One job: the changelog printed here, and the view written into TiDB.
            DataStream<Row> changelog = tables.toChangelogStream(tables.sqlQuery(QUERY));
            tables.createStatementSet().addInsertSql(VIEW).attachAsDataStream();
            out.println("tiflink-playground: TiKV at pd-addresses=" + cluster.pdAddress());
            out.println(
                    "tiflink-playground: Flink web UI at http://localhost:"
                            + (options.webPort == 0 ? "<a free port>" : options.webPort));
            out.println("tiflink-playground: changelog of " + QUERY);
            out.println("tiflink-playground: consistent view " + VIEW_NAME + ": " + VIEW);
            out.println(
                    "tiflink-playground: a TiDB reader reads the view with its T: " + READ_VIEW);
            out.println(
                    "tiflink-playground: "
                            + options.changesPerSecond
                            + " changes to the shop per second; Ctrl-C stops.");
            out.flush();
            long printed = 0;
            try (CloseableIterator<Row> changes =
                    changelog.executeAndCollect("tiflink-playground")) {
                long viewPeriod = VIEW_PRINT_PERIOD.toMillis();
                background.scheduleAtFixedRate(
                        view::print, viewPeriod, viewPeriod, TimeUnit.MILLISECONDS);
                while (printed < options.rows && changes.hasNext()) {
                    out.println(changes.next());
                    out.flush();
                    if (printed++ == 0) {
                        // The snapshot is taken before its first row: the shop changes after it,
                        // so the snapshot shows the loaded orders and every change follows it.
                        long period = 1_000_000 / options.changesPerSecond;
                        background.scheduleAtFixedRate(
                                shop::change, period, period, TimeUnit.MICROSECONDS);
                    }
                }
            }
            background.shutdownNow();
        }
    }

    private static String schema() throws IOException {
        try (InputStream in = PlaygroundMain.class.getResourceAsStream("/playground-schema.sql")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
