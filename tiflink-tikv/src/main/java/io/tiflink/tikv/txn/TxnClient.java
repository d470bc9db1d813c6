package io.tiflink.tikv.txn;

import io.tiflink.tikv.ByteKey;
import io.tiflink.tikv.Keys;
import io.tiflink.tikv.Sessions;
import io.tiflink.tikv.TxnSource;
import io.tiflink.tikv.UnavailableTimeout;

import org.tikv.common.TiSession;
import org.tikv.common.region.RegionManager;
import org.tikv.common.region.TiRegion;
import org.tikv.common.region.TiStore;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.Errorpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.TikvGrpc;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.com.google.protobuf.TextFormat;
import org.tikv.shade.io.grpc.StatusRuntimeException;
import org.tikv.txn.Lock;
import org.tikv.txn.ResolveLockResult;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.function.LongPredicate;

/**
 * The Percolator commands the sink sends to TiKV, each routed to its region's leader and retried
 * through region errors (splits, merges, leader moves) and unreachable stores. Unlike
 * tikv-client-java's {@code TwoPhaseCommitter}, it lets the caller choose the primary of a
 * transaction whose secondaries several processes write, reports write conflicts instead of
 * retrying them, and commits with a fresh timestamp when a reader pushed {@code min_commit_ts}.
 */
