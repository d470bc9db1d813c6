package io.tiflink.minicluster.standalone;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tls.TestCertificates;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs a minicluster as a process, the way {@code tiup playground} runs a real one:
 *
 * <pre>
 * bin/tiflink-minicluster --pd-port 2379 --stores 3
 * </pre>
 *
 * <p>Prints one line with PD's address once every server is listening, and stops cleanly on SIGTERM
 * or Ctrl-C.
 */
public final class MiniClusterMain {
    public static final String USAGE =
            "usage: tiflink-minicluster [--pd-port PORT] [--stores N] [--store-ports P1,P2,...]"
                    + " [--tls-dir DIR]\n"
                    + "  --pd-port      PD's port on 127.0.0.1 (default 2379; 0 picks a free one)\n"
                    + "  --stores       number of TiKV stores (default 3)\n"
                    + "  --store-ports  the stores' ports (default 20160, 20161, ...; 0 picks free"
                    + " ones)\n"
                    + "  --tls-dir      serve mutual TLS only, with a CA and certificates made into"
                    + " DIR (ca.pem, client.pem, client-key.pem for clients)";

    private MiniClusterMain() {}

    public static void main(String[] args) throws InterruptedException {
        MiniTiKVCluster cluster;
        try {
            cluster = start(args, System.out);
        } catch (IllegalArgumentException e) {
            System.err.println("tiflink-minicluster: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        runUntilShutdown(cluster);
    }

    /** Keeps the process serving the cluster until it is told to stop (Ctrl-C, SIGTERM). */
    public static void runUntilShutdown(MiniTiKVCluster cluster) throws InterruptedException {
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(
                        new Thread(
                                () -> {
                                    cluster.close();
                                    stopped.countDown();
                                },
                                "minicluster-shutdown"));
        stopped.await();
    }

    /** Parses the arguments, starts the cluster and prints the ready line to {@code out}. */
    public static MiniTiKVCluster start(String[] args, PrintStream out) {
        int pdPort = 2379;
        int stores = 3;
        List<Integer> storePorts = null;
        Path tlsDir = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--pd-port":
                    pdPort = intArg(arg, value(args, ++i, arg));
                    break;
                case "--stores":
                    stores = intArg(arg, value(args, ++i, arg));
                    break;
                case "--store-ports":
                    storePorts = new ArrayList<>();
                    for (String p : value(args, ++i, arg).split(",")) {
                        storePorts.add(intArg(arg, p.trim()));
                    }
                    break;
                case "--tls-dir":
                    tlsDir = Paths.get(value(args, ++i, arg));
                    break;
                case "-h":
                case "--help":
                    throw new IllegalArgumentException("help requested");
                default:
                    throw new IllegalArgumentException("unknown option '" + arg + "'");
            }
        }
        if (stores < 1) {
            throw new IllegalArgumentException("--stores must be at least 1, got " + stores);
        }
        if (storePorts == null) {
            storePorts = new ArrayList<>();
            for (int i = 0; i < stores; i++) {
                storePorts.add(pdPort == 0 ? 0 : 20160 + i);
            }
        } else if (storePorts.size() != stores) {
            throw new IllegalArgumentException(
                    "--store-ports lists "
                            + storePorts.size()
                            + " ports but --stores is "
                            + stores);
        }
        MiniTiKVCluster.Builder builder =
                MiniTiKVCluster.builder().pdPort(pdPort).stores(stores).storePorts(storePorts);
        String tls = "";
        if (tlsDir != null) {
            TestCertificates certs = TestCertificates.create(tlsDirectory(tlsDir));
            builder.tls(certs.serverTls());
            tls =
                    ", mutual TLS: tikv.trust_cert_collection="
                            + certs.ca()
                            + " tikv.key_cert_chain="
                            + certs.client().certificate()
                            + " tikv.key_file="
                            + certs.client().key();
        }
        MiniTiKVCluster cluster = builder.start();
        out.println(
                "tiflink-minicluster ready: pd-addresses="
                        + cluster.pdAddress()
                        + " (stores: "
                        + cluster.storeIds().size()
                        + ", cluster id "
                        + cluster.clusterId()
                        + tls
                        + ")");
        out.flush();
        return cluster;
    }

    private static Path tlsDirectory(Path dir) {
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("--tls-dir: cannot create " + dir + ": " + e, e);
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            throw new IllegalArgumentException(option + " needs a value");
        }
        return args[i];
    }

    private static int intArg(String option, String value) {
        try {
            int port = Integer.parseInt(value);
            if (port < 0 || port > 65535) {
                throw new NumberFormatException();
            }
            return port;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    option + " expects a number from 0 to 65535, got '" + value + "'");
        }
    }
}
