package io.tiflink.benchmarks;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.txn.Percolator;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * A plain benchmark harness (no JMH: these are whole-cluster operations of seconds, not
 * micro-benchmarks) comparing tikv-client-java against a 3-store {@link MiniTiKVCluster} over gRPC
 * with the same work done on the cluster's engine directly, and measuring the heap the engine needs
 * per key. Prints Markdown tables.
 *
 * <p>Every setting is a system property {@code bench.<name>} or an argument {@code <name>=<value>}
 * (arguments win): {@code scanKeys}, {@code valueSize}, {@code regionMaxKeys}, {@code warmups},
 * {@code rounds}, {@code writeBatch}, {@code writeTxns}, {@code heapKeys} and {@code only} (a
 * comma-separated subset of {@code scan,write,heap}).
 *
 * <p>Run from the repository root (the {@code bench} profile runs it in a forked JVM with {@code
 * -Xmx2g} after packaging):
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests -Pbench [-Dbench.args="heapKeys=200000"]
 * </pre>
 *
 * or, once packaged, {@code java -Xmx2g -cp tiflink-benchmarks/target/classes:$(cat
 * tiflink-benchmarks/target/classpath.txt) io.tiflink.benchmarks.MiniClusterBenchmark [name=value
 * ...]}.
 */
public final class MiniClusterBenchmark {
    private static final int BACKOFF_MS = 20_000;
    private static final long LOCK_TTL_MS = 3_000;

    private final BenchSettings args;
    private final int scanKeys;
    private final int valueSize;
    private final long regionMaxKeys;
    private final int warmups;
    private final int rounds;
    private final int writeBatch;
    private final int writeTxns;
    private final int heapKeys;
    private final Set<String> only;
    private final byte[] value;

    private final List<String> throughputRows = new ArrayList<>();
    private final List<String> heapRows = new ArrayList<>();

    private MiniClusterBenchmark(BenchSettings args) {
        this.args = args;
        this.scanKeys = (int) args.number("scanKeys", 200_000);
        this.valueSize = (int) args.number("valueSize", 100);
        this.regionMaxKeys = args.number("regionMaxKeys", 50_000);
        this.warmups = (int) args.number("warmups", 2);
        this.rounds = (int) args.number("rounds", 5);
        this.writeBatch = (int) args.number("writeBatch", 1_000);
        this.writeTxns = (int) args.number("writeTxns", 20);
        this.heapKeys = (int) args.number("heapKeys", 1_000_000);
        String parts = args.text("only", "scan,write,heap");
        this.only = new LinkedHashSet<>(List.of(parts.split(",")));
        // Random bytes, so nothing along the way can profit from compressible values.
        this.value = new byte[valueSize];
        new Random(42).nextBytes(value);
    }

    public static void main(String[] argv) throws Exception {
        BenchSettings args = BenchSettings.parse(argv);
        new MiniClusterBenchmark(args).run();
    }

    private void run() throws Exception {
        Runtime rt = Runtime.getRuntime();
        System.out.printf(
                Locale.ROOT,
                "# MiniClusterBenchmark: Java %s, %d CPUs, max heap %d MiB; scanKeys=%d"
                        + " valueSize=%d regionMaxKeys=%d warmups=%d rounds=%d writeBatch=%d"
                        + " writeTxns=%d heapKeys=%d only=%s%n",
                System.getProperty("java.version"),
                rt.availableProcessors(),
                rt.maxMemory() >> 20,
                scanKeys,
                valueSize,
                regionMaxKeys,
                warmups,
                rounds,
                writeBatch,
                writeTxns,
                heapKeys,
                String.join(",", only));
        if (only.contains("scan") || only.contains("write")) {
            // One cluster and one client session for both throughput benchmarks.
            try (MiniTiKVCluster cluster =
                            MiniTiKVCluster.builder()
                                    .stores(3)
                                    .regionMaxKeys(regionMaxKeys)
                                    .start();
                    TiSession session = TiSession.create(clientConf(cluster))) {
                if (only.contains("scan")) {
                    scan(cluster, session);
                }
                if (only.contains("write")) {
                    write(cluster, session);
                }
            }
        }
        if (only.contains("heap")) {
            heap();
        }

        System.out.println();
        if (!throughputRows.isEmpty()) {
            System.out.println(
                    "| Benchmark | Path | Keys/round | Rounds | keys/s (median) | keys/s (min..max)"
                            + " | Direct/gRPC |");
            System.out.println("|---|---|---:|---:|---:|---:|---:|");
            throughputRows.forEach(System.out::println);
            System.out.println();
        }
        if (!heapRows.isEmpty()) {
            System.out.println(
                    "| Keys | Payload B/key | Load keys/s | Used heap delta (MiB) | Heap B/key |"
                            + " Scan count | Scan keys/s |");
            System.out.println("|---:|---:|---:|---:|---:|---:|---:|");
            heapRows.forEach(System.out::println);
        }
    }

