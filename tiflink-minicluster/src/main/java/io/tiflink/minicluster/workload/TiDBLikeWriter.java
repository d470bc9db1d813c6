package io.tiflink.minicluster.workload;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.codec.TxnSource;
import io.tiflink.minicluster.region.Region;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.kvproto.TikvGrpc;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.ManagedChannel;
import org.tikv.shade.io.grpc.ManagedChannelBuilder;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiPredicate;

/**
 * Commits transactions over TiKV's gRPC as TiDB's client (client-go) does, in each shape TiDB uses:
 * optimistic two-phase commit, async commit, one-phase commit (1PC), pessimistic transactions (with
 * 2PC or async commit), across regions; and leaves crashed ones behind, with their locks. For tests
 * of readers that meet what a real TiDB writes: the CDC client, the source, the sink.
 *
 * <p>Keys are raw keys; a {@code null} value deletes. Regions are looked up as the cluster knows
 * them; a request that meets a region error (a split, a leader move) is sent again, regrouped.
 */
public final class TiDBLikeWriter implements AutoCloseable {
    /** How a transaction commits. */
    public enum Shape {
        /** Prewrite every key, commit the primary at a new TSO, then the secondaries. */
        OPTIMISTIC,
        /** Prewrite with {@code use_async_commit}; committed at the largest min_commit_ts. */
        ASYNC_COMMIT,
        /** {@code try_one_pc}: all keys in one region, committed by the prewrite itself. */
        ONE_PC,
        /** Pessimistic locks first ({@code for_update_ts}), then a pessimistic 2PC. */
        PESSIMISTIC,
        /** Pessimistic locks, then an async-commit prewrite: TiDB's default since 5.0. */
        PESSIMISTIC_ASYNC_COMMIT
    }

    /** Where a crashed transaction stopped. */
    public enum Crash {
        /** Every key prewritten, nothing committed (async commit: the txn is committed). */
        AFTER_PREWRITE,
        /** The primary committed, the secondaries left locked (not for async commit). */
        AFTER_PRIMARY_COMMIT,
        /** The primary and some secondaries prewritten, the last region's keys never. */
        MISSING_SECONDARIES,
        /** Only pessimistic locks taken, nothing prewritten (pessimistic shapes). */
        PESSIMISTIC_LOCKS_ONLY
    }

    /** What a crashed transaction left: its start ts and primary key. */
    public static final class Crashed {
        public final long startTs;
        public final byte[] primary;

        Crashed(long startTs, byte[] primary) {
            this.startTs = startTs;
            this.primary = primary;
        }
    }

    private static final int ATTEMPTS = 10;

    /** client-go's async-commit safe window: commits stay within 2 s of the start ts. */
    private static final long MAX_COMMIT_WINDOW = 2_000L << 18;

    private final MiniTiKVCluster cluster;
    private final long lockTtlMillis;
    private final long txnSource;
    private final Map<Long, ManagedChannel> channels = new HashMap<>();

    /** A writer whose locks live {@code lockTtlMillis} and whose transactions carry {@code 0}. */
    public TiDBLikeWriter(MiniTiKVCluster cluster, long lockTtlMillis) {
        this(cluster, lockTtlMillis, 0);
    }

    /** As a writer whose transactions carry {@code txnSource} ({@code kvrpcpb.Context}). */
    public TiDBLikeWriter(MiniTiKVCluster cluster, long lockTtlMillis, long txnSource) {
        this.cluster = cluster;
        this.lockTtlMillis = lockTtlMillis;
        this.txnSource = txnSource;
    }