public final class TxnClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TxnClient.class);

    private static final int BATCH_KEYS = 4096;
    private static final long BATCH_BYTES = 1 << 20;

    private final TiSession session;
    private final boolean ownsSession;
    private final RegionManager regions;
    private final long pointTimeoutMillis;
    private final long batchTimeoutMillis;

    /**
     * How long a command is retried (through region errors, unreachable stores and PD, and locks of
     * other transactions it cannot resolve) before it fails.
     */
    private final UnavailableTimeout retryTimeout;

    private final long retryMillis;

    /**
     * The {@code txn_source} of the transactions this client writes ({@link TxnSource}; 0: none).
     * TiKV keeps it from the prewrite in the locks and commit records, and CDC hands it on.
     */
    private final long txnSource;

    /** tikv-client-java 3.3.5 takes a crashed async-commit transaction for a live one forever. */
    private final AsyncCommitLockResolver asyncCommit = new AsyncCommitLockResolver(this);

    public TxnClient(TiSession session) {
        this(session, UnavailableTimeout.DEFAULT);
    }

    /** A client on a session the caller keeps, retrying each command for {@code retryTimeout}. */
    public TxnClient(TiSession session, UnavailableTimeout retryTimeout) {
        this(session, false, retryTimeout, 0);
    }

    private TxnClient(
            TiSession session,
            boolean ownsSession,
            UnavailableTimeout retryTimeout,
            long txnSource) {
        this.session = session;
        this.ownsSession = ownsSession;
        this.retryTimeout = retryTimeout;
        this.retryMillis = retryTimeout.millis();
        this.txnSource = txnSource;
        this.regions = session.getRegionManager();
        this.pointTimeoutMillis = Math.max(1_000, session.getConf().getTimeout());
        this.batchTimeoutMillis = Math.max(pointTimeoutMillis, session.getConf().getScanTimeout());
    }

    /** A client over a session of its own, closed with it. */
    public static TxnClient open(org.tikv.common.TiConfiguration conf) {
        return open(conf, UnavailableTimeout.DEFAULT, 0);
    }

    /**
     * A client over a session of its own whose transactions carry {@code txnSource} (see {@link
     * TxnSource}), so that change consumers can tell them apart.
     */
    public static TxnClient open(
            org.tikv.common.TiConfiguration conf, UnavailableTimeout retryTimeout, long txnSource) {
        return new TxnClient(Sessions.open(conf), true, retryTimeout, txnSource);
    }

    public TiSession session() {
        return session;
    }

    /**
     * A fresh TSO, asked for again (each ask waits for tikv-client-java's TSO back-off, 5 s) until
     * the retry timeout.
     */
    public long timestamp() {
        long deadline = System.currentTimeMillis() + retryMillis;
        while (true) {
            try {
                return session.getTimestamp().getVersion();
            } catch (RuntimeException e) {
                if (System.currentTimeMillis() > deadline) {
                    throw new TxnException(
                            "no timestamp from PD at "
                                    + Sessions.addresses(session.getConf())
                                    + " for "
                                    + retryTimeout
                                    + ": "
                                    + Sessions.rootMessage(e),
                            e);
                }
                LOG.debug("no timestamp from PD; asking again", e);
                sleep(100);
            }
        }
    }

    /**
     * The context of the commands writing a transaction (prewrite, commit, heartbeat, rollback),
     * carrying {@link #txnSource}. TiKV stores the prewrite's in the locks and takes the commit
     * record's from the lock; reads and lock resolution act for other transactions and carry none.
     */
    private Kvrpcpb.Context ownContext(TiRegion r) {
        return TxnSource.with(r.getLeaderContext(), txnSource);
    }

    // ---- reads ----

    /**
     * The values of {@code keys} at {@code ts} (absent keys are left out). Locks of other
     * transactions are resolved as TiDB's reads resolve them: committed or rolled-back ones are
     * settled, open ones are read past once their {@code min_commit_ts} is pushed, and others are
     * waited for.
     */
    public Map<ByteKey, byte[]> get(long ts, List<byte[]> keys) {
        Map<ByteKey, byte[]> out = new HashMap<>();
        List<ByteString> all = new ArrayList<>(keys.size());
        for (byte[] k : keys) {
            all.add(ByteString.copyFrom(k));
        }
        for (List<ByteString> batch : byRegion(all, k -> k)) {
            getBatch(ts, batch, out);
        }
        return out;
    }

    private void getBatch(long ts, List<ByteString> batch, Map<ByteKey, byte[]> out) {
        ReadLocks readLocks = new ReadLocks("reading", ts);
        List<ByteString> keys = batch;
        while (!keys.isEmpty()) {
            List<ByteString> asked = keys;
            Kvrpcpb.BatchGetResponse resp =
                    onRegion(
                            asked.get(0),
                            "reading",
                            batchTimeoutMillis,
                            (stub, r) ->
                                    covers(r, asked, k -> k)
                                            ? stub.kvBatchGet(
                                                    Kvrpcpb.BatchGetRequest.newBuilder()
                                                            .setContext(readLocks.context(r))
                                                            .addAllKeys(asked)
                                                            .setVersion(ts)
                                                            .build())
                                            : null,
                            r -> r.hasRegionError() ? r.getRegionError() : null);
            if (resp == null) {
                for (List<ByteString> again : byRegion(asked, k -> k)) {
                    getBatch(ts, again, out);
                }
                return;
            }
            if (resp.hasError() && !resp.getError().hasLocked()) {
                throw new TxnException(
                        "reading at " + ts + " failed: " + describe(resp.getError()));
            }
            List<Kvrpcpb.LockInfo> locks = new ArrayList<>();
            for (Kvrpcpb.KvPair p : resp.getPairsList()) {
                if (p.hasError()) {
                    locks.add(readLocks.locked(p));
                } else {
                    out.put(new ByteKey(p.getKey().toByteArray()), p.getValue().toByteArray());
                }
            }
            if (locks.isEmpty()) {
                return;
            }
            readLocks.settle(locks);
            keys = new ArrayList<>();
            for (Kvrpcpb.LockInfo l : locks) {
                keys.add(l.getKey());
            }
        }
    }

    /**
     * The locks one read meets, settled as TiDB's reads settle them: committed or rolled-back
     * transactions are resolved, open ones are read past once their {@code min_commit_ts} is
     * pushed, crashed async-commit ones are decided from their secondaries, and live ones are
     * waited for, up to the retry deadline.
     */
    private final class ReadLocks {
        private final String what;
        private final long ts;
        private final Set<Long> readPast = new HashSet<>();
        private final long deadline = System.currentTimeMillis() + retryMillis;
        private final ConcreteBackOffer backOff =
                ConcreteBackOffer.newCustomBackOff((int) retryMillis);
        private final LockWait wait = new LockWait();

        ReadLocks(String what, long ts) {
            this.what = what;
            this.ts = ts;
        }

        /** The region's context, with the locks this read may read past. */
        Kvrpcpb.Context context(TiRegion r) {
            return r.getLeaderContext().toBuilder().addAllResolvedLocks(readPast).build();
        }

        /** The lock of a pair that failed; throws if it failed otherwise. */
        Kvrpcpb.LockInfo locked(Kvrpcpb.KvPair p) {
            if (!p.getError().hasLocked()) {
                throw new TxnException(what + " at " + ts + " failed: " + describe(p.getError()));
            }
            return p.getError().getLocked();
        }

        /** Settles what it can of {@code locks}, then waits before the read is tried again. */
        void settle(List<Kvrpcpb.LockInfo> locks) {
            List<Lock> others = settleAsyncCommit(locks);
            ResolveLockResult result = null;
            if (!others.isEmpty()) {
                TiRegion region = regions.getRegionByKey(others.get(0).getKey());
                result =
                        session.getRegionStoreClientBuilder()
                                .build(region)
                                .lockResolverClient
                                .resolveLocks(backOff, ts, others, false);
                readPast.addAll(result.getResolvedLocks());
            }
            if (System.currentTimeMillis() > deadline) {
                throw new TxnException(
                        what
                                + " at "
                                + ts
                                + " still finds keys locked after "
                                + retryMillis
                                + " ms: "
                                + describe(locks.get(0)));
            }
            wait.after(result);
        }
    }

    /** The locks in {@code [start, end)} with a start ts at or below {@code maxVersion}. */
    public List<Kvrpcpb.LockInfo> scanLocks(byte[] start, byte[] end, long maxVersion) {
        return scanRange(
                start,
                end,
                Integer.MAX_VALUE,
                (at, to, batch) -> {
                    Kvrpcpb.ScanLockResponse resp =
                            onRegion(
                                    at,
                                    "scanning locks",
                                    pointTimeoutMillis,
                                    (stub, region) ->
                                            stub.kvScanLock(
                                                    Kvrpcpb.ScanLockRequest.newBuilder()
                                                            .setContext(region.getLeaderContext())
                                                            .setStartKey(at)
                                                            .setEndKey(min(to, region.getEndKey()))
                                                            .setMaxVersion(maxVersion)
                                                            .setLimit(batch)
                                                            .build()),
                                    r -> r.hasRegionError() ? r.getRegionError() : null);
                    if (resp.hasError()) {
                        throw new TxnException("scanning locks failed: " + resp.getError());
                    }
                    return resp.getLocksList();
                },
                Kvrpcpb.LockInfo::getKey);
    }

    /**
     * The keys in {@code [start, end)} with a value at {@code ts}, and their values; at most {@code
     * limit}. Locks are settled as {@link #get} settles them.
     *
     * @throws TxnException if a key is still locked at the retry deadline, naming it and its owner
     */
    public List<Kvrpcpb.KvPair> scan(long ts, byte[] start, byte[] end, int limit) {
        ReadLocks readLocks = new ReadLocks("scanning", ts);
        return scanRange(
                start,
                end,
                limit,
                (at, to, batch) -> {
                    while (true) {
                        Kvrpcpb.ScanResponse resp =
                                onRegion(
                                        at,
                                        "scanning",
                                        pointTimeoutMillis,
                                        (stub, region) ->
                                                stub.kvScan(
                                                        Kvrpcpb.ScanRequest.newBuilder()
                                                                .setContext(
                                                                        readLocks.context(region))
                                                                .setStartKey(at)
                                                                .setEndKey(
                                                                        min(to, region.getEndKey()))
                                                                .setVersion(ts)
                                                                .setLimit(batch)
                                                                .build()),
                                        r -> r.hasRegionError() ? r.getRegionError() : null);
                        List<Kvrpcpb.LockInfo> locks = new ArrayList<>();
                        for (Kvrpcpb.KvPair p : resp.getPairsList()) {
                            if (p.hasError()) {
                                locks.add(readLocks.locked(p));
                            }
                        }
                        if (locks.isEmpty()) {
                            return resp.getPairsList();
                        }
                        readLocks.settle(locks); // then the page again
                    }
                },
                Kvrpcpb.KvPair::getKey);
    }

    /** One page of a scan: at most {@code batch} items from {@code at} in its region, below to. */
    private interface ScanPage<T> {
        List<T> read(ByteString at, ByteString to, int batch);
    }

    /** Reads {@code [start, end)} page by page, region by region; at most {@code limit} items. */
    private <T> List<T> scanRange(
            byte[] start, byte[] end, int limit, ScanPage<T> page, Function<T, ByteString> keyOf) {
        List<T> out = new ArrayList<>();
        ByteString from = ByteString.copyFrom(start);
        ByteString to = ByteString.copyFrom(end);
        while (compare(from, to) < 0 && out.size() < limit) {
            ByteString at = from;
            int batch = Math.min(BATCH_KEYS, limit - out.size());
            List<T> items = page.read(at, to, batch);
            out.addAll(items);
            if (items.size() >= batch) {
                from = keyOf.apply(items.get(items.size() - 1)).concat(ZERO);
            } else {
                ByteString regionEnd = regions.getRegionByKey(at).getEndKey();
                if (regionEnd.isEmpty()) {
                    break;
                }
                from = regionEnd;
            }
        }
        return out;
    }

    private static final ByteString ZERO = ByteString.copyFrom(new byte[1]);

    // ---- prewrite and commit ----

    /** A mutation that puts {@code value} at {@code key}. */
    public static Kvrpcpb.Mutation put(byte[] key, byte[] value) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(ByteString.copyFrom(key))
                .setValue(ByteString.copyFrom(value))
                .build();
    }

    /** A mutation that only locks {@code key}: it writes nothing the key's readers see. */
    public static Kvrpcpb.Mutation lockOnly(byte[] key) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Lock)
                .setKey(ByteString.copyFrom(key))
                .build();
    }

    /** A mutation that deletes {@code key}. */
    public static Kvrpcpb.Mutation delete(byte[] key) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Del)
                .setKey(ByteString.copyFrom(key))
                .build();
    }

    /**
     * A mutation that writes nothing but locks {@code key}: the transaction conflicts with any
     * other that commits the key after its start ts (as TiDB's {@code LockKeys} in an optimistic
     * transaction).
     */
    public static Kvrpcpb.Mutation lock(byte[] key) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Lock)
                .setKey(ByteString.copyFrom(key))
                .build();
    }

    /**
     * Prewrites {@code mutations} (at most one per key) of the transaction {@code startTs} whose
     * primary is {@code primary}, grouped by region. Locks of other transactions are resolved or
     * waited for, as TiDB does.
     *
     * @throws WriteConflictException if another transaction committed one of the keys after {@code
     *     startTs}, or holds a lock on it that is newer than ours
     * @throws TxnException if this transaction was rolled back, or TiKV refused the prewrite
     */
    public void prewrite(
            byte[] primary, List<Kvrpcpb.Mutation> mutations, long startTs, long lockTtlMillis) {
        ByteString primaryKey = ByteString.copyFrom(primary);
        for (List<Kvrpcpb.Mutation> batch : byRegion(mutations, Kvrpcpb.Mutation::getKey)) {
            prewriteBatch(primaryKey, batch, startTs, lockTtlMillis);
        }
    }

    private void prewriteBatch(
            ByteString primary, List<Kvrpcpb.Mutation> batch, long startTs, long ttl) {
        long deadline = System.currentTimeMillis() + retryMillis;
        ConcreteBackOffer resolveBackOff = ConcreteBackOffer.newCustomBackOff((int) retryMillis);
        LockWait wait = new LockWait();
        while (true) {
            ByteString first = batch.get(0).getKey();
            TiRegion region = regions.getRegionByKey(first);
            if (!covers(region, batch, Kvrpcpb.Mutation::getKey)) {
                // The region split since the keys were grouped: group them again.
                prewrite(primary.toByteArray(), batch, startTs, ttl);
                return;
            }
            Kvrpcpb.PrewriteResponse resp =
                    onRegion(
                            first,
                            "prewrite",
                            batchTimeoutMillis,
                            (stub, r) -> {
                                if (!r.getVerID().equals(region.getVerID())) {
                                    return null; // changed under us: regroup
                                }
                                return stub.kvPrewrite(
                                        Kvrpcpb.PrewriteRequest.newBuilder()
                                                .setContext(ownContext(r))
                                                .setStartVersion(startTs)
                                                .setPrimaryLock(primary)
                                                .addAllMutations(batch)
                                                .setLockTtl(ttl)
                                                .setTxnSize(batch.size())
                                                // Readers at ts >= start_ts push it, and so are
                                                // never blocked by the open transaction.
                                                .setMinCommitTs(startTs + 1)
                                                .build());
                            },
                            r -> r.hasRegionError() ? r.getRegionError() : null);
            if (resp == null) {
                continue;
            }
            List<Kvrpcpb.LockInfo> locked = new ArrayList<>();
            for (Kvrpcpb.KeyError e : resp.getErrorsList()) {
                if (e.hasLocked()) {
                    locked.add(e.getLocked());
                } else if (e.hasConflict()) {
                    throw WriteConflictException.of(e);
                } else {
                    throw new TxnException(
                            "prewrite of transaction " + startTs + " failed: " + describe(e));
                }
            }
            if (locked.isEmpty()) {
                return;
            }
            List<Lock> others = settleAsyncCommit(locked);
            wait.after(others.isEmpty() ? null : resolveForWrite(others, startTs, resolveBackOff));
            if (System.currentTimeMillis() > deadline) {
                throw new TxnException(
                        "prewrite of transaction "
                                + startTs
                                + " still finds keys locked by other transactions after "
                                + retryMillis
                                + " ms: "
                                + describe(locked.get(0)));
            }
        }
    }

    /**
     * Settles the async-commit transactions among {@code locks} (tikv-client-java 3.3.5 would take
     * a crashed one for a live one forever); returns the other locks, for tikv-client-java's
     * resolver.
     */
    private List<Lock> settleAsyncCommit(List<Kvrpcpb.LockInfo> locks) {
        List<Lock> others = new ArrayList<>();
        List<Kvrpcpb.LockInfo> asyncCommitLocks = new ArrayList<>();
        for (Kvrpcpb.LockInfo l : locks) {
            if (l.getUseAsyncCommit()) {
                asyncCommitLocks.add(l);
            } else {
                others.add(new Lock(l, session.getPDClient().getCodec()));
            }
        }
        if (!asyncCommitLocks.isEmpty()) {
            asyncCommit.resolve(asyncCommitLocks);
        }
        return others;
    }

    /** Resolves other transactions' locks that block our prewrite, as far as it can. */
    private ResolveLockResult resolveForWrite(
            List<Lock> locks, long startTs, ConcreteBackOffer backOff) {
        TiRegion region = regions.getRegionByKey(locks.get(0).getKey());
        ResolveLockResult result;
        try {
            result =
                    session.getRegionStoreClientBuilder()
                            .build(region)
                            .lockResolverClient
                            .resolveLocks(backOff, startTs, locks, true);
        } catch (org.tikv.common.exception.WriteConflictException
                | org.tikv.txn.exception.WriteConflictException e) {
            throw new WriteConflictException(
                    "a newer transaction holds a lock on "
                            + Keys.hex(locks.get(0).getKey().toByteArray())
                            + ": "
                            + e.getMessage());
        }
        return result;
    }

    /**
     * Waits between attempts on locked keys: until the lock's TTL runs out if the resolver says
     * when, else with a doubling back-off, so that a lock of a live transaction is not retried in a
     * busy loop.
     */
    private static final class LockWait {
        private long backOffMillis = 10;

        /** After tikv-client-java's {@code result}, or null if only async-commit locks met. */
        void after(ResolveLockResult result) {
            long expires = result == null ? 0 : result.getMsBeforeTxnExpired();
            sleep(expires > 0 ? Math.min(expires, 500) : backOffMillis);
            backOffMillis = Math.min(backOffMillis * 2, 500);
        }
    }

    /** A lock for messages: its key and the transaction that owns it. */
    private static String describe(Kvrpcpb.LockInfo lock) {
        return "key "
                + Keys.printable(lock.getKey().toByteArray())
                + " is locked by transaction "
                + lock.getLockVersion()
                + " (primary "
                + Keys.printable(lock.getPrimaryLock().toByteArray())
                + ", ttl "
                + lock.getLockTtl()
                + " ms"
                + (lock.getUseAsyncCommit() ? ", async commit" : "")
                + ")";
    }

    /**
     * Commits {@code keys} of transaction {@code startTs} at {@code commitTs}.
     *
     * @return null on success, else the key error of the first key TiKV refused
     */
    public Kvrpcpb.KeyError commit(List<byte[]> keys, long startTs, long commitTs) {
        List<ByteString> all = new ArrayList<>(keys.size());
        for (byte[] k : keys) {
            all.add(ByteString.copyFrom(k));
        }
        for (List<ByteString> batch : byRegion(all, k -> k)) {
            Kvrpcpb.CommitResponse resp =
                    onRegion(
                            batch.get(0),
                            "commit",
                            batchTimeoutMillis,
                            (stub, r) ->
                                    covers(r, batch, k -> k)
                                            ? stub.kvCommit(
                                                    Kvrpcpb.CommitRequest.newBuilder()
                                                            .setContext(ownContext(r))
                                                            .setStartVersion(startTs)
                                                            .setCommitVersion(commitTs)
                                                            .addAllKeys(batch)
                                                            .build())
                                            : null,
                            r -> r.hasRegionError() ? r.getRegionError() : null);
            if (resp == null) {
                List<byte[]> again = new ArrayList<>();
                batch.forEach(k -> again.add(k.toByteArray()));
                Kvrpcpb.KeyError e = commit(again, startTs, commitTs);
                if (e != null) {
                    return e;
                }
            } else if (resp.hasError()) {
                return resp.getError();
            }
        }
        return null;
    }

    // ---- transaction status ----

    /** What TiKV knows of a transaction, read from its primary. */
    public static final class Status {
        /** The primary is still locked (the transaction is open). */
        public final boolean locked;

        /** The commit ts, or 0. */
        public final long commitTs;

        /** Whether TiKV knows nothing of the transaction (never prewritten, or forgotten). */
        public final boolean notFound;

        Status(boolean locked, long commitTs, boolean notFound) {
            this.locked = locked;
            this.commitTs = commitTs;
            this.notFound = notFound;
        }

        public boolean committed() {
            return commitTs != 0;
        }

        /** Rolled back: neither open, nor committed, nor unknown. */
        public boolean rolledBack() {
            return !locked && commitTs == 0 && !notFound;
        }

        @Override
        public String toString() {
            return locked
                    ? "open"
                    : commitTs != 0
                            ? "committed at " + commitTs
                            : notFound ? "unknown to TiKV" : "rolled back";
        }
    }

    /**
     * The status of transaction {@code startTs}, changing nothing: no rollback of an expired lock,
     * no push of its {@code min_commit_ts}.
     */
    public Status status(byte[] primary, long startTs) {
        Kvrpcpb.CheckTxnStatusResponse resp = checkTxnStatus(primary, startTs, 0, false, false);
        if (resp.hasError()) {
            if (resp.getError().hasTxnNotFound()) {
                return new Status(false, 0, true);
            }
            throw new TxnException(
                    "checking transaction "
                            + startTs
                            + " at "
                            + Keys.hex(primary)
                            + " failed: "
                            + describe(resp.getError()));
        }
        return new Status(resp.getLockTtl() != 0, resp.getCommitVersion(), false);
    }

    /**
     * CheckTxnStatus on the primary of transaction {@code startTs}, as a lock resolver sends it:
     * with {@code currentTs}, TiKV rolls back an expired lock (not an async-commit one, unless
     * {@code forceSyncCommit}); with {@code rollbackIfNotExist}, it rolls back a primary never
     * written. Answers TiKV's response, key errors included.
     */
    public Kvrpcpb.CheckTxnStatusResponse checkTxnStatus(
            byte[] primary,
            long startTs,
            long currentTs,
            boolean rollbackIfNotExist,
            boolean forceSyncCommit) {
        ByteString key = ByteString.copyFrom(primary);
        return onRegion(
                key,
                "checking a transaction's status",
                pointTimeoutMillis,
                (stub, r) ->
                        stub.kvCheckTxnStatus(
                                Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                        .setContext(r.getLeaderContext())
                                        .setPrimaryKey(key)
                                        .setLockTs(startTs)
                                        .setCurrentTs(currentTs)
                                        .setRollbackIfNotExist(rollbackIfNotExist)
                                        .setForceSyncCommit(forceSyncCommit)
                                        .build()),
                r -> r.hasRegionError() ? r.getRegionError() : null);
    }

    /**
     * Commits the primary of transaction {@code startTs}, if it is not committed yet, and returns
     * its commit ts, which may be another committer's. A commit refused because a reader pushed
     * {@code min_commit_ts} past our commit ts is retried with a fresh one.
     *
     * @throws TxnException if the transaction was rolled back or is unknown to TiKV
     */
    public long commitPrimary(byte[] primary, long startTs) {
        return commitPrimary(primary, startTs, commitTs -> true);
    }

    /**
     * As {@link #commitPrimary(byte[], long)}, asking {@code mayCommitAt} before each commit ts it
     * tries (again after a reader pushed {@code min_commit_ts} past one), as TiDB checks its schema
     * at the commit ts: what the transaction wrote must still be right at the ts it becomes visible
     * at.
     *
     * @return the commit ts, or 0 if {@code mayCommitAt} refused one (the transaction is left open)
     */
    public long commitPrimary(byte[] primary, long startTs, LongPredicate mayCommitAt) {
        for (int attempt = 1; ; attempt++) {
            Status s = status(primary, startTs);
            if (s.committed()) {
                return s.commitTs;
            }
            if (!s.locked) {
                throw new TxnException(
                        "transaction "
                                + startTs
                                + " (primary "
                                + Keys.printable(primary)
                                + ") cannot be committed: it is "
                                + s);
            }
            long commitTs = timestamp();
            if (!mayCommitAt.test(commitTs)) {
                return 0;
            }
            Kvrpcpb.KeyError e = commit(List.of(primary), startTs, commitTs);
            if (e == null || e.hasCommitTsExpired() && attempt < 1000) {
                // Read the commit ts back: a concurrent committer may have won with another ts.
                continue;
            }
            if (!e.getRetryable().isEmpty() && attempt < 10) {
                continue; // TxnLockNotFound: rolled back, or committed by another; look again
            }
            throw new TxnException(
                    "committing transaction "
                            + startTs
                            + " (primary "
                            + Keys.printable(primary)
                            + ") failed: "
                            + describe(e));
        }
    }

    /**
     * Extends the primary lock's TTL to {@code ttlMillis} past now.
     *
     * @return false if the transaction is no longer open (committed or rolled back)
     */
    public boolean heartBeat(byte[] primary, long startTs, long ttlMillis) {
        ByteString key = ByteString.copyFrom(primary);
        // TiKV measures a lock's TTL from its start ts' physical time.
        long advise = Math.max(0, System.currentTimeMillis() - (startTs >>> 18)) + ttlMillis;
        Kvrpcpb.TxnHeartBeatResponse resp =
                onRegion(
                        key,
                        "heartbeat",
                        pointTimeoutMillis,
                        (stub, r) ->
                                stub.kvTxnHeartBeat(
                                        Kvrpcpb.TxnHeartBeatRequest.newBuilder()
                                                .setContext(ownContext(r))
                                                .setPrimaryLock(key)
                                                .setStartVersion(startTs)
                                                .setAdviseLockTtl(advise)
                                                .build()),
                        r -> r.hasRegionError() ? r.getRegionError() : null);
        if (resp.hasError()) {
            if (resp.getError().hasTxnNotFound()) {
                return false;
            }
            throw new TxnException("heartbeat of transaction " + startTs + " failed: " + resp);
        }
        return true;
    }

    /**
     * Rolls transaction {@code startTs} back at its primary (idempotent).
     *
     * @return 0 if it is rolled back, or its commit ts if it had committed already
     */
    public long rollbackPrimary(byte[] primary, long startTs) {
        ByteString key = ByteString.copyFrom(primary);
        Kvrpcpb.BatchRollbackResponse resp =
                onRegion(
                        key,
                        "rollback",
                        pointTimeoutMillis,
                        (stub, r) ->
                                stub.kvBatchRollback(
                                        Kvrpcpb.BatchRollbackRequest.newBuilder()
                                                .setContext(ownContext(r))
                                                .setStartVersion(startTs)
                                                .addKeys(key)
                                                .build()),
                        r -> r.hasRegionError() ? r.getRegionError() : null);
        if (resp.hasError()) {
            Status s = status(primary, startTs);
            if (s.committed()) {
                return s.commitTs;
            }
            throw new TxnException(
                    "rolling back transaction "
                            + startTs
                            + " failed: "
                            + describe(resp.getError()));
        }
        return 0;
    }

    /**
     * Commits ({@code commitTs > 0}) or rolls back ({@code 0}) every lock of transaction {@code
     * startTs} in {@code [start, end)}, region by region, as a reader resolving them would.
     */
    public void resolveRange(byte[] start, byte[] end, long startTs, long commitTs) {
        ByteString from = ByteString.copyFrom(start);
        ByteString to = ByteString.copyFrom(end);
        while (compare(from, to) < 0) {
            ByteString at = from;
            Kvrpcpb.ResolveLockResponse resp =
                    onRegion(
                            at,
                            "resolving locks",
                            batchTimeoutMillis,
                            (stub, r) ->
                                    stub.kvResolveLock(
                                            Kvrpcpb.ResolveLockRequest.newBuilder()
                                                    .setContext(r.getLeaderContext())
                                                    .setStartVersion(startTs)
                                                    .setCommitVersion(commitTs)
                                                    .build()),
                            r -> r.hasRegionError() ? r.getRegionError() : null);
            if (resp.hasError()) {
                throw new TxnException(
                        "resolving the locks of transaction "
                                + startTs
                                + " failed: "
                                + describe(resp.getError()));
            }
            ByteString regionEnd = regions.getRegionByKey(at).getEndKey();
            if (regionEnd.isEmpty()) {
                return;
            }
            from = regionEnd;
        }
    }

    /** What CheckSecondaryLocks found on one region's keys of an async-commit transaction. */
    public static final class SecondaryLocks {
        private final int asked;

        /** The keys' locks, if every key asked is still locked by the transaction. */
        public final List<Kvrpcpb.LockInfo> locks;

        /** If not all are locked: the commit ts of a committed key, or 0 (rolled back). */
        public final long commitTs;

        SecondaryLocks(int asked, List<Kvrpcpb.LockInfo> locks, long commitTs) {
            this.asked = asked;
            this.locks = locks;
            this.commitTs = commitTs;
        }

        /** Every key asked is still locked: none is committed or rolled back. */
        public boolean allLocked() {
            return locks.size() == asked;
        }
    }

    /**
     * CheckSecondaryLocks on {@code keys} of async-commit transaction {@code startTs}, one request
     * per region. Per region, TiKV answers the keys' locks if all are locked, else the commit ts of
     * a committed key, or 0 after writing a rollback where nothing of the transaction is.
     */
    public List<SecondaryLocks> checkSecondaryLocks(List<ByteString> keys, long startTs) {
        List<SecondaryLocks> out = new ArrayList<>();
        onRegions(
                keys,
                "checking secondary locks",
                (stub, r, batch) ->
                        stub.kvCheckSecondaryLocks(
                                Kvrpcpb.CheckSecondaryLocksRequest.newBuilder()
                                        .setContext(r.getLeaderContext())
                                        .setStartVersion(startTs)
                                        .addAllKeys(batch)
                                        .build()),
                r -> r.hasRegionError() ? r.getRegionError() : null,
                (batch, resp) -> {
                    if (resp.hasError()) {
                        throw new TxnException(
                                "checking the secondary locks of transaction "
                                        + startTs
                                        + " failed: "
                                        + describe(resp.getError()));
                    }
                    out.add(
                            new SecondaryLocks(
                                    batch.size(), resp.getLocksList(), resp.getCommitTs()));
                });
        return out;
    }

    /**
     * Commits ({@code commitTs > 0}) or rolls back ({@code 0}) the locks of transaction {@code
     * startTs} on {@code keys}, one ResolveLock per region.
     */
    public void resolveKeys(List<ByteString> keys, long startTs, long commitTs) {
        onRegions(
                keys,
                "resolving locks",
                (stub, r, batch) ->
                        stub.kvResolveLock(
                                Kvrpcpb.ResolveLockRequest.newBuilder()
                                        .setContext(r.getLeaderContext())
                                        .setStartVersion(startTs)
                                        .setCommitVersion(commitTs)
                                        .addAllKeys(batch)
                                        .build()),
                r -> r.hasRegionError() ? r.getRegionError() : null,
                (batch, resp) -> {
                    if (resp.hasError()) {
                        throw new TxnException(
                                "resolving the locks of transaction "
                                        + startTs
                                        + " failed: "
                                        + describe(resp.getError()));
                    }
                });
    }

    // ---- routing ----

    /** A command sent to a region's leader; null means "the region changed: route again". */
    private interface RegionCall<R> {
        R call(TikvGrpc.TikvBlockingStub stub, TiRegion region);
    }

    /**
     * Sends a command to the leader of the region holding {@code key}, retrying through region
     * errors and unreachable stores for the retry budget. Returns null when {@code call} does.
     */
    private <R> R onRegion(
            ByteString key,
            String what,
            long timeoutMillis,
            RegionCall<R> call,
            Function<R, Errorpb.Error> regionError) {
        long deadline = System.currentTimeMillis() + retryMillis;
        long backOff = 10;
        while (true) {
            TiRegion region = null;
            TiStore store = null;
            String failure;
            try {
                // Bounded by the deadline: tikv-client-java's own back-off waits 20 s for PD.
                ConcreteBackOffer pd =
                        ConcreteBackOffer.newCustomBackOff(
                                (int) Math.max(1, deadline - System.currentTimeMillis()));
                region = regions.getRegionByKey(key, pd);
                if (region == null) {
                    throw new IllegalStateException("no region found (PD unreachable)");
                }
                store = regions.getStoreById(region.getLeader().getStoreId(), pd);
                TikvGrpc.TikvBlockingStub stub =
                        TikvGrpc.newBlockingStub(
                                        session.getChannelFactory()
                                                .getChannel(
                                                        store.getStore().getAddress(),
                                                        session.getPDClient().getHostMapping()))
                                .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
                R resp = call.call(stub, region);
                if (resp == null) {
                    return null;
                }
                Errorpb.Error e = regionError.apply(resp);
                if (e == null) {
                    return resp;
                }
                failure = "region " + region.getId() + ": " + TextFormat.shortDebugString(e);
                if (e.hasNotLeader() && e.getNotLeader().hasLeader()) {
                    if (regions.updateLeader(region, e.getNotLeader().getLeader().getStoreId())
                            == null) {
                        regions.invalidateRegion(region);
                    }
                } else {
                    regions.invalidateRegion(region);
                }
            } catch (RuntimeException e) {
                if (store == null) {
                    // tikv-client-java gave up reaching PD, after its own back-off.
                    failure =
                            "PD did not answer for key "
                                    + Keys.hex(key.toByteArray())
                                    + ": "
                                    + Sessions.rootMessage(e);
                } else if (e instanceof StatusRuntimeException) {
                    failure =
                            "region "
                                    + region.getId()
                                    + ": store "
                                    + store.getId()
                                    + " at "
                                    + store.getStore().getAddress()
                                    + " unreachable: "
                                    + Sessions.rootMessage(e);
                    regions.onRequestFail(region);
                } else {
                    throw e;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new TxnException(
                        what
                                + " failed for "
                                + retryTimeout
                                + " without PD or TiKV serving it; last error: "
                                + failure);
            }
            LOG.debug("{}: {}; retrying", what, failure);
            sleep(backOff);
            backOff = Math.min(backOff * 2, 1_000);
        }
    }

    /** A command on one region's batch of keys. */
    private interface BatchCall<R> {
        R call(TikvGrpc.TikvBlockingStub stub, TiRegion region, List<ByteString> batch);
    }

    /**
     * Sends {@code call} for each region's batch of {@code keys} and hands each response to {@code
     * onResponse}, grouping a batch again when its region changed (split, merge) since grouping.
     */
    private <R> void onRegions(
            List<ByteString> keys,
            String what,
            BatchCall<R> call,
            Function<R, Errorpb.Error> regionError,
            BiConsumer<List<ByteString>, R> onResponse) {
        for (List<ByteString> batch : byRegion(keys, k -> k)) {
            R resp =
                    onRegion(
                            batch.get(0),
                            what,
                            batchTimeoutMillis,
                            (stub, r) ->
                                    covers(r, batch, k -> k) ? call.call(stub, r, batch) : null,
                            regionError);
            if (resp == null) {
                onRegions(batch, what, call, regionError, onResponse);
            } else {
                onResponse.accept(batch, resp);
            }
        }
    }

    /** Groups items by the region of their key, in batches of bounded size. */
    private <T> List<List<T>> byRegion(List<T> items, Function<T, ByteString> key) {
        Map<Long, List<T>> groups = new LinkedHashMap<>();
        for (T item : items) {
            TiRegion r = regions.getRegionByKey(key.apply(item));
            groups.computeIfAbsent(r.getId(), id -> new ArrayList<>()).add(item);
        }
        List<List<T>> out = new ArrayList<>();
        for (List<T> group : groups.values()) {
            List<T> batch = new ArrayList<>();
            long bytes = 0;
            for (T item : group) {
                long size =
                        item instanceof Kvrpcpb.Mutation
                                ? ((Kvrpcpb.Mutation) item).getSerializedSize()
                                : key.apply(item).size();
                if (!batch.isEmpty()
                        && (batch.size() >= BATCH_KEYS || bytes + size > BATCH_BYTES)) {
                    out.add(batch);
                    batch = new ArrayList<>();
                    bytes = 0;
                }
                batch.add(item);
                bytes += size;
            }
            out.add(batch);
        }
        return out;
    }

    /** Whether the region holds every key ({@code TiRegion.contains} fails for the last one). */
    private static <T> boolean covers(TiRegion region, List<T> batch, Function<T, ByteString> key) {
        for (T item : batch) {
            ByteString k = key.apply(item);
            if (compare(k, region.getStartKey()) < 0
                    || !region.getEndKey().isEmpty() && compare(k, region.getEndKey()) >= 0) {
                return false;
            }
        }
        return true;
    }

    private static int compare(ByteString a, ByteString b) {
        return Arrays.compareUnsigned(a.toByteArray(), b.toByteArray());
    }

    private static ByteString min(ByteString end, ByteString regionEnd) {
        return regionEnd.isEmpty() || compare(end, regionEnd) <= 0 ? end : regionEnd;
    }

    static String describe(Kvrpcpb.KeyError e) {
        return e.toString().replace('\n', ' ').trim();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TxnException("interrupted", e);
        }
    }

    @Override
    public void close() {
        if (ownsSession) {
            try {
                session.close();
            } catch (Exception e) {
                throw new TxnException("closing the TiKV session failed: " + e.getMessage(), e);
            }
        }
    }
}
