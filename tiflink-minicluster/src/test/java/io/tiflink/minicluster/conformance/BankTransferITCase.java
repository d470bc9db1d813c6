package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.region.Region;
import io.tiflink.minicluster.region.RegionListener;
import io.tiflink.minicluster.storage.Write;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.exception.KeyException;
import org.tikv.common.exception.RegionException;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.StatusRuntimeException;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;
import org.tikv.txn.exception.WriteConflictException;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The classic bank workload against the real tikv-client-java: concurrent transfers between
 * accounts with Percolator 2PC, snapshot readers that check the total at every read, writers that
 * "crash" half way through 2PC, and a chaos thread that splits, merges and moves region leaders the
 * whole time (the split checker splits regions that grow too big, too). Snapshot isolation holds
 * only if the minicluster gets lock resolution, write conflicts, min_commit_ts pushes and region
 * errors right.
 *
 * <p>At this rate of topology change, client-java 3.3.5 itself sometimes gets stuck: its scan and
 * lock-resolve loops refresh the region after a region error but keep sending to the old store, its
 * region cache can hold ranges that make batchGet recurse without end, and a KVClient reused across
 * timestamps carries bypassed locks from one batchGet to the next. Those would happen against real
 * TiKV just the same, so the workers work around them (a session each, a KVClient per read, bounded
 * waits, dropping the region cache) and count reads the client gave up on; any other failure fails
 * the test.
 */
class BankTransferITCase {
    private static final Logger LOG = LoggerFactory.getLogger(BankTransferITCase.class);

    private static final int ACCOUNTS = 200;

    /** Small enough that the split checker splits regions the injector merged back together. */
    private static final int REGION_MAX_KEYS = 64;

    private static final long INITIAL_BALANCE = 1_000;
    private static final long TOTAL = ACCOUNTS * INITIAL_BALANCE;
    private static final int WRITERS = 4;
    private static final int READERS = 3;

    /** How long the workload runs; {@code -Dbank.runSeconds=N} for a longer soak. */
    private static final Duration RUN_TIME =
            Duration.ofSeconds(Long.getLong("bank.runSeconds", 15));

    private static final int MAX_TRANSFERS_PER_WRITER = 5_000;

    /**
     * TTL of live writers' locks: long enough that they rarely expire (a writer stuck in backoffs
     * for longer finds its txn rolled back, TxnLockNotFound, and counts it as aborted).
     */
    private static final long WRITER_LOCK_TTL_MS = 3_000;

    /** TTL of crashed writers' locks, so readers roll them back (or forward) during the run. */
    private static final long CRASHED_LOCK_TTL_MS = 1_000;

    /** How long a read may take before we stop waiting for the client. */
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(4);

    private static final int READ_BACKOFF_MS = 3_000;
    private static final int PREWRITE_BACKOFF_MS = 2_000;
    private static final int COMMIT_BACKOFF_MS = 2_000;

