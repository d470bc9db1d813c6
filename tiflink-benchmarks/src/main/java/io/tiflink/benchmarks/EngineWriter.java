package io.tiflink.benchmarks;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.txn.Percolator;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * Percolator transactions applied to a minicluster's engine without gRPC, as a TiKV client drives
 * them: prewrite every key (the first is the primary) at a PD start ts, then commit the primary,
 * then the rest, at a PD commit ts. Every step goes through the engine's apply path, so CDC sees
 * PREWRITE and COMMIT rows exactly as for a client's writes.
 */
final class EngineWriter {
    private static final long LOCK_TTL_MS = 3_000;

    private final MiniTiKVCluster cluster;
    private final Percolator percolator;

    EngineWriter(MiniTiKVCluster cluster) {
        this.cluster = cluster;
        this.percolator = cluster.percolator();
    }

    /** Puts {@code value} at every key in one transaction; returns its commit ts. */
    long commit(List<byte[]> keys, ByteString value) {
        long startTs = cluster.currentTs();
        ByteString primary = ByteString.copyFrom(keys.get(0));
        List<ByteString> all = new ArrayList<>(keys.size());
        Kvrpcpb.PrewriteRequest.Builder prewrite =
                Kvrpcpb.PrewriteRequest.newBuilder()
                        .setPrimaryLock(primary)
                        .setStartVersion(startTs)
                        .setLockTtl(LOCK_TTL_MS)
                        .setMinCommitTs(startTs + 1)
                        .setTxnSize(keys.size());
        for (byte[] k : keys) {
            ByteString key = all.isEmpty() ? primary : ByteString.copyFrom(k);
            all.add(key);
            prewrite.addMutations(
                    Kvrpcpb.Mutation.newBuilder()
                            .setOp(Kvrpcpb.Op.Put)
                            .setKey(key)
                            .setValue(value));
        }
        Kvrpcpb.PrewriteResponse prewritten = percolator.prewrite(prewrite.build());
        if (prewritten.getErrorsCount() > 0) {
            throw new IllegalStateException("prewrite failed: " + prewritten.getErrors(0));
        }
        long commitTs = cluster.currentTs();
        commit(startTs, commitTs, all.subList(0, 1));
        if (all.size() > 1) {
            commit(startTs, commitTs, all.subList(1, all.size()));
        }
        return commitTs;
    }

    /** Something done once per paced step. */
    interface Step {
        void run(int i);
    }

    /**
     * Runs {@code steps} steps at {@code perSecond}: step i is due at start + i / perSecond, and
     * one that falls behind runs at once (no step is skipped).
     */
    static void paced(int steps, double perSecond, Step step) {
        long period = (long) (1e9 / perSecond);
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            long wait;
            while ((wait = t0 + i * period - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            step.run(i);
        }
    }

    private void commit(long startTs, long commitTs, List<ByteString> keys) {
        Kvrpcpb.CommitResponse resp =
                percolator.commit(
                        Kvrpcpb.CommitRequest.newBuilder()
                                .setStartVersion(startTs)
                                .setCommitVersion(commitTs)
                                .addAllKeys(keys)
                                .build());
        if (resp.hasError()) {
            throw new IllegalStateException("commit failed: " + resp.getError());
        }
    }
}
