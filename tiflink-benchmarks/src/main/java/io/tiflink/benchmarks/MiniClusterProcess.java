package io.tiflink.benchmarks;

import io.tiflink.minicluster.MiniTiKVCluster;

import org.tikv.shade.com.google.protobuf.ByteString;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A minicluster in a process of its own, so that a benchmark can measure its client's heap without
 * the server's buffers in it. {@link CdcClientBenchmark} starts it as {@code java -cp <its own
 * classpath> io.tiflink.benchmarks.MiniClusterProcess name=value...} and talks to it over stdin and
 * stdout, one line per command:
 *
 * <ul>
 *   <li>started: prints {@code ready <pd address> <cluster id>};
 *   <li>{@code write <prefix> <regions> <txns> <txns/s> <keys/txn> <value bytes>}: commits the
 *       transactions on the engine directly ({@link EngineWriter}), paced, with the keys of {@link
 *       BenchKeys}; prints {@code written <rows> <key+value bytes> <first commit ts> <last commit
 *       ts> <seconds>};
 *   <li>{@code heap}: prints {@code heap <used bytes after a full GC>};
 *   <li>{@code quit} (or end of input): stops the cluster and exits.
 * </ul>
 *
 * <p>Arguments: {@code stores} (3), {@code resolvedTsMs} (1000), {@code cdcMemoryQuota} (bytes,
 * TiKV's 512 MiB) and {@code split} (comma-separated ASCII keys to split at).
 */
public final class MiniClusterProcess {
    private MiniClusterProcess() {}

    public static void main(String[] argv) throws Exception {
        BenchSettings args = BenchSettings.parse(argv);
        MiniTiKVCluster.Builder builder =
                MiniTiKVCluster.builder()
                        .stores(Integer.parseInt(args.text("stores", "3")))
                        .cdcResolvedTsInterval(
                                Duration.ofMillis(
                                        Long.parseLong(args.text("resolvedTsMs", "1000"))));
        if (args.text("cdcMemoryQuota", null) != null) {
            builder.cdcMemoryQuota(args.number("cdcMemoryQuota", 0));
        }
        if (args.text("split", null) != null) {
            List<byte[]> keys = new ArrayList<>();
            for (String k : args.text("split", null).split(",")) {
                keys.add(BenchKeys.bytes(k));
            }
            builder.splitAt(keys.toArray(new byte[0][]));
        }
        try (MiniTiKVCluster cluster = builder.start()) {
            System.out.println("ready " + cluster.pdAddress() + " " + cluster.clusterId());
            System.out.flush();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                String[] cmd = line.trim().split("\\s+");
                if (cmd[0].equals("quit")) {
                    break;
                } else if (cmd[0].equals("write")) {
                    System.out.println(write(cluster, cmd));
                } else if (cmd[0].equals("heap")) {
                    System.out.println("heap " + usedHeapAfterGc());
                } else {
                    System.out.println("error unknown command " + line);
                }
                System.out.flush();
            }
        }
    }

    private static String write(MiniTiKVCluster cluster, String[] cmd) {
        byte[] prefix = BenchKeys.bytes(cmd[1]);
        int regions = Integer.parseInt(cmd[2]);
        int txns = Integer.parseInt(cmd[3]);
        double rate = Double.parseDouble(cmd[4]);
        int keysPerTxn = Integer.parseInt(cmd[5]);
        byte[] value = new byte[Integer.parseInt(cmd[6])];
        new Random(42).nextBytes(value);
        ByteString v = ByteString.copyFrom(value);
        EngineWriter writer = new EngineWriter(cluster);
        long[] commits = new long[2];
        long[] bytes = new long[1];
        long t0 = System.nanoTime();
        EngineWriter.paced(
                txns,
                rate,
                t -> {
                    List<byte[]> keys = new ArrayList<>(keysPerTxn);
                    for (int k = 0; k < keysPerTxn; k++) {
                        byte[] key = BenchKeys.key(prefix, regions, (long) t * keysPerTxn + k);
                        keys.add(key);
                        bytes[0] += key.length + value.length;
                    }
                    long commitTs = writer.commit(keys, v);
                    if (t == 0) {
                        commits[0] = commitTs;
                    }
                    commits[1] = commitTs;
                });
        double seconds = (System.nanoTime() - t0) / 1e9;
        return String.format(
                Locale.ROOT,
                "written %d %d %d %d %.3f",
                (long) txns * keysPerTxn,
                bytes[0],
                commits[0],
                commits[1],
                seconds);
    }

    private static long usedHeapAfterGc() {
        System.gc();
        System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
