package io.tiflink.minicluster.tidb;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.standalone.MiniClusterMain;
import io.tiflink.minicluster.tls.TestCertificates;
import io.tiflink.tidb.schema.SchemaFile;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code bin/tiflink-minicluster --schema FILE ...}: the minicluster with TiDB databases and tables
 * created from a schema file of {@code CREATE DATABASE} / {@code CREATE TABLE} statements, so TiDB
 * tools (the catalog, tikv-client-java's Catalog) find them. The other options are the
 * minicluster's. Prints the minicluster's ready line, then {@code tiflink-minicluster schema ready:
 * ...} once the schema is written.
 */
public final class SchemaClusterMain {
    private SchemaClusterMain() {}

    public static void main(String[] args) throws InterruptedException {
        MiniTiKVCluster cluster;
        try {
            cluster = start(args, System.out);
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("tiflink-minicluster: " + e.getMessage());
            if (e instanceof IllegalArgumentException && e.getMessage().startsWith("--schema")) {
                System.err.println(
                        MiniClusterMain.USAGE
                                + "\n  --schema       a file of CREATE DATABASE / CREATE TABLE statements to apply");
            }
            System.exit(2);
            return;
        }
        MiniClusterMain.runUntilShutdown(cluster);
    }

    /** Parses the schema (failing before anything starts), starts the cluster, applies it. */
    static MiniTiKVCluster start(String[] args, PrintStream out) throws IOException {
        Path schema = null;
        Path tlsDir = null;
        List<String> rest = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--schema")) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--schema needs a file");
                }
                schema = Path.of(args[++i]);
            } else {
                if (args[i].equals("--tls-dir") && i + 1 < args.length) {
                    tlsDir = Path.of(args[i + 1]);
                }
                rest.add(args[i]);
            }
        }
        if (schema == null) {
            throw new IllegalArgumentException("--schema FILE is required");
        }
        List<SchemaFile.Statement> statements = SchemaFile.parse(schema);
        MiniTiKVCluster cluster = MiniClusterMain.start(rest.toArray(new String[0]), out);
        // Over TLS, the schema goes in with the client certificate the minicluster made.
        TiConfiguration conf = TiConfiguration.createDefault(cluster.pdAddress());
        if (tlsDir != null) {
            TestCertificates certs = TestCertificates.load(tlsDir);
            conf = certs.clientConfiguration(cluster.pdAddress(), certs.client());
        }
        try (TiSession session = TiSession.create(conf)) {
            SchemaFile.apply(statements, session);
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        } catch (Exception e) {
            cluster.close();
            throw new IllegalStateException("closing the TiKV session failed", e);
        }
        long tables = statements.stream().filter(s -> s.table != null).count();
        out.println(
                "tiflink-minicluster schema ready: "
                        + (statements.size() - tables)
                        + " databases, "
                        + tables
                        + " tables from "
                        + schema);
        out.flush();
        return cluster;
    }
}
