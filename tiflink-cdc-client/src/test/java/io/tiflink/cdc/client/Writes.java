package io.tiflink.cdc.client;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.tikv.TxnSource;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Percolator transactions against a minicluster's engine, as a TiKV client drives them: prewrite
 * every key with the first as primary, then commit the primary, then the rest.
 */
final class Writes {
    private final MiniTiKVCluster cluster;

    Writes(MiniTiKVCluster cluster) {
        this.cluster = cluster;
    }

    MiniTiKVCluster cluster() {
        return cluster;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String string(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** A mutation: a null value deletes the key. */
    static Kvrpcpb.Mutation mutation(byte[] key, byte[] value) {
        Kvrpcpb.Mutation.Builder m = Kvrpcpb.Mutation.newBuilder().setKey(ByteString.copyFrom(key));
        return value == null
                ? m.setOp(Kvrpcpb.Op.Del).build()
                : m.setOp(Kvrpcpb.Op.Put).setValue(ByteString.copyFrom(value)).build();
    }

    /** Writes the mutations in one transaction; returns its commit ts. */
    long commit(List<Kvrpcpb.Mutation> mutations) {
        long startTs = prewrite(mutations, 3000);
        long commitTs = cluster.currentTs();
        commit(startTs, commitTs, mutations);
        return commitTs;
    }

    long put(String key, String value) {
        return commit(List.of(mutation(bytes(key), bytes(value))));
    }

    long delete(String key) {
        return commit(List.of(mutation(bytes(key), null)));
    }

    /** Prewrites the mutations (the first key is the primary); returns the start ts. */
    long prewrite(List<Kvrpcpb.Mutation> mutations, long ttlMillis) {
        long startTs = cluster.currentTs();
        assertThat(prewrite(startTs, mutations, ttlMillis)).as("prewrite errors").isEmpty();
        return startTs;
    }

    /** Prewrites at {@code startTs}; returns the key errors (conflicts), if any. */
    List<Kvrpcpb.KeyError> prewrite(
            long startTs, List<Kvrpcpb.Mutation> mutations, long ttlMillis) {
        return cluster.percolator()
                .prewrite(request(startTs, mutations.get(0).getKey(), mutations, ttlMillis).build())
                .getErrorsList();
    }

    /**
     * Commits the mutations in one request by 1PC, as TiDB does when they are all in one region;
     * returns the commit ts.
     */
    long onePc(List<Kvrpcpb.Mutation> mutations, long txnSource) {
        long startTs = cluster.currentTs();
        Kvrpcpb.PrewriteResponse resp =
                cluster.percolator()
                        .prewrite(
                                request(startTs, mutations.get(0).getKey(), mutations, 3000)
                                        .setContext(
                                                TxnSource.with(
                                                        Kvrpcpb.Context.getDefaultInstance(),
                                                        txnSource))
                                        .setTryOnePc(true)
                                        .build());
        assertThat(resp.getErrorsList()).as("1PC errors").isEmpty();
        assertThat(resp.getOnePcCommitTs()).as("committed by 1PC").isPositive();
        return resp.getOnePcCommitTs();
    }

    /**
     * Prewrites one region's part of an async-commit transaction: {@code secondaries} go with the
     * request holding the primary. Returns the part's min_commit_ts.
     */
    long prewriteAsync(
            long startTs,
            ByteString primary,
            List<ByteString> secondaries,
            List<Kvrpcpb.Mutation> part,
            long ttlMillis,
            long txnSource) {
        Kvrpcpb.PrewriteResponse resp =
                cluster.percolator()
                        .prewrite(
                                request(startTs, primary, part, ttlMillis)
                                        .setContext(
                                                TxnSource.with(
                                                        Kvrpcpb.Context.getDefaultInstance(),
                                                        txnSource))
                                        .setUseAsyncCommit(true)
                                        .addAllSecondaries(secondaries)
                                        .build());
        assertThat(resp.getErrorsList()).as("async-commit prewrite errors").isEmpty();
        assertThat(resp.getMinCommitTs()).as("async commit kept").isPositive();
        return resp.getMinCommitTs();
    }

    /** Takes pessimistic locks on {@code keys}, primary first, at {@code forUpdateTs}. */
    void pessimisticLock(long startTs, long forUpdateTs, List<ByteString> keys, long ttlMillis) {
        Kvrpcpb.PessimisticLockRequest.Builder req =
                Kvrpcpb.PessimisticLockRequest.newBuilder()
                        .setStartVersion(startTs)
                        .setForUpdateTs(forUpdateTs)
                        .setPrimaryLock(keys.get(0))
                        .setLockTtl(ttlMillis);
        for (ByteString k : keys) {
            req.addMutations(
                    Kvrpcpb.Mutation.newBuilder().setOp(Kvrpcpb.Op.PessimisticLock).setKey(k));
        }
        assertThat(cluster.percolator().pessimisticLock(req.build()).getErrorsList())
                .as("pessimistic lock errors")
                .isEmpty();
    }

    /** Prewrites the pessimistically locked mutations (primary first) of a pessimistic txn. */
    void prewritePessimistic(long startTs, long forUpdateTs, List<Kvrpcpb.Mutation> mutations) {
        Kvrpcpb.PrewriteRequest.Builder req =
                request(startTs, mutations.get(0).getKey(), mutations, 3000)
                        .setForUpdateTs(forUpdateTs);
        mutations.forEach(m -> req.addIsPessimisticLock(true));
        assertThat(cluster.percolator().prewrite(req.build()).getErrorsList())
                .as("pessimistic prewrite errors")
                .isEmpty();
    }

    private static Kvrpcpb.PrewriteRequest.Builder request(
            long startTs, ByteString primary, List<Kvrpcpb.Mutation> mutations, long ttlMillis) {
        return Kvrpcpb.PrewriteRequest.newBuilder()
                .setStartVersion(startTs)
                .setPrimaryLock(primary)
                .setLockTtl(ttlMillis)
                .setMinCommitTs(startTs + 1)
                .setTxnSize(mutations.size())
                .addAllMutations(mutations);
    }

    /** Commits the primary, then the secondaries. */
    void commit(long startTs, long commitTs, List<Kvrpcpb.Mutation> mutations) {
        List<ByteString> keys = new ArrayList<>();
        mutations.forEach(m -> keys.add(m.getKey()));
        commitKeys(startTs, commitTs, keys.subList(0, 1));
        if (keys.size() > 1) {
            commitKeys(startTs, commitTs, keys.subList(1, keys.size()));
        }
    }

    void commitKeys(long startTs, long commitTs, List<ByteString> keys) {
        Kvrpcpb.CommitResponse resp =
                cluster.percolator()
                        .commit(
                                Kvrpcpb.CommitRequest.newBuilder()
                                        .setStartVersion(startTs)
                                        .setCommitVersion(commitTs)
                                        .addAllKeys(keys)
                                        .build());
        assertThat(resp.hasError()).as("commit error %s", resp.getError()).isFalse();
    }

    /** Rolls the transaction back on every key. */
    void rollback(long startTs, List<Kvrpcpb.Mutation> mutations) {
        List<ByteString> keys = new ArrayList<>();
        mutations.forEach(m -> keys.add(m.getKey()));
        Kvrpcpb.BatchRollbackResponse resp =
                cluster.percolator()
                        .batchRollback(
                                Kvrpcpb.BatchRollbackRequest.newBuilder()
                                        .setStartVersion(startTs)
                                        .addAllKeys(keys)
                                        .build());
        assertThat(resp.hasError()).isFalse();
    }

    /** Extends the primary lock's TTL, as a live transaction's heartbeat does. */
    void heartbeat(byte[] primary, long startTs, long ttlMillis) {
        Kvrpcpb.TxnHeartBeatResponse resp =
                cluster.percolator()
                        .txnHeartBeat(
                                Kvrpcpb.TxnHeartBeatRequest.newBuilder()
                                        .setPrimaryLock(ByteString.copyFrom(primary))
                                        .setStartVersion(startTs)
                                        .setAdviseLockTtl(ttlMillis)
                                        .build());
        assertThat(resp.hasError()).isFalse();
    }
}