    private static TiConfiguration clientConf(MiniTiKVCluster cluster) {
        TiConfiguration conf = TiConfiguration.createDefault(cluster.pdAddress());
        // The default 100 ms health check marks a CPU-starved store down on a busy machine, and
        // the client then hunts for another leader: failover noise in a throughput number.
        conf.setGrpcHealthCheckTimeout(2_000);
        return conf;
    }

    // ---- scan ----

    private void scan(MiniTiKVCluster cluster, TiSession session) {
        byte[] prefix = bytes("scan/");
        byte[] end = prefixEnd(prefix);
        loadDirect(cluster, prefix, scanKeys);
        // Split now rather than waiting for the background checker, so both paths see the same
        // regions and the client does not chase splits while being measured.
        while (!cluster.checkSplitsNow().isEmpty()) {}
        System.out.printf(
                "# scan: %d keys loaded, %d regions%n", scanKeys, cluster.regions().all().size());

        int batch = session.getConf().getScanBatchSize();
        Percolator percolator = cluster.percolator();
        try (KVClient kv = session.createKVClient()) {
            LongSupplier grpc =
                    () -> {
                        long ts = session.getTimestamp().getVersion();
                        return kv.scan(ByteString.copyFrom(prefix), ByteString.copyFrom(end), ts)
                                .size();
                    };
            // The same reads on the engine, in the client's batch size and also kept in a list.
            LongSupplier direct =
                    () -> {
                        Percolator.ReadContext read =
                                new Percolator.ReadContext(cluster.currentTs(), Set.of(), false);
                        List<Kvrpcpb.KvPair> all = new ArrayList<>();
                        byte[] from = prefix;
                        while (true) {
                            List<Kvrpcpb.KvPair> chunk =
                                    percolator.scan(from, end, batch, false, false, read);
                            all.addAll(chunk);
                            if (chunk.size() < batch) {
                                return all.size();
                            }
                            from = successor(chunk.get(chunk.size() - 1).getKey().toByteArray());
                        }
                    };
            compare("Scan (KVClient.scan)", scanKeys, grpc, direct);
        }
    }

    // ---- 2PC writes ----

    private void write(MiniTiKVCluster cluster, TiSession session) {
        long[] next = {0};
        LongSupplier grpc =
                () -> {
                    for (int t = 0; t < writeTxns; t++) {
                        commitOverGrpc(session, keys("w/grpc/", next[0], writeBatch));
                        next[0] += writeBatch;
                    }
                    return (long) writeTxns * writeBatch;
                };
        long[] nextDirect = {0};
        LongSupplier direct =
                () -> {
                    for (int t = 0; t < writeTxns; t++) {
                        commitDirect(cluster, keys("w/direct/", nextDirect[0], writeBatch), true);
                        nextDirect[0] += writeBatch;
                    }
                    return (long) writeTxns * writeBatch;
                };
        compare(
                "2PC write (" + writeBatch + " keys/txn)",
                (long) writeTxns * writeBatch,
                grpc,
                direct);
    }