    /** Writes {@code writes} in one transaction of {@code shape}; returns its commit ts. */
    public long commit(Shape shape, Map<byte[], byte[]> writes) {
        Txn txn = new Txn(writes);
        if (shape == Shape.PESSIMISTIC || shape == Shape.PESSIMISTIC_ASYNC_COMMIT) {
            txn.lockPessimistically();
        }
        if (shape == Shape.ONE_PC) {
            long committed = txn.prewriteOnePc();
            if (committed != 0) {
                return committed;
            }
            return txn.commit(cluster.currentTs()); // fell back to 2PC
        }
        boolean async = shape == Shape.ASYNC_COMMIT || shape == Shape.PESSIMISTIC_ASYNC_COMMIT;
        long minCommitTs = txn.prewrite(async, txn.byRegion());
        return txn.commit(async && minCommitTs != 0 ? minCommitTs : cluster.currentTs());
    }

    /** Leaves a transaction of {@code shape} crashed at {@code crash}, with its locks. */
    public Crashed crash(Shape shape, Crash crash, Map<byte[], byte[]> writes) {
        boolean pessimistic = shape == Shape.PESSIMISTIC || shape == Shape.PESSIMISTIC_ASYNC_COMMIT;
        boolean async = shape == Shape.ASYNC_COMMIT || shape == Shape.PESSIMISTIC_ASYNC_COMMIT;
        if (shape == Shape.ONE_PC
                || (crash == Crash.PESSIMISTIC_LOCKS_ONLY && !pessimistic)
                || (crash == Crash.AFTER_PRIMARY_COMMIT && async)) {
            throw new IllegalArgumentException(shape + " cannot crash at " + crash);
        }
        Txn txn = new Txn(writes);
        if (pessimistic) {
            txn.lockPessimistically();
        }
        if (crash == Crash.PESSIMISTIC_LOCKS_ONLY) {
            return txn.crashed();
        }
        NavigableMap<Region, List<Kvrpcpb.Mutation>> groups = txn.byRegion();
        if (crash == Crash.MISSING_SECONDARIES) {
            if (groups.size() < 2) {
                throw new IllegalArgumentException("a missing secondary needs keys in two regions");
            }
            groups.remove(groups.lastKey());
        }
        if (txn.prewrite(async, groups) == 0 && async) {
            // Its locks are 2PC locks: not the crash asked for.
            throw new IllegalStateException(
                    "the async-commit prewrite fell back to 2PC: TiKV's max_ts is past the"
                            + " transaction's max_commit_ts");
        }
        if (crash == Crash.AFTER_PRIMARY_COMMIT) {
            txn.commitKeys(List.of(txn.primary), cluster.currentTs());
        }
        return txn.crashed();
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }

    private TikvGrpc.TikvBlockingStub leader(Region region) {
        ManagedChannel ch =
                channels.computeIfAbsent(
                        region.leaderStoreId,
                        id ->
                                ManagedChannelBuilder.forTarget(cluster.storeAddress(id))
                                        .usePlaintext()
                                        .build());
        return TikvGrpc.newBlockingStub(ch).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private Kvrpcpb.Context context(Region region) {
        return TxnSource.with(
                Kvrpcpb.Context.newBuilder()
                        .setRegionId(region.id)
                        .setRegionEpoch(region.toProto().getRegionEpoch())
                        .setPeer(region.leader())
                        .build(),
                txnSource);
    }

    /** One transaction: its keys in order, the first its primary, as client-go picks it. */
    private final class Txn {
        final TreeMap<byte[], byte[]> writes = new TreeMap<>(Arrays::compareUnsigned);
        final byte[] primary;
        final long startTs;
        long forUpdateTs;

        Txn(Map<byte[], byte[]> writes) {
            if (writes.isEmpty()) {
                throw new IllegalArgumentException("a transaction writes at least one key");
            }
            this.writes.putAll(writes);
            this.primary = this.writes.firstKey();
            this.startTs = cluster.currentTs();
        }

        Crashed crashed() {
            return new Crashed(startTs, primary);
        }

        Kvrpcpb.Mutation mutation(byte[] key, Kvrpcpb.Op lockOp) {
            byte[] value = writes.get(key);
            Kvrpcpb.Mutation.Builder m =
                    Kvrpcpb.Mutation.newBuilder().setKey(ByteString.copyFrom(key));
            if (lockOp != null) {
                m.setOp(lockOp);
            } else if (value == null) {
                m.setOp(Kvrpcpb.Op.Del);
            } else {
                m.setOp(Kvrpcpb.Op.Put).setValue(ByteString.copyFrom(value));
            }
            return m.build();
        }

        /** The mutations grouped by the region holding them now, the primary's first. */
        NavigableMap<Region, List<Kvrpcpb.Mutation>> byRegion() {
            return group(new ArrayList<>(writes.keySet()), null);
        }

        NavigableMap<Region, List<Kvrpcpb.Mutation>> group(List<byte[]> keys, Kvrpcpb.Op lockOp) {
            Region primaryRegion = cluster.regions().locate(primary);
            NavigableMap<Region, List<Kvrpcpb.Mutation>> groups =
                    new TreeMap<>(
                            (a, b) ->
                                    a.id == b.id
                                            ? 0
                                            : a.id == primaryRegion.id
                                                    ? -1
                                                    : b.id == primaryRegion.id
                                                            ? 1
                                                            : Arrays.compareUnsigned(
                                                                    a.start, b.start));
            for (byte[] key : keys) {
                groups.computeIfAbsent(cluster.regions().locate(key), r -> new ArrayList<>())
                        .add(mutation(key, lockOp));
            }
            return groups;
        }

        void lockPessimistically() {
            forUpdateTs = cluster.currentTs();
            send(
                    group(new ArrayList<>(writes.keySet()), Kvrpcpb.Op.PessimisticLock),
                    (region, mutations) -> {
                        Kvrpcpb.PessimisticLockResponse resp =
                                leader(region)
                                        .kvPessimisticLock(
                                                Kvrpcpb.PessimisticLockRequest.newBuilder()
                                                        .setContext(context(region))
                                                        .addAllMutations(mutations)
                                                        .setPrimaryLock(
                                                                ByteString.copyFrom(primary))
                                                        .setStartVersion(startTs)
                                                        .setForUpdateTs(forUpdateTs)
                                                        .setLockTtl(lockTtlMillis)
                                                        .setIsFirstLock(region.contains(primary))
                                                        .build());
                        return check(resp.hasRegionError(), resp.getErrorsList(), "lock");
                    });
        }

        /**
         * Prewrites the groups; returns, for async commit, the largest min_commit_ts, or 0 when a
         * region fell back to 2PC (past max_commit_ts).
         */
        long prewrite(boolean async, NavigableMap<Region, List<Kvrpcpb.Mutation>> groups) {
            long[] minCommitTs = {0};
            boolean[] fellBack = {false};
            send(
                    groups,
                    (region, mutations) -> {
                        Kvrpcpb.PrewriteResponse resp =
                                leader(region)
                                        .kvPrewrite(
                                                prewriteRequest(region, mutations, async).build());
                        if (check(resp.hasRegionError(), resp.getErrorsList(), "prewrite")) {
                            if (async && resp.getMinCommitTs() == 0) {
                                fellBack[0] = true;
                            }
                            minCommitTs[0] = Math.max(minCommitTs[0], resp.getMinCommitTs());
                            return true;
                        }
                        return false;
                    });
            return fellBack[0] ? 0 : minCommitTs[0];
        }

        Kvrpcpb.PrewriteRequest.Builder prewriteRequest(
                Region region, List<Kvrpcpb.Mutation> mutations, boolean async) {
            Kvrpcpb.PrewriteRequest.Builder req =
                    Kvrpcpb.PrewriteRequest.newBuilder()
                            .setContext(context(region))
                            .addAllMutations(mutations)
                            .setPrimaryLock(ByteString.copyFrom(primary))
                            .setStartVersion(startTs)
                            .setLockTtl(lockTtlMillis)
                            .setTxnSize(writes.size())
                            .setMinCommitTs(Math.max(startTs, forUpdateTs) + 1);
            if (forUpdateTs != 0) {
                req.setForUpdateTs(forUpdateTs);
                mutations.forEach(m -> req.addIsPessimisticLock(true));
            }
            if (async) {
                req.setUseAsyncCommit(true).setMaxCommitTs(startTs + MAX_COMMIT_WINDOW);
                if (region.contains(primary)) {
                    writes.keySet().stream()
                            .filter(k -> k != primary)
                            .forEach(k -> req.addSecondaries(ByteString.copyFrom(k)));
                }
            }
            return req;
        }

        /** 1PC: returns the commit ts, or 0 if TiKV fell back to 2PC locks. */
        long prewriteOnePc() {
            NavigableMap<Region, List<Kvrpcpb.Mutation>> groups = byRegion();
            if (groups.size() != 1) {
                throw new IllegalArgumentException("1PC needs every key in one region");
            }
            Region region = groups.firstKey();
            Kvrpcpb.PrewriteResponse resp =
                    leader(region)
                            .kvPrewrite(
                                    prewriteRequest(region, groups.firstEntry().getValue(), false)
                                            .setTryOnePc(true)
                                            .setMaxCommitTs(startTs + MAX_COMMIT_WINDOW)
                                            .build());
            if (!check(resp.hasRegionError(), resp.getErrorsList(), "1PC prewrite")) {
                throw new IllegalStateException("the region of a 1PC transaction changed");
            }
            return resp.getOnePcCommitTs();
        }

        long commit(long commitTs) {
            commitKeys(List.of(primary), commitTs);
            List<byte[]> secondaries = new ArrayList<>(writes.keySet());
            secondaries.remove(0);
            if (!secondaries.isEmpty()) {
                commitKeys(secondaries, commitTs);
            }
            return commitTs;
        }

        void commitKeys(List<byte[]> keys, long commitTs) {
            send(
                    group(keys, null),
                    (region, mutations) -> {
                        List<ByteString> ks = new ArrayList<>();
                        mutations.forEach(m -> ks.add(m.getKey()));
                        Kvrpcpb.CommitResponse resp =
                                leader(region)
                                        .kvCommit(
                                                Kvrpcpb.CommitRequest.newBuilder()
                                                        .setContext(context(region))
                                                        .setStartVersion(startTs)
                                                        .setCommitVersion(commitTs)
                                                        .addAllKeys(ks)
                                                        .build());
                        if (resp.hasError()) {
                            throw new IllegalStateException("commit: " + resp.getError());
                        }
                        return !resp.hasRegionError();
                    });
        }

        /**
         * Sends one request per region; those that met a region error are regrouped by the regions
         * the cluster knows now and sent again.
         */
        void send(
                NavigableMap<Region, List<Kvrpcpb.Mutation>> groups,
                BiPredicate<Region, List<Kvrpcpb.Mutation>> request) {
            Map<Region, List<Kvrpcpb.Mutation>> pending = new LinkedHashMap<>(groups);
            for (int attempt = 0; !pending.isEmpty(); attempt++) {
                if (attempt == ATTEMPTS) {
                    throw new IllegalStateException(
                            "region errors on every one of " + ATTEMPTS + " attempts");
                }
                List<Kvrpcpb.Mutation> retry = new ArrayList<>();
                for (Map.Entry<Region, List<Kvrpcpb.Mutation>> g : pending.entrySet()) {
                    if (!request.test(g.getKey(), g.getValue())) {
                        retry.addAll(g.getValue());
                    }
                }
                pending.clear();
                for (Kvrpcpb.Mutation m : retry) {
                    pending.computeIfAbsent(
                                    cluster.regions().locate(m.getKey().toByteArray()),
                                    r -> new ArrayList<>())
                            .add(m);
                }
            }
        }

        /** True if sent; false on a region error; throws on a key error. */
        boolean check(boolean regionError, List<Kvrpcpb.KeyError> errors, String what) {
            if (regionError) {
                return false;
            }
            if (!errors.isEmpty()) {
                throw new IllegalStateException(what + ": " + errors.get(0));
            }
            return true;
        }
    }
}
