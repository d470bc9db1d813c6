package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.txn.Percolator;

import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.txn.KVClient;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A scan reads one snapshot, as TiKV's region snapshot does: a transaction whose commit ts is below
 * the read ts is seen by the scan (as its value, or as its lock) even if the commit is applied
 * while the scan runs. Here a commit lands in the middle of a scan, while it walks another
 * transaction's locks (the engine's snapshot would hold the commit back until the scan is done).
 */
class ScanAtomicityConformanceITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    private static Kvrpcpb.Mutation put(String k) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(Wire.bs(k))
                .setValue(Wire.bs("v-" + k))
                .build();
    }

    private static void prewrite(Percolator p, String primary, long ts, List<String> keys) {
        Kvrpcpb.PrewriteRequest.Builder req =
                Kvrpcpb.PrewriteRequest.newBuilder()
                        .setPrimaryLock(Wire.bs(primary))
                        .setStartVersion(ts)
                        .setMinCommitTs(ts)
                        .setLockTtl(600_000)
                        .setTxnSize(16);
        keys.forEach(k -> req.addMutations(put(k)));
        assertThat(p.prewrite(req.build()).getErrorsCount()).isZero();
    }

    private static Kvrpcpb.CommitResponse commit(Percolator p, long start, long commit, String k) {
        return p.commit(
                Kvrpcpb.CommitRequest.newBuilder()
                        .setStartVersion(start)
                        .setCommitVersion(commit)
                        .addKeys(Wire.bs(k))
                        .build());
    }

    @Test
    void commitAppliedDuringAScanIsNotLost(MiniTiKVCluster cluster) throws Exception {
        Percolator p = cluster.percolator();
        long s0 = cluster.currentTs();
        prewrite(p, "sa-w", s0, List.of("sa-w"));
        commit(p, s0, cluster.currentTs(), "sa-w");
        // A long-running txn X holds locks on new keys after sa-w.
        long x = cluster.currentTs();
        List<String> xKeys = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            xKeys.add(String.format("sa-x%06d", i));
        }
        prewrite(p, xKeys.get(0), x, xKeys);
        // T (sa-y) is prewritten and has its commit ts before the reader's ts...
        long t = cluster.currentTs();
        prewrite(p, "sa-y", t, List.of("sa-y"));
        long tCommit = cluster.currentTs();
        long readTs = cluster.currentTs();

        // ...and T's commit is applied while the scan is among X's locks: the reader may skip
        // X's locks (resolved_locks), and the first time it asks, T commits from another thread.
        AtomicBoolean fired = new AtomicBoolean();
        CompletableFuture<Kvrpcpb.CommitResponse> commitDuringScan = new CompletableFuture<>();
        HashSet<Long> bypass =
                new HashSet<>() {
                    @Override
                    public boolean contains(Object o) {
                        if (!fired.getAndSet(true)) {
                            CompletableFuture.runAsync(
                                    () -> commitDuringScan.complete(commit(p, t, tCommit, "sa-y")));
                            try {
                                // Either the commit is applied now, or the engine holds it back
                                // until the scan is done (the snapshot): both are fine.
                                commitDuringScan.get(300, TimeUnit.MILLISECONDS);
                            } catch (TimeoutException e) {
                                // held back
                            } catch (Exception e) {
                                throw new IllegalStateException(e);
                            }
                        }
                        return super.contains(o);
                    }
                };
        bypass.add(x);
        List<Kvrpcpb.KvPair> pairs =
                p.scan(
                        Wire.bytes("sa-"),
                        Wire.bytes("sa."),
                        Integer.MAX_VALUE,
                        false,
                        false,
                        new Percolator.ReadContext(readTs, bypass, false));
        assertThat(fired).isTrue();
        assertThat(commitDuringScan.get(5, TimeUnit.SECONDS).hasError()).isFalse();

        // sa-y is in the result: as its value (commit seen) or as T's lock (commit not seen yet).
        assertThat(pairs).hasSize(2);
        assertThat(pairs.get(0).getKey().toStringUtf8()).isEqualTo("sa-w");
        Kvrpcpb.KvPair y = pairs.get(1);
        if (y.hasError()) {
            assertThat(y.getError().getLocked().getKey().toStringUtf8()).isEqualTo("sa-y");
            assertThat(y.getError().getLocked().getLockVersion()).isEqualTo(t);
        } else {
            assertThat(y.getKey().toStringUtf8()).isEqualTo("sa-y");
        }

        // End to end, the real client sees T's value at readTs.
        try (TiSession session = Wire.session(cluster);
                KVClient kv = session.createKVClient()) {
            List<Kvrpcpb.KvPair> seen = kv.scan(Wire.bs("sa-"), Wire.bs("sa."), readTs);
            assertThat(seen)
                    .extracting(kvp -> kvp.getKey().toStringUtf8())
                    .containsExactly("sa-w", "sa-y");
        }
    }
}