    /** One txn the way a client writes it: primary first, then secondaries, PD timestamps. */
    private void commitOverGrpc(TiSession session, List<byte[]> keys) {
        long startTs = session.getTimestamp().getVersion();
        byte[] primary = keys.get(0);
        List<BytePairWrapper> secondaries = new ArrayList<>(keys.size() - 1);
        List<ByteWrapper> secondaryKeys = new ArrayList<>(keys.size() - 1);
        for (byte[] k : keys.subList(1, keys.size())) {
            secondaries.add(new BytePairWrapper(k, value));
            secondaryKeys.add(new ByteWrapper(k));
        }
        try (TwoPhaseCommitter committer = new TwoPhaseCommitter(session, startTs)) {
            committer.prewritePrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(BACKOFF_MS), primary, value);
            committer.prewriteSecondaryKeys(primary, secondaries.iterator(), BACKOFF_MS);
            long commitTs = session.getTimestamp().getVersion();
            committer.commitPrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(BACKOFF_MS), primary, commitTs);
            committer.commitSecondaryKeys(secondaryKeys.iterator(), commitTs, BACKOFF_MS);
        } catch (Exception e) {
            throw new IllegalStateException("2PC over gRPC failed", e);
        }
    }

    /**
     * One txn applied to the engine. With {@code primaryFirst} it mirrors the client's four steps
     * (primary, secondaries, for prewrite and commit); without, one prewrite and one commit.
     */
    private void commitDirect(MiniTiKVCluster cluster, List<byte[]> keys, boolean primaryFirst) {
        Percolator percolator = cluster.percolator();
        ByteString primary = ByteString.copyFrom(keys.get(0));
        List<ByteString> all = new ArrayList<>(keys.size());
        keys.forEach(k -> all.add(ByteString.copyFrom(k)));
        List<List<ByteString>> steps =
                primaryFirst
                        ? List.of(all.subList(0, 1), all.subList(1, all.size()))
                        : List.of(all);

        long startTs = cluster.currentTs();
        ByteString v = ByteString.copyFrom(value);
        for (List<ByteString> step : steps) {
            Kvrpcpb.PrewriteRequest.Builder req =
                    Kvrpcpb.PrewriteRequest.newBuilder()
                            .setPrimaryLock(primary)
                            .setStartVersion(startTs)
                            .setLockTtl(LOCK_TTL_MS)
                            .setTxnSize(keys.size());
            for (ByteString k : step) {
                req.addMutations(
                        Kvrpcpb.Mutation.newBuilder().setOp(Kvrpcpb.Op.Put).setKey(k).setValue(v));
            }
            Kvrpcpb.PrewriteResponse resp = percolator.prewrite(req.build());
            if (resp.getErrorsCount() > 0) {
                throw new IllegalStateException("prewrite failed: " + resp.getErrors(0));
            }
        }
        long commitTs = cluster.currentTs();
        for (List<ByteString> step : steps) {
            Kvrpcpb.CommitResponse resp =
                    percolator.commit(
                            Kvrpcpb.CommitRequest.newBuilder()
                                    .setStartVersion(startTs)
                                    .setCommitVersion(commitTs)
                                    .addAllKeys(step)
                                    .build());
            if (resp.hasError()) {
                throw new IllegalStateException("commit failed: " + resp.getError());
            }
        }
    }

    // ---- heap ----

    private void heap() {
        byte[] prefix = bytes("heap/");
        // A fresh cluster: the earlier ones are closed and collected, so the delta is this data.
        try (MiniTiKVCluster cluster =
                MiniTiKVCluster.builder().stores(3).regionMaxKeys(regionMaxKeys).start()) {
            long before = usedHeapAfterGc();
            long t0 = System.nanoTime();
            loadDirect(cluster, prefix, heapKeys);
            double loadSeconds = (System.nanoTime() - t0) / 1e9;
            while (!cluster.checkSplitsNow().isEmpty()) {}
            long after = usedHeapAfterGc();

            // Scan everything in chunks, counting only: the scan must work within that heap.
            Percolator.ReadContext read =
                    new Percolator.ReadContext(cluster.currentTs(), Set.of(), false);
            byte[] end = prefixEnd(prefix);
            byte[] from = prefix;
            long count = 0;
            int chunkSize = 10_240;
            t0 = System.nanoTime();
            while (true) {
                List<Kvrpcpb.KvPair> chunk =
                        cluster.percolator().scan(from, end, chunkSize, false, false, read);
                count += chunk.size();
                if (chunk.size() < chunkSize) {
                    break;
                }
                from = successor(chunk.get(chunk.size() - 1).getKey().toByteArray());
            }
            double scanSeconds = (System.nanoTime() - t0) / 1e9;
            if (count != heapKeys) {
                throw new IllegalStateException(
                        "heap scan saw " + count + " keys, expected " + heapKeys);
            }
            long delta = after - before;
            int payload = key(prefix, 0).length + valueSize;
            heapRows.add(
                    String.format(
                            Locale.ROOT,
                            "| %,d | %d | %,.0f | %,.1f | %,.0f | %,d | %,.0f |",
                            heapKeys,
                            payload,
                            heapKeys / loadSeconds,
                            delta / 1048576.0,
                            (double) delta / heapKeys,
                            count,
                            count / scanSeconds));
            System.out.printf(
                    "# heap: %d keys in %d regions, used heap %d -> %d MiB%n",
                    heapKeys, cluster.regions().all().size(), before >> 20, after >> 20);
        }
    }

    /** Used heap after several full collections (one can leave garbage that finalizes late). */
    private static long usedHeapAfterGc() {
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }

    // ---- harness ----

    /**
     * Warms both paths up, then measures them in alternating rounds so that drift on a shared
     * machine hits both alike. Each supplier does one round and returns the keys it handled.
     */
    private void compare(String name, long keysPerRound, LongSupplier grpc, LongSupplier direct) {
        System.out.printf("# %s: %d warm-up + %d measured rounds%n", name, warmups, rounds);
        for (int i = 0; i < warmups; i++) {
            timed(grpc, keysPerRound);
            timed(direct, keysPerRound);
        }
        double[] grpcRates = new double[rounds];
        double[] directRates = new double[rounds];
        for (int i = 0; i < rounds; i++) {
            grpcRates[i] = timed(grpc, keysPerRound);
            directRates[i] = timed(direct, keysPerRound);
        }
        double grpcMedian = median(grpcRates);
        double directMedian = median(directRates);
        throughputRows.add(row(name, "tikv-client-java over gRPC", keysPerRound, grpcRates, ""));
        throughputRows.add(
                row(
                        name,
                        "percolator direct",
                        keysPerRound,
                        directRates,
                        String.format(Locale.ROOT, "%.1fx", directMedian / grpcMedian)));
    }

    /** Runs one round and returns keys per second; checks the round handled every key. */
    private static double timed(LongSupplier round, long expectedKeys) {
        // Collect first, so one round's garbage is not billed to the next (or the other path).
        System.gc();
        long t0 = System.nanoTime();
        long keys = round.getAsLong();
        long nanos = System.nanoTime() - t0;
        if (keys != expectedKeys) {
            throw new IllegalStateException("round handled " + keys + " keys, not " + expectedKeys);
        }
        return keys * 1e9 / nanos;
    }

    private String row(String name, String path, long keys, double[] rates, String ratio) {
        double[] sorted = rates.clone();
        Arrays.sort(sorted);
        return String.format(
                Locale.ROOT,
                "| %s | %s | %,d | %d | %,.0f | %,.0f..%,.0f | %s |",
                name,
                path,
                keys,
                rates.length,
                median(rates),
                sorted[0],
                sorted[sorted.length - 1],
                ratio);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    // ---- data ----

    /** Loads {@code count} keys through the engine, one txn per {@code writeBatch} keys. */
    private void loadDirect(MiniTiKVCluster cluster, byte[] prefix, int count) {
        for (int i = 0; i < count; i += writeBatch) {
            commitDirect(cluster, keys(prefix, i, Math.min(writeBatch, count - i)), false);
        }
    }

    private static List<byte[]> keys(String prefix, long first, int count) {
        return keys(bytes(prefix), first, count);
    }

    private static List<byte[]> keys(byte[] prefix, long first, int count) {
        List<byte[]> keys = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            keys.add(key(prefix, first + i));
        }
        return keys;
    }

    /** Fixed-width decimal suffix, so byte order is numeric order. */
    private static byte[] key(byte[] prefix, long i) {
        byte[] suffix = String.format(Locale.ROOT, "%010d", i).getBytes(StandardCharsets.US_ASCII);
        byte[] key = Arrays.copyOf(prefix, prefix.length + suffix.length);
        System.arraycopy(suffix, 0, key, prefix.length, suffix.length);
        return key;
    }

    /** The first key after every key starting with {@code prefix} (prefix ends below 0xFF). */
    private static byte[] prefixEnd(byte[] prefix) {
        byte[] end = prefix.clone();
        end[end.length - 1]++;
        return end;
    }

    /** The smallest key greater than {@code key}. */
    private static byte[] successor(byte[] key) {
        return Arrays.copyOf(key, key.length + 1);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