    private static final ByteString SCAN_START = ByteString.copyFromUtf8("acct-");
    private static final ByteString SCAN_END = ByteString.copyFromUtf8("acct.");

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(3).regionMaxKeys(REGION_MAX_KEYS));

    private static Level savedClientLevel;

    // ---- what the run observed ----
    private final LongAdder committed = new LongAdder();
    private final LongAdder aborted = new LongAdder();
    private final LongAdder commitTsExpiredRetries = new LongAdder();
    private final LongAdder secondaryCommitFailures = new LongAdder();
    private final LongAdder reads = new LongAdder();
    private final LongAdder scanReads = new LongAdder();
    private final LongAdder batchGetReads = new LongAdder();
    private final AtomicLong splits = new AtomicLong();
    private final AtomicLong merges = new AtomicLong();
    private final AtomicLong leaderTransfers = new AtomicLong();
    private final AtomicLong raced = new AtomicLong();
    private final AtomicLong allSplits = new AtomicLong();
    private final Map<String, LongAdder> abortReasons = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> readFailures = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> readsGivenUp = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> unexpectedAborts = new ConcurrentHashMap<>();
    private final Queue<String> violations = new ConcurrentLinkedQueue<>();
    private final List<CrashedTxn> crashed = new ArrayList<>();

    /** A transfer whose writer stopped after prewrite (or after committing the primary). */
    private static final class CrashedTxn {
        final long startTs;
        final byte[] primary;
        final byte[] secondary;
        final long commitTs; // 0 if the primary was never committed

        CrashedTxn(long startTs, byte[] primary, byte[] secondary, long commitTs) {
            this.startTs = startTs;
            this.primary = primary;
            this.secondary = secondary;
            this.commitTs = commitTs;
        }
    }

    @BeforeAll
    static void quietClient() {
        // The client logs every lock it resolves at WARN; thousands of lines would drown the run.
        savedClientLevel = LogManager.getLogger("org.tikv").getLevel();
        Configurator.setLevel(
                "org.tikv", Level.valueOf(System.getProperty("bank.clientLogLevel", "ERROR")));
    }

    @AfterAll
    static void restoreClientLogging() {
        Configurator.setLevel("org.tikv", savedClientLevel);
    }

    private static ByteString account(int i) {
        return ByteString.copyFromUtf8(String.format("acct-%04d", i));
    }

    private static byte[] balance(long amount) {
        // Never empty: the client turns an empty value into a Delete.
        return Long.toString(amount).getBytes(StandardCharsets.UTF_8);
    }

    private static long parse(ByteString value) {
        return Long.parseLong(value.toStringUtf8());
    }

    @Test
    void concurrentTransfersKeepTheTotalUnderChaos(MiniTiKVCluster cluster) throws Exception {
        long began = System.nanoTime();
        try {
            try (TiSession session = TiSession.create(clientConfig(cluster))) {
                loadAccounts(session);
                assertThat(readTotalByScan(session)).isEqualTo(TOTAL);
            }
            RegionListener splitCounter =
                    new RegionListener() {
                        @Override
                        public void onSplit(Region before, List<Region> after) {
                            allSplits.addAndGet(after.size() - 1);
                        }
                    };
            cluster.regions().addListener(splitCounter);
            try {
                runWorkload(cluster);
            } finally {
                cluster.regions().removeListener(splitCounter);
            }
            verifyAfterwards(cluster);
        } finally {
            logSummary(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        }

        assertThat(committed.sum()).as("committed transfers").isPositive();
        assertThat(reads.sum()).as("snapshot reads").isPositive();
        assertThat(scanReads.sum()).as("scan reads").isPositive();
        assertThat(batchGetReads.sum()).as("batch-get reads").isPositive();
        assertThat(splits.get()).as("splits").isPositive();
        assertThat(merges.get()).as("merges").isPositive();
        assertThat(leaderTransfers.get()).as("leader transfers").isPositive();
        assertThat(crashed.stream().filter(c -> c.commitTs == 0).count())
                .as("crashed txns to roll back")
                .isPositive();
        assertThat(crashed.stream().filter(c -> c.commitTs != 0).count())
                .as("crashed txns to roll forward")
                .isPositive();
    }

    /** The invariant held throughout, nothing failed oddly, and crashed txns were resolved. */
    private void verifyAfterwards(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session = TiSession.create(clientConfig(cluster))) {
            assertThat(violations).as("snapshot reads that broke the invariant").isEmpty();
            assertThat(readFailures).as("reads that failed").isEmpty();
            assertThat(unexpectedAborts).as("txns aborted by unexpected errors").isEmpty();

            // A fresh session (the first one's region cache is long stale, and client-java does
            // not always recover from that; see reader()). Its reads resolve whatever crashed
            // writers left behind.
            await().atMost(Duration.ofSeconds(30))
                    .ignoreExceptions()
                    .untilAsserted(
                            () -> {
                                assertThat(readTotalByScan(session)).isEqualTo(TOTAL);
                                assertThat(readTotalByBatchGet(session)).isEqualTo(TOTAL);
                            });
            verifyCrashedTxns(cluster, session);
        }
    }

    /** Runs writers, readers, the crashing writer and the chaos injector until the deadline. */
    private void runWorkload(MiniTiKVCluster cluster) throws Exception {
        long deadline = System.nanoTime() + RUN_TIME.toNanos();
        ExecutorService pool =
                Executors.newFixedThreadPool(
                        WRITERS + READERS + 2,
                        r -> {
                            Thread t = new Thread(r, "bank-worker");
                            t.setDaemon(true);
                            return t;
                        });
        List<Future<?>> futures = new ArrayList<>();
        try {
            for (int i = 0; i < WRITERS; i++) {
                int w = i;
                futures.add(
                        pool.submit(
                                () ->
                                        withSession(
                                                "bank-writer-" + w,
                                                cluster,
                                                s -> writer(s, deadline))));
            }
            for (int i = 0; i < READERS; i++) {
                int r = i;
                boolean byScan = r % 2 == 0;
                futures.add(
                        pool.submit(
                                () ->
                                        withSession(
                                                (byScan ? "bank-scanner-" : "bank-getter-") + r,
                                                cluster,
                                                s -> reader(s, deadline, byScan))));
            }
            futures.add(
                    pool.submit(
                            () -> {
                                Thread.currentThread().setName("bank-chaos");
                                injector(cluster, deadline);
                            }));
            futures.add(
                    pool.submit(
                            () ->
                                    withSession(
                                            "bank-crasher",
                                            cluster,
                                            s -> crashingWriter(s, deadline))));
            for (Future<?> f : futures) {
                // Every loop stops by itself at the deadline; allow for in-flight backoffs.
                f.get(RUN_TIME.toSeconds() + 60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * The client's defaults, but with request and health-check timeouts a loaded two-core CI box
     * can meet (the 200 ms default times out under load and sends the client down its
     * store-unreachable paths, which tell us nothing about the minicluster).
     */
    private static TiConfiguration clientConfig(MiniTiKVCluster cluster) {
        TiConfiguration conf = TiConfiguration.createDefault(cluster.pdAddress());
        conf.setTimeout(2_000);
        conf.setGrpcHealthCheckTimeout(1_000);
        return conf;
    }

    /**
     * Runs {@code body} with a session of its own. Each worker has its own session, as separate
     * processes would: client-java's region cache does not cope well with several threads fixing
     * the same stale entry at once (updateLeader and invalidateRegion compare cached objects by
     * identity, so a request can go on hitting a store that no longer leads the region until its
     * backoff runs out). That is a client matter, not something TiKV could answer differently.
     */
    private static void withSession(
            String name, MiniTiKVCluster cluster, Consumer<TiSession> body) {
        Thread.currentThread().setName(name);
        try (TiSession session = TiSession.create(clientConfig(cluster))) {
            body.accept(session);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void logSummary(long tookMs) {
        LOG.info(
                "bank run took {} ms: {} transfers committed, {} aborted {}, {} commit_ts_expired"
                        + " retries, {} secondary commit failures; {} reads ({} scans, {}"
                        + " batch gets), reads the client gave up on {}, failed reads {}; {}"
                        + " splits injected ({} in all with the split checker's), {} merges, {}"
                        + " leader transfers, {} injections skipped; {} crashed txns ({} with a"
                        + " committed primary); violations {}",
                tookMs,
                committed.sum(),
                aborted.sum(),
                abortReasons,
                commitTsExpiredRetries.sum(),
                secondaryCommitFailures.sum(),
                reads.sum(),
                scanReads.sum(),
                batchGetReads.sum(),
                readsGivenUp,
                readFailures,
                splits.get(),
                allSplits.get(),
                merges.get(),
                leaderTransfers.get(),
                raced.get(),
                crashed.size(),
                crashed.stream().filter(c -> c.commitTs != 0).count(),
                violations);
    }

    // ------------------------------------------------------------------------------------------
    // Set-up and reads

    private void loadAccounts(TiSession session) throws Exception {
        long startTs = session.getTimestamp().getVersion();
        List<BytePairWrapper> pairs = new ArrayList<>();
        for (int i = 0; i < ACCOUNTS; i++) {
            pairs.add(new BytePairWrapper(account(i).toByteArray(), balance(INITIAL_BALANCE)));
        }
        try (TwoPhaseCommitter committer = new TwoPhaseCommitter(session, startTs)) {
            byte[] primary = pairs.get(0).getKey();
            committer.prewritePrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(5_000), primary, pairs.get(0).getValue());
            committer.prewriteSecondaryKeys(
                    primary, pairs.subList(1, pairs.size()).iterator(), 5_000);
            long commitTs = session.getTimestamp().getVersion();
            committer.commitPrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(5_000), primary, commitTs);
            List<ByteWrapper> secondaries = new ArrayList<>();
            for (BytePairWrapper p : pairs.subList(1, pairs.size())) {
                secondaries.add(new ByteWrapper(p.getKey()));
            }
            committer.commitSecondaryKeys(secondaries.iterator(), commitTs, 5_000);
        }
    }

    private static long sum(List<Kvrpcpb.KvPair> pairs) {
        long total = 0;
        for (Kvrpcpb.KvPair p : pairs) {
            total += parse(p.getValue());
        }
        return total;
    }

    private static long readTotalByScan(TiSession session) {
        try (KVClient kv = session.createKVClient()) {
            long ts = session.getTimestamp().getVersion();
            List<Kvrpcpb.KvPair> all = kv.scan(SCAN_START, SCAN_END, ts);
            assertThat(all).hasSize(ACCOUNTS);
            return sum(all);
        }
    }

    private static List<ByteString> allAccounts() {
        List<ByteString> keys = new ArrayList<>(ACCOUNTS);
        for (int i = 0; i < ACCOUNTS; i++) {
            keys.add(account(i));
        }
        return keys;
    }

    private static long readTotalByBatchGet(TiSession session) {
        try (KVClient kv = session.createKVClient()) {
            long ts = session.getTimestamp().getVersion();
            List<Kvrpcpb.KvPair> all =
                    kv.batchGet(ConcreteBackOffer.newBatchGetMaxBackOff(), allAccounts(), ts);
            assertThat(all).hasSize(ACCOUNTS);
            return sum(all);
        }
    }

    /**
     * Reads every account at a fresh ts, again and again, and checks the total each time.
     *
     * <p>Each read uses a new KVClient: KVClient keeps the txns whose locks one batchGet may bypass
     * in a field and hands them to its later batchGets at other timestamps, where bypassing them is
     * no longer safe (a txn pushed past ts 1 may have committed below ts 2), so a reused KVClient
     * can see half a transfer against any TiKV.
     *
     * <p>A read the client gives up on is counted, not failed, if the client gave up retrying
     * region errors: client-java's scan loop refreshes its region after a region error but keeps
     * sending to the old store (StoreNotMatch until the backoff runs out), and batchGet can recurse
     * without end on a region cache whose ranges went stale. Both happen against real TiKV under
     * the same topology churn. Any other failure, such as a key error or a gRPC error status, is a
     * failure of the test. After a read it gave up on, the reader drops its region cache.
     */
    private void reader(TiSession session, long deadline, boolean byScan) {
        ExecutorService readThread =
                Executors.newSingleThreadExecutor(
                        r -> {
                            Thread t = new Thread(r, Thread.currentThread().getName() + "-read");
                            t.setDaemon(true);
                            return t;
                        });
        try {
            while (System.nanoTime() < deadline && violations.isEmpty()) {
                long ts = session.getTimestamp().getVersion();
                List<Kvrpcpb.KvPair> all;
                KVClient kv = session.createKVClient();
                Future<List<Kvrpcpb.KvPair>> read =
                        readThread.submit(
                                () ->
                                        byScan
                                                ? kv.scan(SCAN_START, SCAN_END, ts)
                                                : kv.batchGet(
                                                        ConcreteBackOffer.newBatchGetMaxBackOff(),
                                                        allAccounts(),
                                                        ts));
                try {
                    all = read.get(READ_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException | ExecutionException e) {
                    Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                    String kind = (byScan ? "scan " : "batchGet ") + reason(cause);
                    boolean gaveUp = clientGaveUp(cause);
                    (gaveUp ? readsGivenUp : readFailures)
                            .computeIfAbsent(kind, k -> new LongAdder())
                            .increment();
                    if (gaveUp) {
                        // What an application does when the client is stuck on a stale region
                        // cache: drop the cache and try again.
                        session.getRegionManager().invalidateAll();
                    }
                    LOG.debug("read at {} failed", ts, cause);
                    continue;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } finally {
                    read.cancel(true);
                    kv.close();
                }
                reads.increment();
                (byScan ? scanReads : batchGetReads).increment();
                long total = sum(all);
                if (all.size() != ACCOUNTS || total != TOTAL) {
                    violations.add(
                            String.format(
                                    "%s at ts %d saw %d accounts totalling %d",
                                    byScan ? "scan" : "batch get", ts, all.size(), total));
                }
            }
        } finally {
            readThread.shutdownNow();
        }
    }

    /** Whether the client gave up retrying region errors (or we gave up waiting for it). */
    private static boolean clientGaveUp(Throwable e) {
        boolean gaveUp = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof KeyException || t instanceof StatusRuntimeException) {
                return false;
            }
            if (t instanceof TimeoutException
                    || t instanceof StackOverflowError
                    || t instanceof RegionException
                    || String.valueOf(t.getMessage()).contains("retry is exhausted")
                    // TwoPhaseCommitter's own cap on regions that keep changing under a batch
                    || String.valueOf(t.getMessage()).contains("> max retry number")) {
                gaveUp = true;
            }
        }
        return gaveUp;
    }

    // ------------------------------------------------------------------------------------------
    // Writers

    /** Moves random amounts between random accounts until the deadline. */
    private void writer(TiSession session, long deadline) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int n = 0;
                n < MAX_TRANSFERS_PER_WRITER
                        && System.nanoTime() < deadline
                        && violations.isEmpty();
                n++) {
            int from = random.nextInt(ACCOUNTS);
            int to = random.nextInt(ACCOUNTS - 1);
            if (to >= from) {
                to++;
            }
            long startTs = session.getTimestamp().getVersion();
            long[] balances;
            try {
                balances = readBalances(session, startTs, from, to);
            } catch (RuntimeException e) {
                abort("read", e);
                continue;
            }
            long fromBalance = balances[0];
            long toBalance = balances[1];
            long amount = fromBalance == 0 ? 0 : random.nextLong(fromBalance + 1);
            byte[] fromKey = account(from).toByteArray();
            byte[] toKey = account(to).toByteArray();
            boolean fromIsPrimary = random.nextBoolean();
            byte[] primary = fromIsPrimary ? fromKey : toKey;
            byte[] secondary = fromIsPrimary ? toKey : fromKey;
            byte[] primaryValue =
                    balance(fromIsPrimary ? fromBalance - amount : toBalance + amount);
            byte[] secondaryValue =
                    balance(fromIsPrimary ? toBalance + amount : fromBalance - amount);
            transfer(session, startTs, primary, primaryValue, secondary, secondaryValue);
        }
    }

    /**
     * A txn's reads of two accounts at its start ts. BatchGet rather than get, because get retries
     * for 40 s, and client-java's lock resolver can spend all of it sending ResolveLock to a store
     * that no longer leads the region (it refreshes the region but not its stub, so StoreNotMatch
     * repeats: a client matter, see reader()); a bounded backoff aborts the txn instead. A new
     * KVClient per read, as in reader().
     */
    private static long[] readBalances(TiSession session, long ts, int... accounts) {
        List<ByteString> keys = new ArrayList<>();
        for (int a : accounts) {
            keys.add(account(a));
        }
        List<Kvrpcpb.KvPair> pairs;
        try (KVClient kv = session.createKVClient()) {
            pairs = kv.batchGet(ConcreteBackOffer.newCustomBackOff(READ_BACKOFF_MS), keys, ts);
        } catch (RuntimeException e) {
            if (clientGaveUp(e)) {
                session.getRegionManager().invalidateAll();
            }
            throw e;
        }
        long[] balances = new long[accounts.length];
        for (int i = 0; i < accounts.length; i++) {
            ByteString key = account(accounts[i]);
            Kvrpcpb.KvPair pair =
                    pairs.stream()
                            .filter(p -> p.getKey().equals(key))
                            .findFirst()
                            .orElseThrow(
                                    () -> new AssertionError(key.toStringUtf8() + " is missing"));
            balances[i] = parse(pair.getValue());
        }
        return balances;
    }

    /** One 2PC transfer; counts it as committed or aborted. */
    private void transfer(
            TiSession session,
            long startTs,
            byte[] primary,
            byte[] primaryValue,
            byte[] secondary,
            byte[] secondaryValue) {
        try (TwoPhaseCommitter committer =
                new TwoPhaseCommitter(session, startTs, WRITER_LOCK_TTL_MS)) {
            try {
                committer.prewritePrimaryKey(
                        ConcreteBackOffer.newCustomBackOff(PREWRITE_BACKOFF_MS),
                        primary,
                        primaryValue);
                committer.prewriteSecondaryKeys(
                        primary,
                        List.of(new BytePairWrapper(secondary, secondaryValue)).iterator(),
                        PREWRITE_BACKOFF_MS);
            } catch (RuntimeException e) {
                // A conflict or a lock we may not wait for: the txn aborts. Its locks, if any,
                // expire and are rolled back by whoever meets them.
                abort("prewrite", e);
                return;
            }
            long commitTs = commitPrimary(session, committer, primary);
            if (commitTs == 0) {
                return;
            }
            committed.increment();
            try {
                committer.commitSecondaryKeys(
                        List.of(new ByteWrapper(secondary)).iterator(),
                        commitTs,
                        COMMIT_BACKOFF_MS);
            } catch (RuntimeException e) {
                // The txn is committed; readers roll the secondary forward.
                secondaryCommitFailures.increment();
                LOG.warn("secondary commit of txn {} failed", startTs, e);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Commits the primary. A reader may have pushed its min_commit_ts past our commit ts, which the
     * client retries with the same commit ts until its backoff runs out; TiDB then retries with a
     * fresh commit ts, and so do we. Returns the commit ts, or 0 if the txn aborted.
     */
    private long commitPrimary(TiSession session, TwoPhaseCommitter committer, byte[] primary) {
        for (int attempt = 0; ; attempt++) {
            long commitTs = session.getTimestamp().getVersion();
            try {
                committer.commitPrimaryKey(
                        ConcreteBackOffer.newCustomBackOff(COMMIT_BACKOFF_MS), primary, commitTs);
                return commitTs;
            } catch (RuntimeException e) {
                Kvrpcpb.KeyError keyError = keyError(e);
                if (keyError != null && keyError.hasCommitTsExpired() && attempt < 5) {
                    commitTsExpiredRetries.increment();
                    continue;
                }
                abort("commit", e);
                return 0;
            }
        }
    }

    private void abort(String phase, RuntimeException e) {
        aborted.increment();
        String reason = phase + " " + reason(e);
        abortReasons.computeIfAbsent(reason, r -> new LongAdder()).increment();
        // Key errors are TiKV speaking Percolator, and giving up on region errors is the client's
        // business (see reader()); anything else, such as an error status, should not happen.
        if (keyError(e) == null
                && !reason.contains("WriteConflict")
                && !reason.contains("KeyIsLocked")
                && !clientGaveUp(e)) {
            unexpectedAborts.computeIfAbsent(reason, r -> new LongAdder()).increment();
            LOG.warn("txn aborted in {} by an unexpected error", phase, e);
        }
        LOG.debug("txn aborted in {}", phase, e);
    }

    private static Kvrpcpb.KeyError keyError(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof KeyException && ((KeyException) t).getKeyErr() != null) {
                return ((KeyException) t).getKeyErr();
            }
        }
        return null;
    }

    /** A short name for why a txn aborted or a read failed, for the summary. */
    private static String reason(Throwable e) {
        Kvrpcpb.KeyError keyError = keyError(e);
        StringBuilder chain = new StringBuilder();
        Throwable root = e;
        for (Throwable t = e; t != null; t = t.getCause()) {
            chain.append(t.getMessage()).append(' ');
            if (t instanceof WriteConflictException) {
                return "WriteConflictException (lock of a newer txn)";
            }
            root = t;
        }
        String text = keyError != null ? keyError.toString() : chain.toString();
        if (text.contains("conflict {")) {
            return "WriteConflict";
        }
        if (text.contains("locked {")) {
            return "KeyIsLocked";
        }
        if (text.contains("commit_ts_expired")) {
            return "CommitTsExpired";
        }
        if (text.contains("txn_not_found")) {
            return "TxnNotFound";
        }
        if (keyError != null) {
            return "KeyError " + shorten(keyError.toString());
        }
        return root.getClass().getSimpleName() + ": " + shorten(String.valueOf(root.getMessage()));
    }

    /** A message with numbers masked, so that like failures group together. */
    private static String shorten(String message) {
        String s = message.replaceAll("[0-9]+", "N").replaceAll("\\s+", " ");
        return s.length() > 160 ? s.substring(0, 160) : s;
    }

    // ------------------------------------------------------------------------------------------
    // Crashed writers

    /**
     * Now and then prewrites a transfer with a short TTL and walks away, sometimes after committing
     * the primary. Readers must roll the first kind back and the second forward.
     */
    private void crashingWriter(TiSession session, long deadline) {
        boolean commitPrimary = false;
        while (System.nanoTime() < deadline - Duration.ofSeconds(2).toNanos()
                && violations.isEmpty()) {
            CrashedTxn txn = crashedTransfer(session, commitPrimary);
            if (txn != null) {
                synchronized (crashed) {
                    crashed.add(txn);
                }
                commitPrimary = !commitPrimary;
            }
            pause(Duration.ofMillis(1_500));
        }
    }

    private CrashedTxn crashedTransfer(TiSession session, boolean commitPrimary) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        int from = random.nextInt(ACCOUNTS);
        int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
        long startTs = session.getTimestamp().getVersion();
        long fromBalance;
        long toBalance;
        try {
            long[] balances = readBalances(session, startTs, from, to);
            fromBalance = balances[0];
            toBalance = balances[1];
        } catch (RuntimeException e) {
            return null; // try again later
        }
        long amount = fromBalance / 2;
        byte[] primary = account(from).toByteArray();
        byte[] secondary = account(to).toByteArray();
        // Closing the committer only stops its thread pool; the locks stay, as after a crash.
        try (TwoPhaseCommitter committer =
                new TwoPhaseCommitter(session, startTs, CRASHED_LOCK_TTL_MS)) {
            committer.prewritePrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(PREWRITE_BACKOFF_MS),
                    primary,
                    balance(fromBalance - amount));
            committer.prewriteSecondaryKeys(
                    primary,
                    List.of(new BytePairWrapper(secondary, balance(toBalance + amount))).iterator(),
                    PREWRITE_BACKOFF_MS);
            if (!commitPrimary) {
                return new CrashedTxn(startTs, primary, secondary, 0);
            }
            long commitTs = session.getTimestamp().getVersion();
            committer.commitPrimaryKey(
                    ConcreteBackOffer.newCustomBackOff(COMMIT_BACKOFF_MS), primary, commitTs);
            return new CrashedTxn(startTs, primary, secondary, commitTs);
        } catch (RuntimeException e) {
            // It lost a conflict before it could crash; try again later.
            LOG.debug("crashed writer's txn {} did not get far enough", startTs, e);
            return null;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private void verifyCrashedTxns(MiniTiKVCluster cluster, TiSession session) {
        List<CrashedTxn> txns;
        synchronized (crashed) {
            txns = new ArrayList<>(crashed);
        }
        await().atMost(Duration.ofSeconds(20))
                .pollInterval(Duration.ofMillis(200))
                .ignoreExceptions()
                .untilAsserted(
                        () -> {
                            // Reading again resolves locks the earlier reads only bypassed.
                            assertThat(readTotalByScan(session)).isEqualTo(TOTAL);
                            for (CrashedTxn t : txns) {
                                for (byte[] key : List.of(t.primary, t.secondary)) {
                                    io.tiflink.minicluster.storage.Lock lock =
                                            cluster.storage().lock(key);
                                    assertThat(lock == null || lock.startTs != t.startTs)
                                            .as("lock of crashed txn %d resolved", t.startTs)
                                            .isTrue();
                                    Write record = cluster.storage().txnRecord(key, t.startTs);
                                    assertThat(record).isNotNull();
                                    if (t.commitTs == 0) {
                                        assertThat(record.type)
                                                .as("crashed txn %d rolled back", t.startTs)
                                                .isEqualTo(Write.Type.ROLLBACK);
                                    } else {
                                        assertThat(record.type)
                                                .as("crashed txn %d rolled forward", t.startTs)
                                                .isEqualTo(Write.Type.PUT);
                                        assertThat(record.commitTs).isEqualTo(t.commitTs);
                                    }
                                }
                            }
                        });
    }

    // ------------------------------------------------------------------------------------------
    // Chaos

    /** Paces a loop (nothing to wait for but time). */
    private static void pause(Duration d) {
        await().pollDelay(d).atMost(d.plusSeconds(1)).until(() -> true);
    }

    /**
     * Splits, merges and moves leaders at random until the deadline. The split checker splits
     * regions that grow past {@code regionMaxKeys} meanwhile, so an operation can find its regions
     * gone or no longer adjacent; those are skipped.
     */
    private void injector(MiniTiKVCluster cluster, long deadline) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        List<Long> stores = cluster.storeIds();
        while (System.nanoTime() < deadline && violations.isEmpty()) {
            try {
                injectOne(cluster, stores, random);
            } catch (IllegalArgumentException e) {
                raced.incrementAndGet();
            }
            pause(Duration.ofMillis(100 + random.nextInt(200)));
        }
    }

    private void injectOne(MiniTiKVCluster cluster, List<Long> stores, ThreadLocalRandom random) {
        List<Region> regions = cluster.regions().all();
        int op = random.nextInt(3);
        if (regions.size() < 4) {
            op = 0;
        } else if (regions.size() > 16) {
            op = 1;
        }
        if (op == 0) {
            byte[] at = account(1 + random.nextInt(ACCOUNTS - 1)).toByteArray();
            if (regions.stream().noneMatch(r -> Arrays.equals(r.start, at))) {
                cluster.split(at);
                splits.incrementAndGet();
            }
        } else if (op == 1) {
            int i = random.nextInt(regions.size() - 1);
            Region left = regions.get(i);
            Region right = regions.get(i + 1);
            Region source = random.nextBoolean() ? left : right;
            Region target = source == left ? right : left;
            if (source.leaderStoreId != target.leaderStoreId && random.nextBoolean()) {
                // Half the time the leaders are lined up first. A scan that was talking to the
                // source's leader store otherwise finds the merged region led elsewhere, which
                // client-java's scan loop does not recover from (see reader()).
                cluster.transferLeader(source.id, target.leaderStoreId);
                leaderTransfers.incrementAndGet();
            }
            cluster.merge(source.id, target.id);
            merges.incrementAndGet();
        } else {
            Region r = regions.get(random.nextInt(regions.size()));
            long to = stores.get(random.nextInt(stores.size()));
            if (to != r.leaderStoreId) {
                cluster.transferLeader(r.id, to);
                leaderTransfers.incrementAndGet();
            }
        }
    }
}
