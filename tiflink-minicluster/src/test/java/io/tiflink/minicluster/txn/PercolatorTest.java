package io.tiflink.minicluster.txn;

import io.tiflink.minicluster.codec.TxnSource;
import io.tiflink.minicluster.storage.Lock;
import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.TimeStamps;
import io.tiflink.minicluster.storage.Write;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The Percolator state machine against TiKV v6.5's semantics (spec §2.3, §2.4), one behaviour per
 * test. Timestamps are composed from a fixed physical clock, so TTL expiry needs no sleeping.
 */
class PercolatorTest {
    /** A physical time in ms; every timestamp in these tests is composed around it. */
    private static final long T0 = 1_700_000_000_000L;

    private static final long TTL = 3_000;

    private final MvccStore store = new MvccStore();
    private final Percolator percolator = new Percolator(store);

    // ---- helpers ------------------------------------------------------------------------------

    private static long ts(long physicalOffsetMs, long logical) {
        return TimeStamps.compose(T0 + physicalOffsetMs, logical);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static ByteString bs(String s) {
        return ByteString.copyFromUtf8(s);
    }

    private static byte[] bytes(int n, char c) {
        byte[] v = new byte[n];
        Arrays.fill(v, (byte) c);
        return v;
    }

    private static Kvrpcpb.Mutation put(String key, String value) {
        return put(key, b(value));
    }

    private static Kvrpcpb.Mutation put(String key, byte[] value) {
        return Kvrpcpb.Mutation.newBuilder()
                .setOp(Kvrpcpb.Op.Put)
                .setKey(bs(key))
                .setValue(ByteString.copyFrom(value))
                .build();
    }

    private static Kvrpcpb.Mutation del(String key) {
        return Kvrpcpb.Mutation.newBuilder().setOp(Kvrpcpb.Op.Del).setKey(bs(key)).build();
    }

    private static Kvrpcpb.Mutation lockOp(String key) {
        return Kvrpcpb.Mutation.newBuilder().setOp(Kvrpcpb.Op.Lock).setKey(bs(key)).build();
    }

    /** The prewrite client-java 3.3.5 sends: min_commit_ts = start_ts, txn_size = 16. */
    private static Kvrpcpb.PrewriteRequest.Builder prewriteReq(
            long startTs, String primary, Kvrpcpb.Mutation... mutations) {
        return Kvrpcpb.PrewriteRequest.newBuilder()
                .setStartVersion(startTs)
                .setPrimaryLock(bs(primary))
                .addAllMutations(List.of(mutations))
                .setLockTtl(TTL)
                .setSkipConstraintCheck(false)
                .setMinCommitTs(startTs)
                .setTxnSize(16);
    }

    private Kvrpcpb.PrewriteResponse prewrite(
            long startTs, String primary, Kvrpcpb.Mutation... mutations) {
        return percolator.prewrite(prewriteReq(startTs, primary, mutations).build());
    }

    private void prewriteOk(long startTs, String primary, Kvrpcpb.Mutation... mutations) {
        assertThat(prewrite(startTs, primary, mutations).getErrorsList()).isEmpty();
    }

    /** An async-commit prewrite: the primary lists {@code secondaries}. */
    private static Kvrpcpb.PrewriteRequest.Builder asyncReq(
            long startTs, String primary, List<String> secondaries, Kvrpcpb.Mutation... mutations) {
        Kvrpcpb.PrewriteRequest.Builder req =
                prewriteReq(startTs, primary, mutations).setUseAsyncCommit(true);
        secondaries.forEach(k -> req.addSecondaries(bs(k)));
        return req;
    }

    /** A pessimistic prewrite in which every mutation's key is pessimistically locked. */
    private static Kvrpcpb.PrewriteRequest.Builder pessimisticReq(
            long startTs, long forUpdateTs, String primary, Kvrpcpb.Mutation... mutations) {
        Kvrpcpb.PrewriteRequest.Builder req =
                prewriteReq(startTs, primary, mutations).setForUpdateTs(forUpdateTs);
        for (Kvrpcpb.Mutation m : mutations) {
            req.addIsPessimisticLock(true);
        }
        return req;
    }

    private Kvrpcpb.PessimisticLockResponse lockPessimistic(
            long startTs, long forUpdateTs, String primary, String... keys) {
        return percolator.pessimisticLock(lockReq(startTs, forUpdateTs, primary, keys).build());
    }

    private static Kvrpcpb.PessimisticLockRequest.Builder lockReq(
            long startTs, long forUpdateTs, String primary, String... keys) {
        Kvrpcpb.PessimisticLockRequest.Builder req =
                Kvrpcpb.PessimisticLockRequest.newBuilder()
                        .setStartVersion(startTs)
                        .setForUpdateTs(forUpdateTs)
                        .setPrimaryLock(bs(primary))
                        .setLockTtl(TTL);
        for (String k : keys) {
            req.addMutations(
                    Kvrpcpb.Mutation.newBuilder().setOp(Kvrpcpb.Op.PessimisticLock).setKey(bs(k)));
        }
        return req;
    }

    private Kvrpcpb.CheckSecondaryLocksResponse checkSecondaryLocks(long startTs, String... keys) {
        Kvrpcpb.CheckSecondaryLocksRequest.Builder req =
                Kvrpcpb.CheckSecondaryLocksRequest.newBuilder().setStartVersion(startTs);
        for (String k : keys) {
            req.addKeys(bs(k));
        }
        return percolator.checkSecondaryLocks(req.build());
    }

    private Kvrpcpb.CommitResponse commit(long startTs, long commitTs, String... keys) {
        Kvrpcpb.CommitRequest.Builder req =
                Kvrpcpb.CommitRequest.newBuilder()
                        .setStartVersion(startTs)
                        .setCommitVersion(commitTs);
        for (String k : keys) {
            req.addKeys(bs(k));
        }
        return percolator.commit(req.build());
    }

    private void commitOk(long startTs, long commitTs, String... keys) {
        Kvrpcpb.CommitResponse resp = commit(startTs, commitTs, keys);
        assertThat(resp.hasError()).as("%s", resp.getError()).isFalse();
        assertThat(resp.getCommitVersion()).isEqualTo(commitTs);
    }

    private Kvrpcpb.CheckTxnStatusResponse checkTxnStatus(
            String primary,
            long lockTs,
            long callerStartTs,
            long currentTs,
            boolean rollbackIfNotExist) {
        return percolator.checkTxnStatus(
                Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                        .setPrimaryKey(bs(primary))
                        .setLockTs(lockTs)
                        .setCallerStartTs(callerStartTs)
                        .setCurrentTs(currentTs)
                        .setRollbackIfNotExist(rollbackIfNotExist)
                        .build());
    }

    private Kvrpcpb.BatchRollbackResponse batchRollback(long startTs, String... keys) {
        Kvrpcpb.BatchRollbackRequest.Builder req =
                Kvrpcpb.BatchRollbackRequest.newBuilder().setStartVersion(startTs);
        for (String k : keys) {
            req.addKeys(bs(k));
        }
        return percolator.batchRollback(req.build());
    }

    private Kvrpcpb.CleanupResponse cleanup(String key, long startTs, long currentTs) {
        return percolator.cleanup(
                Kvrpcpb.CleanupRequest.newBuilder()
                        .setKey(bs(key))
                        .setStartVersion(startTs)
                        .setCurrentTs(currentTs)
                        .build());
    }

    private Kvrpcpb.ResolveLockResponse resolveKeys(long startTs, long commitTs, String... keys) {
        Kvrpcpb.ResolveLockRequest.Builder req =
                Kvrpcpb.ResolveLockRequest.newBuilder()
                        .setStartVersion(startTs)
                        .setCommitVersion(commitTs);
        for (String k : keys) {
            req.addKeys(bs(k));
        }
        return percolator.resolveLock(req.build(), new byte[0], new byte[0]);
    }

    private Kvrpcpb.TxnHeartBeatResponse heartBeat(String primary, long startTs, long advise) {
        return percolator.txnHeartBeat(
                Kvrpcpb.TxnHeartBeatRequest.newBuilder()
                        .setPrimaryLock(bs(primary))
                        .setStartVersion(startTs)
                        .setAdviseLockTtl(advise)
                        .build());
    }

    private Kvrpcpb.GetResponse get(String key, long readTs, Long... resolved) {
        return percolator.kvGet(
                Kvrpcpb.GetRequest.newBuilder()
                        .setKey(bs(key))
                        .setVersion(readTs)
                        .setContext(
                                Kvrpcpb.Context.newBuilder().addAllResolvedLocks(List.of(resolved)))
                        .build());
    }

    private String getValue(String key, long readTs) {
        Kvrpcpb.GetResponse resp = get(key, readTs);
        assertThat(resp.hasError()).as("%s", resp.getError()).isFalse();
        return resp.getNotFound() ? null : resp.getValue().toStringUtf8();
    }

    private Lock lockOf(String key) {
        return store.lock(b(key));
    }

    private Write recordOf(String key, long startTs) {
        return store.txnRecord(b(key), startTs);
    }

    /** A committed single-key txn: returns nothing, leaves a Put at commitTs. */
    private void committedPut(String key, String value, long startTs, long commitTs) {
        prewriteOk(startTs, key, put(key, value));
        commitOk(startTs, commitTs, key);
    }

    private static void assertLockInfo(
            Kvrpcpb.LockInfo info, String key, String primary, long startTs, Kvrpcpb.Op type) {
        assertThat(info.getKey().toStringUtf8()).isEqualTo(key);
        assertThat(info.getPrimaryLock().toStringUtf8()).isEqualTo(primary);
        assertThat(info.getLockVersion()).isEqualTo(startTs);
        assertThat(info.getLockTtl()).isEqualTo(TTL);
        assertThat(info.getTxnSize()).isEqualTo(16);
        assertThat(info.getLockType()).isEqualTo(type);
        assertThat(info.getLockForUpdateTs()).isZero();
        assertThat(info.getUseAsyncCommit()).isFalse();
    }

    // ---- prewrite -----------------------------------------------------------------------------

    @Nested
    class Prewrite {
        @Test
        void writesLocksCarryingTheRequestFields() {
            long start = ts(0, 1);
            Kvrpcpb.PrewriteResponse resp = prewrite(start, "p", put("p", "v1"), del("s"));

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(resp.getMinCommitTs()).isZero();
            assertThat(resp.getOnePcCommitTs()).isZero();
            Lock p = lockOf("p");
            assertThat(p.type).isEqualTo(Kvrpcpb.Op.Put);
            assertThat(p.primary).isEqualTo(b("p"));
            assertThat(p.startTs).isEqualTo(start);
            assertThat(p.ttl).isEqualTo(TTL);
            assertThat(p.shortValue).isEqualTo(b("v1"));
            assertThat(p.forUpdateTs).isZero();
            assertThat(p.txnSize).isEqualTo(16);
            assertThat(p.minCommitTs).isEqualTo(start);
            assertThat(p.useAsyncCommit).isFalse();
            Lock s = lockOf("s");
            assertThat(s.type).isEqualTo(Kvrpcpb.Op.Del);
            assertThat(s.primary).isEqualTo(b("p"));
            assertThat(s.shortValue).isNull();
            assertThat(store.versions(b("p"))).isEmpty();
        }

        @Test
        void valuesOver255BytesGoToTheDefaultCf() {
            long start = ts(0, 1);
            byte[] shortValue = bytes(MvccStore.SHORT_VALUE_MAX_LEN, 's');
            byte[] longValue = bytes(MvccStore.SHORT_VALUE_MAX_LEN + 1, 'l');
            prewriteOk(start, "a", put("a", shortValue), put("b", longValue));

            assertThat(lockOf("a").shortValue).isEqualTo(shortValue);
            assertThat(store.defaultValue(b("a"), start)).isNull();
            assertThat(lockOf("b").shortValue).isNull();
            assertThat(store.defaultValue(b("b"), start)).isEqualTo(longValue);
        }

        @Test
        void lockedKeysAreAllReportedAndNothingIsWritten() {
            long other = ts(0, 1);
            prewriteOk(other, "k1", put("k1", "x"), put("k3", "x"));
            long start = ts(0, 2);
            long indexBefore = store.applyIndex();

            Kvrpcpb.PrewriteResponse resp =
                    prewrite(start, "k1", put("k1", "y"), put("k2", "y"), put("k3", "y"));

            assertThat(resp.getErrorsList()).hasSize(2);
            for (Kvrpcpb.KeyError e : resp.getErrorsList()) {
                assertThat(e.hasLocked()).isTrue();
                assertThat(e.hasConflict()).isFalse();
                assertThat(e.getAbort()).isEmpty();
            }
            assertLockInfo(resp.getErrors(0).getLocked(), "k1", "k1", other, Kvrpcpb.Op.Put);
            assertLockInfo(resp.getErrors(1).getLocked(), "k3", "k1", other, Kvrpcpb.Op.Put);
            assertThat(resp.getErrors(0).getLocked().getMinCommitTs()).isEqualTo(other);
            assertThat(lockOf("k2")).isNull();
            assertThat(lockOf("k1").startTs).isEqualTo(other);
            assertThat(store.applyIndex()).isEqualTo(indexBefore);
        }

        @Test
        void newerCommitIsAWriteConflictThatAbortsTheRequest() {
            long start = ts(0, 2);
            long otherStart = ts(0, 3);
            long otherCommit = ts(0, 4);
            committedPut("k", "theirs", otherStart, otherCommit);

            Kvrpcpb.PrewriteResponse resp =
                    prewrite(start, "a", put("a", "mine"), put("k", "mine"), put("z", "mine"));

            assertThat(resp.getErrorsList()).hasSize(1);
            Kvrpcpb.KeyError e = resp.getErrors(0);
            assertThat(e.hasConflict()).isTrue();
            assertThat(e.getConflict().getStartTs()).isEqualTo(start);
            assertThat(e.getConflict().getConflictTs()).isEqualTo(otherStart);
            assertThat(e.getConflict().getConflictCommitTs()).isEqualTo(otherCommit);
            assertThat(e.getConflict().getKey().toStringUtf8()).isEqualTo("k");
            assertThat(e.getConflict().getPrimary().toStringUtf8()).isEqualTo("a");
            assertThat(e.getRetryable()).contains("WriteConflict");
            assertThat(e.hasLocked()).isFalse();
            assertThat(e.getAbort()).isEmpty();
            assertThat(lockOf("a")).isNull();
            assertThat(lockOf("z")).isNull();
            // An older commit is no conflict.
            assertThat(prewrite(otherCommit + 1, "k", put("k", "later")).getErrorsList()).isEmpty();
        }

        @Test
        void newerRollbackOfAnotherTxnIsAlsoAWriteConflict() {
            long start = ts(0, 1);
            long later = ts(0, 2);
            assertThat(batchRollback(later, "k").hasError()).isFalse();

            Kvrpcpb.PrewriteResponse resp = prewrite(start, "k", put("k", "v"));

            assertThat(resp.getErrorsList()).hasSize(1);
            assertThat(resp.getErrors(0).getConflict().getConflictTs()).isEqualTo(later);
            assertThat(resp.getErrors(0).getConflict().getConflictCommitTs()).isEqualTo(later);
            assertThat(lockOf("k")).isNull();
        }

        @Test
        void writeConflictReplacesCollectedLockedErrors() {
            prewriteOk(ts(0, 1), "a", put("a", "x"));
            committedPut("b", "x", ts(0, 3), ts(0, 4));

            Kvrpcpb.PrewriteResponse resp = prewrite(ts(0, 2), "a", put("a", "y"), put("b", "y"));

            assertThat(resp.getErrorsList()).hasSize(1);
            assertThat(resp.getErrors(0).hasConflict()).isTrue();
            assertThat(resp.getErrors(0).hasLocked()).isFalse();
        }

        @Test
        void prewriteAfterOwnRollbackIsSelfRolledBack() {
            long start = ts(0, 1);
            assertThat(batchRollback(start, "k").hasError()).isFalse();

            Kvrpcpb.PrewriteResponse resp = prewrite(start, "k", put("k", "v"));

            assertThat(resp.getErrorsList()).hasSize(1);
            Kvrpcpb.KeyError e = resp.getErrors(0);
            assertThat(e.getConflict().getStartTs()).isEqualTo(start);
            assertThat(e.getConflict().getConflictTs()).isEqualTo(start);
            assertThat(e.getConflict().getConflictCommitTs()).isEqualTo(start);
            assertThat(e.getConflict().getKey().toStringUtf8()).isEqualTo("k");
            assertThat(e.getRetryable()).contains("SelfRolledBack");
            assertThat(lockOf("k")).isNull();
        }

        @Test
        void overlappedRollbackIsSelfRolledBack() {
            // Another txn committed at exactly our start_ts, then our rollback folded into it.
            long start = ts(0, 5);
            committedPut("k", "theirs", ts(0, 1), start);
            assertThat(batchRollback(start, "k").hasError()).isFalse();
            assertThat(store.versions(b("k"))).hasSize(1);
            assertThat(store.versions(b("k"))[0].overlappedRollback).isTrue();

            Kvrpcpb.PrewriteResponse resp = prewrite(start, "k", put("k", "v"));

            assertThat(resp.getErrorsList()).hasSize(1);
            assertThat(resp.getErrors(0).getRetryable()).contains("SelfRolledBack");
            assertThat(resp.getErrors(0).getConflict().getConflictTs()).isEqualTo(ts(0, 1));
        }

        @Test
        void duplicatePrewriteIsIdempotent() {
            long start = ts(0, 1);
            prewriteOk(start, "k", put("k", "v"));
            Lock before = lockOf("k");
            long index = store.applyIndex();

            Kvrpcpb.PrewriteResponse resp = prewrite(start, "k", put("k", "v"));

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(lockOf("k")).isSameAs(before);
            assertThat(store.applyIndex()).isEqualTo(index);
        }

        @Test
        void retriedPrewriteOfACommittedTxnSucceedsAndWritesNothing() {
            long start = ts(0, 1);
            long commitTs = ts(0, 2);
            committedPut("k", "v", start, commitTs);
            long index = store.applyIndex();

            Kvrpcpb.PrewriteResponse resp = prewrite(start, "k", put("k", "v"));

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(lockOf("k")).isNull();
            assertThat(store.versions(b("k"))).hasSize(1);
            assertThat(store.applyIndex()).isEqualTo(index);
        }

        @Test
        void retriedPrewriteOfACommittedTxnSucceedsEvenIfTheKeyIsNowLocked() {
            long start = ts(0, 1);
            committedPut("k", "v", start, ts(0, 2));
            long other = ts(0, 3);
            prewriteOk(other, "k", put("k", "w"));

            Kvrpcpb.PrewriteResponse resp = prewrite(start, "k", put("k", "v"), put("j", "v"));

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(lockOf("k").startTs).isEqualTo(other);
            assertThat(lockOf("j")).isNull();
        }

        @Test
        void insertOverAnExistingPutIsAlreadyExist() {
            committedPut("k", "v", ts(0, 1), ts(0, 2));
            Kvrpcpb.Mutation insert =
                    Kvrpcpb.Mutation.newBuilder()
                            .setOp(Kvrpcpb.Op.Insert)
                            .setKey(bs("k"))
                            .setValue(bs("w"))
                            .build();

            Kvrpcpb.PrewriteResponse resp = prewrite(ts(0, 3), "k", insert);

            assertThat(resp.getErrorsList()).hasSize(1);
            assertThat(resp.getErrors(0).getAlreadyExist().getKey().toStringUtf8()).isEqualTo("k");
            assertThat(lockOf("k")).isNull();
        }

        @Test
        void insertOverADeleteWritesAPutLockAndCheckNotExistsWritesNone() {
            committedPut("k", "v", ts(0, 1), ts(0, 2));
            prewriteOk(ts(0, 3), "k", del("k"));
            commitOk(ts(0, 3), ts(0, 4), "k");
            Kvrpcpb.Mutation insert =
                    Kvrpcpb.Mutation.newBuilder()
                            .setOp(Kvrpcpb.Op.Insert)
                            .setKey(bs("k"))
                            .setValue(bs("w"))
                            .build();
            Kvrpcpb.Mutation check =
                    Kvrpcpb.Mutation.newBuilder()
                            .setOp(Kvrpcpb.Op.CheckNotExists)
                            .setKey(bs("n"))
                            .build();

            prewriteOk(ts(0, 5), "k", insert, check);

            assertThat(lockOf("k").type).isEqualTo(Kvrpcpb.Op.Put);
            assertThat(lockOf("n")).isNull();
        }

        @Test
        void lockMutationWritesALockTypeLock() {
            prewriteOk(ts(0, 1), "k", lockOp("k"));
            assertThat(lockOf("k").type).isEqualTo(Kvrpcpb.Op.Lock);
        }
    }

    // ---- commit -------------------------------------------------------------------------------

    @Nested
    class Commit {
        @Test
        void commitWritesRecordsByLockTypeAndRemovesLocks() {
            long start = ts(0, 1);
            long commitTs = ts(0, 2);
            prewriteOk(start, "p", put("p", "v"), del("d"), lockOp("l"));

            commitOk(start, commitTs, "p", "d", "l");

            assertThat(lockOf("p")).isNull();
            assertThat(lockOf("d")).isNull();
            assertThat(lockOf("l")).isNull();
            Write p = store.versions(b("p"))[0];
            assertThat(p.type).isEqualTo(Write.Type.PUT);
            assertThat(p.startTs).isEqualTo(start);
            assertThat(p.commitTs).isEqualTo(commitTs);
            assertThat(p.shortValue).isEqualTo(b("v"));
            assertThat(store.versions(b("d"))[0].type).isEqualTo(Write.Type.DELETE);
            assertThat(store.versions(b("l"))[0].type).isEqualTo(Write.Type.LOCK);
            assertThat(getValue("p", commitTs)).isEqualTo("v");
            assertThat(getValue("p", commitTs - 1)).isNull();
        }

        @Test
        void commitBelowMinCommitTsIsCommitTsExpired() {
            long start = ts(0, 1);
            prewriteOk(start, "k", put("k", "v"));
            // A reader at ts(0, 10) pushes min_commit_ts to ts(0, 11).
            long readTs = ts(0, 10);
            Kvrpcpb.CheckTxnStatusResponse status =
                    checkTxnStatus("k", start, readTs, ts(0, 5), false);
            assertThat(status.getAction()).isEqualTo(Kvrpcpb.Action.MinCommitTSPushed);

            long attempted = ts(0, 8);
            Kvrpcpb.CommitResponse resp = commit(start, attempted, "k");

            assertThat(resp.getError().hasCommitTsExpired()).isTrue();
            Kvrpcpb.CommitTsExpired e = resp.getError().getCommitTsExpired();
            assertThat(e.getStartTs()).isEqualTo(start);
            assertThat(e.getAttemptedCommitTs()).isEqualTo(attempted);
            assertThat(e.getKey().toStringUtf8()).isEqualTo("k");
            assertThat(e.getMinCommitTs()).isEqualTo(readTs + 1);
            assertThat(resp.getError().getRetryable()).isEmpty();
            assertThat(resp.getError().getAbort()).isEmpty();
            assertThat(resp.getCommitVersion()).isZero();
            assertThat(lockOf("k")).isNotNull();
            // Committing at exactly min_commit_ts is allowed.
            commitOk(start, readTs + 1, "k");
        }

        @Test
        void commitIsIdempotent() {
            long start = ts(0, 1);
            long commitTs = ts(0, 2);
            committedPut("k", "v", start, commitTs);
            long index = store.applyIndex();

            commitOk(start, commitTs, "k");

            assertThat(store.versions(b("k"))).hasSize(1);
            assertThat(store.applyIndex()).isEqualTo(index);
        }

        @Test
        void commitWithoutLockOrRecordIsRetryableTxnLockNotFound() {
            Kvrpcpb.CommitResponse resp = commit(ts(0, 1), ts(0, 2), "k");

            assertThat(resp.getError().getRetryable()).contains("TxnLockNotFound");
            assertThat(resp.getError().getAbort()).isEmpty();
            assertThat(resp.getError().hasLocked()).isFalse();
            assertThat(resp.getError().hasCommitTsExpired()).isFalse();
            assertThat(resp.getCommitVersion()).isZero();
            assertThat(store.versions(b("k"))).isEmpty();
        }

        @Test
        void commitOfARolledBackTxnIsTxnLockNotFound() {
            long start = ts(0, 1);
            prewriteOk(start, "k", put("k", "v"));
            assertThat(batchRollback(start, "k").hasError()).isFalse();

            Kvrpcpb.CommitResponse resp = commit(start, ts(0, 2), "k");

            assertThat(resp.getError().getRetryable()).contains("TxnLockNotFound");
            assertThat(recordOf("k", start).type).isEqualTo(Write.Type.ROLLBACK);
        }

        @Test
        void commitTsNotAboveStartTsIsInvalidTxnTso() {
            long start = ts(0, 5);
            prewriteOk(start, "k", put("k", "v"));

            for (long commitTs : new long[] {start, start - 1}) {
                Kvrpcpb.CommitResponse resp = commit(start, commitTs, "k");
                assertThat(resp.getError().getAbort()).containsIgnoringCase("invalid");
                assertThat(resp.getError().getRetryable()).isEmpty();
            }
            assertThat(lockOf("k")).isNotNull();
            assertThat(store.versions(b("k"))).isEmpty();
        }

        @Test
        void anyFailingKeyAbortsTheWholeCommit() {
            long start = ts(0, 1);
            prewriteOk(start, "a", put("a", "v"));

            Kvrpcpb.CommitResponse resp = commit(start, ts(0, 2), "a", "missing");

            assertThat(resp.getError().getRetryable()).contains("TxnLockNotFound");
            assertThat(lockOf("a")).isNotNull();
            assertThat(store.versions(b("a"))).isEmpty();
        }
    }

    // ---- CheckTxnStatus -----------------------------------------------------------------------

    @Nested
    class CheckTxnStatus {
        @Test
        void expiredLockIsRolledBackWithAProtectedRecord() {
            long start = ts(0, 1);
            byte[] longValue = bytes(300, 'x');
            prewriteOk(start, "p", put("p", longValue));
            // Expired once physical(current) > physical(start) + ttl.
            long current = ts(TTL + 1, 0);

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, ts(0, 9), current, false);

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.TTLExpireRollback);
            assertThat(resp.getLockTtl()).isZero();
            assertThat(resp.getCommitVersion()).isZero();
            assertThat(lockOf("p")).isNull();
            assertThat(store.defaultValue(b("p"), start)).isNull();
            Write record = recordOf("p", start);
            assertThat(record.type).isEqualTo(Write.Type.ROLLBACK);
            assertThat(record.commitTs).isEqualTo(start);
            // The rollback stops a late prewrite of the same txn.
            assertThat(prewrite(start, "p", put("p", "v")).getErrors(0).getRetryable())
                    .contains("SelfRolledBack");
        }

        @Test
        void lockIsAliveUpToAndIncludingItsTtl() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"));
            // physical(start) + ttl == physical(current): not expired (strict <).
            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, 0, ts(TTL, (1 << 18) - 1), false);

            assertThat(resp.getLockTtl()).isEqualTo(TTL);
            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.NoAction);
            assertThat(lockOf("p")).isNotNull();
        }

        @Test
        void readerPushesMinCommitTsToCurrentTs() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"), put("s", "v"));
            long caller = ts(0, 5);
            long current = ts(10, 0);

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, caller, current, false);

            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.MinCommitTSPushed);
            assertThat(resp.getLockTtl()).isEqualTo(TTL);
            assertThat(resp.getCommitVersion()).isZero();
            assertLockInfo(resp.getLockInfo(), "p", "p", start, Kvrpcpb.Op.Put);
            assertThat(resp.getLockInfo().getMinCommitTs()).isEqualTo(current);
            assertThat(lockOf("p").minCommitTs).isEqualTo(current);
            // Only the primary's lock is pushed.
            assertThat(lockOf("s").minCommitTs).isEqualTo(start);
        }

        @Test
        void readerPushesMinCommitTsPastItsStartTs() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"));
            long caller = ts(0, 7);

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, caller, ts(0, 3), false);

            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.MinCommitTSPushed);
            assertThat(lockOf("p").minCommitTs).isEqualTo(caller + 1);
        }

        @Test
        void callerBelowMinCommitTsNeedsNoPushButIsReportedPushed() {
            long start = ts(0, 5);
            prewriteOk(start, "p", put("p", "v"));
            long index = store.applyIndex();

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, ts(0, 2), ts(0, 9), false);

            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.MinCommitTSPushed);
            assertThat(lockOf("p").minCommitTs).isEqualTo(start);
            assertThat(store.applyIndex()).isEqualTo(index);
        }

        @Test
        void lockWithoutMinCommitTsIsNeverPushed() {
            long start = ts(0, 1);
            assertThat(
                            percolator
                                    .prewrite(
                                            prewriteReq(start, "p", put("p", "v"))
                                                    .setMinCommitTs(0)
                                                    .build())
                                    .getErrorsList())
                    .isEmpty();

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, ts(0, 5), ts(0, 9), false);

            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.NoAction);
            assertThat(resp.getLockTtl()).isEqualTo(TTL);
            assertThat(lockOf("p").minCommitTs).isZero();
        }

        @Test
        void maxCallerIsReportedPushedWithoutPushing() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"));

            // u64::MAX on the wire is -1 in Java.
            Kvrpcpb.CheckTxnStatusResponse resp = checkTxnStatus("p", start, -1, ts(0, 9), false);

            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.MinCommitTSPushed);
            assertThat(lockOf("p").minCommitTs).isEqualTo(start);
        }

        @Test
        void committedTxnReportsItsCommitVersion() {
            long start = ts(0, 1);
            long commitTs = ts(0, 2);
            committedPut("p", "v", start, commitTs);

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, ts(0, 3), ts(0, 3), true);

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getCommitVersion()).isEqualTo(commitTs);
            assertThat(resp.getLockTtl()).isZero();
            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.NoAction);
        }

        @Test
        void rolledBackTxnIsNoAction() {
            long start = ts(0, 1);
            assertThat(batchRollback(start, "p").hasError()).isFalse();

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, ts(0, 3), ts(0, 3), true);

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.NoAction);
            assertThat(resp.getCommitVersion()).isZero();
            assertThat(resp.getLockTtl()).isZero();
        }

        @Test
        void missingTxnIsTxnNotFoundUnlessAskedToRollBack() {
            long start = ts(0, 1);
            long index = store.applyIndex();

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, ts(0, 3), ts(0, 3), false);

            assertThat(resp.getError().hasTxnNotFound()).isTrue();
            assertThat(resp.getError().getTxnNotFound().getStartTs()).isEqualTo(start);
            assertThat(resp.getError().getTxnNotFound().getPrimaryKey().toStringUtf8())
                    .isEqualTo("p");
            assertThat(store.applyIndex()).isEqualTo(index);
            assertThat(recordOf("p", start)).isNull();
        }

        @Test
        void missingTxnWithRollbackIfNotExistWritesAProtectedRollback() {
            long start = ts(0, 1);

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, ts(0, 3), ts(0, 3), true);

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.LockNotExistRollback);
            assertThat(resp.getLockTtl()).isZero();
            assertThat(resp.getCommitVersion()).isZero();
            assertThat(recordOf("p", start).type).isEqualTo(Write.Type.ROLLBACK);
            // The primary prewrite arriving late is refused.
            assertThat(prewrite(start, "p", put("p", "v")).getErrors(0).getRetryable())
                    .contains("SelfRolledBack");
        }

        @Test
        void lockOfAnotherTxnOnThePrimaryCountsAsMissing() {
            prewriteOk(ts(0, 5), "p", put("p", "v"));

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", ts(0, 1), ts(0, 9), ts(0, 9), false);

            assertThat(resp.getError().hasTxnNotFound()).isTrue();
            assertThat(lockOf("p").startTs).isEqualTo(ts(0, 5));
        }
    }

    // ---- ResolveLock --------------------------------------------------------------------------

    @Nested
    class ResolveLock {
        @Test
        void withKeysCommitsOnlyThoseKeys() {
            long start = ts(0, 1);
            long commitTs = ts(0, 2);
            prewriteOk(start, "a", put("a", "1"), put("b", "2"), put("c", "3"));

            assertThat(resolveKeys(start, commitTs, "a", "b").hasError()).isFalse();

            assertThat(lockOf("a")).isNull();
            assertThat(lockOf("b")).isNull();
            assertThat(lockOf("c")).isNotNull();
            assertThat(recordOf("b", start).commitTs).isEqualTo(commitTs);
            assertThat(recordOf("c", start)).isNull();
        }

        @Test
        void withKeysRollsBackOnlyThoseKeys() {
            long start = ts(0, 1);
            prewriteOk(start, "a", put("a", "1"), put("b", bytes(300, 'b')));

            assertThat(resolveKeys(start, 0, "b").hasError()).isFalse();

            assertThat(lockOf("a")).isNotNull();
            assertThat(lockOf("b")).isNull();
            assertThat(recordOf("b", start).type).isEqualTo(Write.Type.ROLLBACK);
            assertThat(store.defaultValue(b("b"), start)).isNull();
        }

        @Test
        void rollingBackACommittedKeyIsAborted() {
            long start = ts(0, 1);
            committedPut("a", "1", start, ts(0, 2));

            Kvrpcpb.ResolveLockResponse resp = resolveKeys(start, 0, "a");

            assertThat(resp.getError().getAbort()).contains("Committed");
        }

        @Test
        void withoutKeysResolvesEveryLockOfTheTxnInTheRegion() {
            long start = ts(0, 1);
            long other = ts(0, 2);
            long commitTs = ts(0, 3);
            prewriteOk(start, "a", put("a", "1"), put("c", "1"), put("m", "1"), put("x", "1"));
            prewriteOk(other, "b", put("b", "2"));

            Kvrpcpb.ResolveLockResponse resp =
                    percolator.resolveLock(
                            Kvrpcpb.ResolveLockRequest.newBuilder()
                                    .setStartVersion(start)
                                    .setCommitVersion(commitTs)
                                    .build(),
                            b("b"),
                            b("n"));

            assertThat(resp.hasError()).isFalse();
            assertThat(lockOf("a")).isNotNull(); // left of the region
            assertThat(lockOf("x")).isNotNull(); // right of the region
            assertThat(lockOf("b").startTs).isEqualTo(other); // another txn
            assertThat(lockOf("c")).isNull();
            assertThat(lockOf("m")).isNull();
            assertThat(recordOf("c", start).commitTs).isEqualTo(commitTs);
            assertThat(recordOf("m", start).commitTs).isEqualTo(commitTs);
        }

        @Test
        void withoutKeysRollbackCoversTheWholeRegion() {
            long start = ts(0, 1);
            prewriteOk(start, "a", put("a", "1"), put("z", "1"));

            assertThat(resolveKeys(start, 0).hasError()).isFalse();

            assertThat(lockOf("a")).isNull();
            assertThat(lockOf("z")).isNull();
            assertThat(recordOf("a", start).type).isEqualTo(Write.Type.ROLLBACK);
            assertThat(recordOf("z", start).type).isEqualTo(Write.Type.ROLLBACK);
        }

        @Test
        void txnInfosResolveSeveralTxnsAtOnce() {
            long committed = ts(0, 1);
            long rolledBack = ts(0, 2);
            long untouched = ts(0, 3);
            long commitTs = ts(0, 4);
            prewriteOk(committed, "a", put("a", "1"));
            prewriteOk(rolledBack, "b", put("b", "1"));
            prewriteOk(untouched, "c", put("c", "1"));

            Kvrpcpb.ResolveLockResponse resp =
                    percolator.resolveLock(
                            Kvrpcpb.ResolveLockRequest.newBuilder()
                                    .addTxnInfos(
                                            Kvrpcpb.TxnInfo.newBuilder()
                                                    .setTxn(committed)
                                                    .setStatus(commitTs))
                                    .addTxnInfos(
                                            Kvrpcpb.TxnInfo.newBuilder()
                                                    .setTxn(rolledBack)
                                                    .setStatus(0))
                                    .build(),
                            new byte[0],
                            new byte[0]);

            assertThat(resp.hasError()).isFalse();
            assertThat(recordOf("a", committed).commitTs).isEqualTo(commitTs);
            assertThat(recordOf("b", rolledBack).type).isEqualTo(Write.Type.ROLLBACK);
            assertThat(lockOf("c").startTs).isEqualTo(untouched);
        }

        @Test
        void startVersionTakesPrecedenceOverTxnInfos() {
            // TiKV (kv.rs future_resolve_lock) reads txn_infos only when start_version is 0.
            long start = ts(0, 1);
            long listed = ts(0, 2);
            prewriteOk(start, "a", put("a", "1"));
            prewriteOk(listed, "b", put("b", "1"));

            Kvrpcpb.ResolveLockResponse resp =
                    percolator.resolveLock(
                            Kvrpcpb.ResolveLockRequest.newBuilder()
                                    .setStartVersion(start)
                                    .setCommitVersion(0)
                                    .addTxnInfos(
                                            Kvrpcpb.TxnInfo.newBuilder()
                                                    .setTxn(listed)
                                                    .setStatus(0))
                                    .build(),
                            new byte[0],
                            new byte[0]);

            assertThat(resp.hasError()).isFalse();
            assertThat(lockOf("a")).isNull();
            assertThat(lockOf("b")).isNotNull();
        }

        @Test
        void commitRespectsMinCommitTs() {
            long start = ts(0, 1);
            prewriteOk(start, "a", put("a", "1"));
            checkTxnStatus("a", start, ts(0, 10), ts(0, 10), false);

            Kvrpcpb.ResolveLockResponse resp = resolveKeys(start, ts(0, 5));

            assertThat(resp.getError().hasCommitTsExpired()).isTrue();
            assertThat(resp.getError().getCommitTsExpired().getMinCommitTs()).isEqualTo(ts(0, 11));
            assertThat(lockOf("a")).isNotNull();
        }

        @Test
        void commitTsNotAboveTheLockTsIsInvalidTxnTso() {
            // TiKV commands/resolve_lock.rs: commit_ts <= lock.ts gives InvalidTxnTso.
            long start = ts(0, 5);
            prewriteOk(start, "a", put("a", "1"));

            Kvrpcpb.ResolveLockResponse resp = resolveKeys(start, ts(0, 4));

            assertThat(resp.getError().getAbort()).containsIgnoringCase("invalid");
            assertThat(lockOf("a")).isNotNull();
            assertThat(store.versions(b("a"))).isEmpty();
        }
    }

    // ---- heartbeat, cleanup, rollback ---------------------------------------------------------

    @Nested
    class HeartBeatCleanupRollback {
        @Test
        void heartBeatOnlyExtendsTheTtl() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"));

            Kvrpcpb.TxnHeartBeatResponse longer = heartBeat("p", start, TTL * 2);
            assertThat(longer.hasError()).isFalse();
            assertThat(longer.getLockTtl()).isEqualTo(TTL * 2);
            assertThat(lockOf("p").ttl).isEqualTo(TTL * 2);

            Kvrpcpb.TxnHeartBeatResponse shorter = heartBeat("p", start, TTL);
            assertThat(shorter.getLockTtl()).isEqualTo(TTL * 2);
            assertThat(lockOf("p").ttl).isEqualTo(TTL * 2);
        }

        @Test
        void heartBeatWithoutTheLockIsTxnNotFound() {
            prewriteOk(ts(0, 2), "p", put("p", "v"));

            Kvrpcpb.TxnHeartBeatResponse resp = heartBeat("p", ts(0, 1), TTL);

            assertThat(resp.getError().getTxnNotFound().getStartTs()).isEqualTo(ts(0, 1));
            assertThat(resp.getError().getTxnNotFound().getPrimaryKey().toStringUtf8())
                    .isEqualTo("p");
            assertThat(lockOf("p").ttl).isEqualTo(TTL);
        }

        @Test
        void cleanupOfALiveLockIsKeyIsLocked() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"));

            Kvrpcpb.CleanupResponse resp = cleanup("p", start, ts(TTL, 0));

            assertLockInfo(resp.getError().getLocked(), "p", "p", start, Kvrpcpb.Op.Put);
            assertThat(lockOf("p")).isNotNull();
        }

        @Test
        void cleanupOfAnExpiredLockRollsBack() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"));

            Kvrpcpb.CleanupResponse resp = cleanup("p", start, ts(TTL + 1, 0));

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getCommitVersion()).isZero();
            assertThat(lockOf("p")).isNull();
            assertThat(recordOf("p", start).type).isEqualTo(Write.Type.ROLLBACK);
        }

        @Test
        void cleanupWithZeroCurrentTsRollsBackRegardless() {
            long start = ts(0, 1);
            prewriteOk(start, "p", put("p", "v"));

            assertThat(cleanup("p", start, 0).hasError()).isFalse();

            assertThat(lockOf("p")).isNull();
        }

        @Test
        void cleanupOfACommittedTxnReturnsItsCommitVersion() {
            long start = ts(0, 1);
            long commitTs = ts(0, 2);
            committedPut("p", "v", start, commitTs);

            Kvrpcpb.CleanupResponse resp = cleanup("p", start, ts(TTL + 1, 0));

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getCommitVersion()).isEqualTo(commitTs);
            assertThat(recordOf("p", start).type).isEqualTo(Write.Type.PUT);
        }

        @Test
        void cleanupWithoutLockLeavesARollbackRecord() {
            long start = ts(0, 1);

            Kvrpcpb.CleanupResponse resp = cleanup("p", start, ts(0, 2));

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getCommitVersion()).isZero();
            assertThat(recordOf("p", start).type).isEqualTo(Write.Type.ROLLBACK);
        }

        @Test
        void scanLocksReturnsLocksAtOrBelowMaxVersionInRange() {
            prewriteOk(ts(0, 1), "a", put("a", "1"), put("c", "1"));
            prewriteOk(ts(0, 5), "b", put("b", "1"));

            List<Kvrpcpb.LockInfo> locks =
                    percolator.scanLocks(new byte[0], new byte[0], ts(0, 4), 0);
            assertThat(locks).extracting(l -> l.getKey().toStringUtf8()).containsExactly("a", "c");
            assertLockInfo(locks.get(1), "c", "a", ts(0, 1), Kvrpcpb.Op.Put);
            assertThat(percolator.scanLocks(b("b"), new byte[0], ts(0, 9), 0)).hasSize(2);
            assertThat(percolator.scanLocks(new byte[0], b("c"), ts(0, 9), 0)).hasSize(2);
            assertThat(percolator.scanLocks(new byte[0], new byte[0], ts(0, 9), 1)).hasSize(1);
        }

        @Test
        void pessimisticRollbackRemovesOnlyMatchingPessimisticLocks() {
            long start = ts(0, 1);
            Lock pessimistic =
                    new Lock(
                            Kvrpcpb.Op.PessimisticLock,
                            b("p"),
                            start,
                            TTL,
                            null,
                            ts(0, 2),
                            0,
                            0,
                            false,
                            List.of(),
                            0);
            store.write(
                    (s, batch) -> {
                        batch.add(Modify.putLock(b("p"), pessimistic));
                        return null;
                    });
            prewriteOk(start, "p", put("o", "v"));

            percolator.pessimisticRollback(
                    Kvrpcpb.PessimisticRollbackRequest.newBuilder()
                            .setStartVersion(start)
                            .setForUpdateTs(ts(0, 2))
                            .addKeys(bs("p"))
                            .addKeys(bs("o"))
                            .build());

            assertThat(lockOf("p")).isNull();
            assertThat(lockOf("o")).isNotNull();
            assertThat(recordOf("p", start)).isNull();
        }

        @Test
        void batchRollbackRemovesLocksAndValues() {
            long start = ts(0, 1);
            prewriteOk(start, "a", put("a", "1"), put("b", bytes(300, 'b')));

            assertThat(batchRollback(start, "a", "b", "c").hasError()).isFalse();

            for (String k : List.of("a", "b", "c")) {
                assertThat(lockOf(k)).isNull();
                assertThat(recordOf(k, start).type).isEqualTo(Write.Type.ROLLBACK);
                assertThat(recordOf(k, start).commitTs).isEqualTo(start);
            }
            assertThat(store.defaultValue(b("b"), start)).isNull();
            // Rolling back again is a no-op.
            long index = store.applyIndex();
            assertThat(batchRollback(start, "a", "b").hasError()).isFalse();
            assertThat(store.applyIndex()).isEqualTo(index);
        }

        @Test
        void batchRollbackOfACommittedKeyAbortsWithCommittedAndWritesNothing() {
            long start = ts(0, 1);
            prewriteOk(start, "a", put("a", "1"), put("b", "1"));
            commitOk(start, ts(0, 2), "b");

            Kvrpcpb.BatchRollbackResponse resp = batchRollback(start, "a", "b");

            assertThat(resp.getError().getAbort()).contains("Committed");
            assertThat(lockOf("a")).isNotNull();
            assertThat(recordOf("a", start)).isNull();
        }
    }

    // ---- reads --------------------------------------------------------------------------------

    @Nested
    class Reads {
        private final long oldStart = ts(0, 1);
        private final long oldCommit = ts(0, 2);
        private final long lockTs = ts(0, 5);

        /** "k" = "old" committed at oldCommit, then locked by a txn at lockTs with primary "p". */
        private void lockedOverOld() {
            committedPut("k", "old", oldStart, oldCommit);
            prewriteOk(lockTs, "p", put("p", "new"), put("k", "new"));
        }

        @Test
        void lockAtOrBelowTheReadTsBlocks() {
            lockedOverOld();

            for (long readTs : new long[] {lockTs, lockTs + 1}) {
                Kvrpcpb.GetResponse resp = get("k", readTs);
                assertLockInfo(resp.getError().getLocked(), "k", "p", lockTs, Kvrpcpb.Op.Put);
                assertThat(resp.getValue()).isEmpty();
            }
        }

        @Test
        void lockAboveTheReadTsDoesNotBlock() {
            lockedOverOld();

            assertThat(getValue("k", lockTs - 1)).isEqualTo("old");
        }

        @Test
        void lockTypeLocksDoNotBlock() {
            committedPut("k", "old", oldStart, oldCommit);
            prewriteOk(lockTs, "k", lockOp("k"));

            assertThat(getValue("k", lockTs + 1)).isEqualTo("old");
        }

        @Test
        void pessimisticLocksDoNotBlock() {
            committedPut("k", "old", oldStart, oldCommit);
            Lock pessimistic =
                    new Lock(
                            Kvrpcpb.Op.PessimisticLock,
                            b("k"),
                            lockTs,
                            TTL,
                            null,
                            lockTs,
                            0,
                            0,
                            false,
                            List.of(),
                            0);
            store.write(
                    (s, batch) -> {
                        batch.add(Modify.putLock(b("k"), pessimistic));
                        return null;
                    });

            assertThat(getValue("k", lockTs + 1)).isEqualTo("old");
        }

        @Test
        void minCommitTsAboveTheReadTsDoesNotBlock() {
            lockedOverOld();
            long readTs = ts(0, 9);
            checkTxnStatus("p", lockTs, readTs, readTs, false); // pushes the primary only

            assertThat(getValue("p", readTs)).isNull();
            assertThat(get("k", readTs).getError().hasLocked()).isTrue();
        }

        @Test
        void resolvedLocksAreBypassed() {
            lockedOverOld();
            long readTs = ts(0, 9);

            Kvrpcpb.GetResponse resp = get("k", readTs, lockTs);

            assertThat(resp.hasError()).isFalse();
            assertThat(resp.getValue().toStringUtf8()).isEqualTo("old");
            assertThat(get("k", readTs, lockTs + 1).getError().hasLocked()).isTrue();
        }

        @Test
        void maxReadTsIgnoresTheLockOnThePrimaryOnly() {
            committedPut("p", "old-p", oldStart, oldCommit);
            lockedOverOld();

            Kvrpcpb.GetResponse primary = get("p", -1);
            assertThat(primary.hasError()).isFalse();
            assertThat(primary.getValue().toStringUtf8()).isEqualTo("old-p");
            assertThat(get("k", -1).getError().hasLocked()).isTrue();
        }

        @Test
        void readCommittedIgnoresLocks() {
            lockedOverOld();

            byte[] value =
                    percolator.get(b("k"), new Percolator.ReadContext(lockTs + 1, Set.of(), true));

            assertThat(value).isEqualTo(b("old"));
        }

        @Test
        void readsTheNewestDataVersionAtTheReadTs() {
            committedPut("k", "v1", ts(0, 1), ts(0, 2));
            committedPut("k", "v2", ts(0, 3), ts(0, 4));
            prewriteOk(ts(0, 5), "k", lockOp("k"));
            commitOk(ts(0, 5), ts(0, 6), "k"); // Lock record: skipped
            assertThat(batchRollback(ts(0, 7), "k").hasError()).isFalse(); // Rollback: skipped
            prewriteOk(ts(0, 8), "k", del("k"));
            commitOk(ts(0, 8), ts(0, 9), "k");

            assertThat(getValue("k", ts(0, 1))).isNull();
            assertThat(getValue("k", ts(0, 2))).isEqualTo("v1");
            assertThat(getValue("k", ts(0, 3))).isEqualTo("v1");
            assertThat(getValue("k", ts(0, 4))).isEqualTo("v2");
            assertThat(getValue("k", ts(0, 8))).isEqualTo("v2");
            assertThat(getValue("k", ts(0, 9))).isNull();
            assertThat(get("k", ts(0, 9)).getNotFound()).isTrue();
        }

        @Test
        void longValuesAreReadFromTheDefaultCf() {
            byte[] longValue = bytes(300, 'q');
            prewriteOk(ts(0, 1), "k", put("k", longValue));
            commitOk(ts(0, 1), ts(0, 2), "k");

            assertThat(store.versions(b("k"))[0].shortValue).isNull();
            assertThat(get("k", ts(0, 3)).getValue().toByteArray()).isEqualTo(longValue);
        }

        @Test
        void batchGetReturnsFoundKeysAndLockErrorsWithoutKey() {
            lockedOverOld();
            committedPut("a", "va", ts(0, 3), ts(0, 4));

            Kvrpcpb.BatchGetResponse resp =
                    percolator.kvBatchGet(
                            Kvrpcpb.BatchGetRequest.newBuilder()
                                    .addKeys(bs("a"))
                                    .addKeys(bs("k"))
                                    .addKeys(bs("missing"))
                                    .setVersion(ts(0, 9))
                                    .build());

            assertThat(resp.getPairsList()).hasSize(2);
            assertThat(resp.getPairs(0).getKey().toStringUtf8()).isEqualTo("a");
            assertThat(resp.getPairs(0).getValue().toStringUtf8()).isEqualTo("va");
            assertThat(resp.getPairs(1).getKey()).isEmpty();
            assertThat(resp.getPairs(1).getError().getLocked().getKey().toStringUtf8())
                    .isEqualTo("k");
        }

        @Test
        void scanCountsLockedKeysAndContinuesPastThem() {
            committedPut("a", "va", ts(0, 1), ts(0, 2));
            committedPut("c", "vc", ts(0, 1), ts(0, 2));
            committedPut("d", "vd", ts(0, 1), ts(0, 2));
            prewriteOk(ts(0, 3), "b", put("b", "vb"));

            Percolator.ReadContext read = new Percolator.ReadContext(ts(0, 9), Set.of(), false);
            List<Kvrpcpb.KvPair> all =
                    percolator.scan(b("a"), new byte[0], 100, false, false, read);

            assertThat(all).hasSize(4);
            assertThat(all.get(0).getKey().toStringUtf8()).isEqualTo("a");
            assertThat(all.get(1).getError().getLocked().getKey().toStringUtf8()).isEqualTo("b");
            assertThat(all.get(2).getValue().toStringUtf8()).isEqualTo("vc");
            assertThat(all.get(3).getKey().toStringUtf8()).isEqualTo("d");

            List<Kvrpcpb.KvPair> limited = percolator.scan(b("a"), b("d"), 2, true, false, read);
            assertThat(limited).hasSize(2);
            assertThat(limited.get(0).getValue()).isEmpty();
            assertThat(limited.get(1).hasError()).isTrue();

            List<Kvrpcpb.KvPair> bounded = percolator.scan(b("b"), b("d"), 100, false, false, read);
            assertThat(bounded).hasSize(2);
            assertThat(bounded.get(1).getKey().toStringUtf8()).isEqualTo("c");
        }
    }

    // ---- async commit -------------------------------------------------------------------------

    @Nested
    class AsyncCommit {
        private final long start = ts(0, 1);

        @Test
        void primaryListsTheSecondariesAndMinCommitTsIsAboveTheLargestRead() {
            long readTs = ts(0, 50);
            assertThat(getValue("other", readTs)).isNull(); // raises max_ts

            Kvrpcpb.PrewriteResponse resp =
                    percolator.prewrite(
                            asyncReq(start, "p", List.of("s"), put("p", "vp"), put("s", "vs"))
                                    .build());

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(resp.getMinCommitTs()).isEqualTo(readTs + 1);
            assertThat(resp.getOnePcCommitTs()).isZero();
            Lock p = lockOf("p");
            assertThat(p.useAsyncCommit).isTrue();
            assertThat(p.secondaries).containsExactly(b("s"));
            assertThat(p.minCommitTs).isEqualTo(readTs + 1);
            Lock secondary = lockOf("s");
            assertThat(secondary.useAsyncCommit).isTrue();
            assertThat(secondary.secondaries).isEmpty();
            // A read at or above min_commit_ts meets the locks; below, it does not.
            assertThat(get("p", readTs + 1).getError().getLocked().getUseAsyncCommit()).isTrue();
            assertThat(getValue("s", readTs)).isNull();
        }

        @Test
        void minCommitTsIsAtLeastTheRequestsAndStartTsPlusOne() {
            assertThat(
                            percolator
                                    .prewrite(
                                            asyncReq(start, "a", List.of(), put("a", "v")).build())
                                    .getMinCommitTs())
                    .isEqualTo(start + 1);
            long requested = ts(0, 30);
            assertThat(
                            percolator
                                    .prewrite(
                                            asyncReq(ts(0, 2), "b", List.of(), put("b", "v"))
                                                    .setMinCommitTs(requested)
                                                    .build())
                                    .getMinCommitTs())
                    .isEqualTo(requested);
        }

        @Test
        void duplicatedPrewriteAnswersTheSameMinCommitTs() {
            Kvrpcpb.PrewriteRequest req = asyncReq(start, "p", List.of(), put("p", "v")).build();
            long first = percolator.prewrite(req).getMinCommitTs();
            getValue("x", ts(0, 90)); // max_ts moves on; the lock does not

            assertThat(percolator.prewrite(req).getMinCommitTs()).isEqualTo(first);
        }

        @Test
        void pastMaxCommitTsItFallsBackTo2pc() {
            getValue("x", ts(0, 50));

            Kvrpcpb.PrewriteResponse resp =
                    percolator.prewrite(
                            asyncReq(start, "p", List.of("s"), put("p", "vp"), put("s", "vs"))
                                    .setMaxCommitTs(ts(0, 10))
                                    .build());

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(resp.getMinCommitTs()).isZero();
            for (String k : List.of("p", "s")) {
                assertThat(lockOf(k).useAsyncCommit).isFalse();
                assertThat(lockOf(k).secondaries).isEmpty();
                assertThat(lockOf(k).minCommitTs).isEqualTo(start);
            }
        }

        @Test
        void commitBelowTheComputedMinCommitTsExpires() {
            getValue("x", ts(0, 50));
            long min =
                    percolator
                            .prewrite(asyncReq(start, "p", List.of(), put("p", "v")).build())
                            .getMinCommitTs();
            assertThat(commit(start, min - 1, "p").getError().hasCommitTsExpired()).isTrue();
            commitOk(start, min, "p");
        }

        @Test
        void checkTxnStatusNeverRollsBackAnAsyncPrimaryUnlessForcedToSyncCommit() {
            percolator.prewrite(
                    asyncReq(start, "p", List.of("s"), put("p", "vp"), put("s", "vs")).build());
            long expired = ts(TTL + 1, 0);

            Kvrpcpb.CheckTxnStatusResponse resp =
                    checkTxnStatus("p", start, expired, expired, true);

            assertThat(resp.getAction()).isEqualTo(Kvrpcpb.Action.NoAction);
            assertThat(resp.getLockInfo().getUseAsyncCommit()).isTrue();
            assertThat(resp.getLockInfo().getSecondariesList()).containsExactly(bs("s"));
            assertThat(resp.getLockInfo().getMinCommitTs()).isEqualTo(start + 1); // not pushed
            assertThat(lockOf("p")).isNotNull();

            Kvrpcpb.CheckTxnStatusResponse forced =
                    percolator.checkTxnStatus(
                            Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                    .setPrimaryKey(bs("p"))
                                    .setLockTs(start)
                                    .setCurrentTs(expired)
                                    .setForceSyncCommit(true)
                                    .build());
            assertThat(forced.getAction()).isEqualTo(Kvrpcpb.Action.TTLExpireRollback);
            assertThat(lockOf("p")).isNull();
        }

        @Test
        void checkSecondaryLocksReturnsTheLocksWhileAllAreThere() {
            percolator.prewrite(
                    asyncReq(start, "p", List.of("s", "t"), put("p", "v"), put("s", "v")).build());

            Kvrpcpb.CheckSecondaryLocksResponse resp = checkSecondaryLocks(start, "s");

            assertThat(resp.getLocksList()).hasSize(1);
            assertThat(resp.getLocks(0).getKey()).isEqualTo(bs("s"));
            assertThat(resp.getLocks(0).getMinCommitTs()).isEqualTo(start + 1);
            assertThat(resp.getCommitTs()).isZero();
        }

        @Test
        void checkSecondaryLocksReportsACommittedKey() {
            percolator.prewrite(
                    asyncReq(start, "p", List.of("s"), put("p", "v"), put("s", "v")).build());
            commitOk(start, ts(0, 5), "s");

            Kvrpcpb.CheckSecondaryLocksResponse resp = checkSecondaryLocks(start, "p", "s");

            assertThat(resp.getLocksList()).isEmpty();
            assertThat(resp.getCommitTs()).isEqualTo(ts(0, 5));
        }

        @Test
        void checkSecondaryLocksRollsBackAMissingKeySoItsPrewriteCannotLand() {
            percolator.prewrite(asyncReq(start, "p", List.of("s"), put("p", "v")).build());

            Kvrpcpb.CheckSecondaryLocksResponse resp = checkSecondaryLocks(start, "s");

            assertThat(resp.getLocksList()).isEmpty();
            assertThat(resp.getCommitTs()).isZero();
            assertThat(recordOf("s", start).type).isEqualTo(Write.Type.ROLLBACK);
            Kvrpcpb.PrewriteResponse late =
                    percolator.prewrite(asyncReq(start, "p", List.of("s"), put("s", "v")).build());
            assertThat(late.getErrors(0).getRetryable()).contains("SelfRolledBack");
        }

        @Test
        void aReadMeetsTheLockOfAPrewriteInFlight() {
            Lock inFlight =
                    new Lock(
                            Kvrpcpb.Op.Put,
                            b("k"),
                            start,
                            TTL,
                            b("v"),
                            0,
                            1,
                            start + 1,
                            true,
                            List.of(),
                            0);
            percolator.concurrencyManager().putMemoryLock(b("k"), inFlight);

            assertThat(get("k", ts(0, 9)).getError().getLocked().getLockVersion()).isEqualTo(start);
            assertThat(percolator.concurrencyManager().maxTs()).isEqualTo(ts(0, 9));
        }
    }

    // ---- 1PC ----------------------------------------------------------------------------------

    @Nested
    class OnePc {
        private final long start = ts(0, 1);

        @Test
        void commitsAtOnceAboveTheLargestReadAndLeavesNoLock() {
            long readTs = ts(0, 50);
            getValue("x", readTs);
            byte[] longValue = bytes(300, 'l');

            Kvrpcpb.PrewriteResponse resp =
                    percolator.prewrite(
                            prewriteReq(start, "a", put("a", "va"), put("b", longValue), del("c"))
                                    .setTryOnePc(true)
                                    .build());

            long commitTs = readTs + 1;
            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(resp.getOnePcCommitTs()).isEqualTo(commitTs);
            assertThat(resp.getMinCommitTs()).isZero();
            for (String k : List.of("a", "b", "c")) {
                assertThat(lockOf(k)).isNull();
                assertThat(recordOf(k, start).commitTs).isEqualTo(commitTs);
            }
            assertThat(recordOf("c", start).type).isEqualTo(Write.Type.DELETE);
            assertThat(getValue("a", commitTs)).isEqualTo("va");
            assertThat(getValue("b", commitTs)).isEqualTo(new String(longValue));
            assertThat(getValue("a", commitTs - 1)).isNull();
        }

        @Test
        void pastMaxCommitTsItLeavesLocksFor2pc() {
            getValue("x", ts(0, 50));

            Kvrpcpb.PrewriteResponse resp =
                    percolator.prewrite(
                            prewriteReq(start, "a", put("a", "va"), put("b", "vb"))
                                    .setTryOnePc(true)
                                    .setMaxCommitTs(ts(0, 10))
                                    .build());

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(resp.getOnePcCommitTs()).isZero();
            assertThat(lockOf("a")).isNotNull();
            assertThat(lockOf("b")).isNotNull();
            assertThat(recordOf("a", start)).isNull();
        }

        @Test
        void aRetryAfterTheCommitAnswersTheCommitTs() {
            Kvrpcpb.PrewriteRequest req =
                    prewriteReq(start, "a", put("a", "va")).setTryOnePc(true).build();
            long commitTs = percolator.prewrite(req).getOnePcCommitTs();
            committedPut("a", "newer", ts(0, 60), ts(0, 61));

            Kvrpcpb.PrewriteResponse retry = percolator.prewrite(req);

            assertThat(retry.getErrorsList()).isEmpty();
            assertThat(retry.getOnePcCommitTs()).isEqualTo(commitTs);
        }

        @Test
        void replacesThePessimisticLocksOfItsTxn() {
            long forUpdate = ts(0, 3);
            assertThat(lockPessimistic(start, forUpdate, "a", "a").getErrorsList()).isEmpty();

            Kvrpcpb.PrewriteResponse resp =
                    percolator.prewrite(
                            pessimisticReq(start, forUpdate, "a", put("a", "va"))
                                    .setTryOnePc(true)
                                    .build());

            assertThat(resp.getOnePcCommitTs()).isEqualTo(forUpdate + 1);
            assertThat(lockOf("a")).isNull();
            assertThat(getValue("a", forUpdate + 1)).isEqualTo("va");
        }
    }

    // ---- pessimistic transactions -------------------------------------------------------------

    @Nested
    class Pessimistic {
        private final long oldStart = ts(0, 1);
        private final long oldCommit = ts(0, 2);
        private final long start = ts(0, 5);
        private final long forUpdate = ts(0, 6);

        @Test
        void aPessimisticLockIsInvisibleToReaders() {
            committedPut("k", "old", oldStart, oldCommit);

            assertThat(lockPessimistic(start, forUpdate, "k", "k").getErrorsList()).isEmpty();

            Lock lock = lockOf("k");
            assertThat(lock.type).isEqualTo(Kvrpcpb.Op.PessimisticLock);
            assertThat(lock.forUpdateTs).isEqualTo(forUpdate);
            assertThat(lock.ttl).isEqualTo(TTL);
            assertThat(getValue("k", ts(0, 9))).isEqualTo("old");
        }

        @Test
        void aCommitAfterForUpdateTsIsAWriteConflict() {
            committedPut("k", "newer", ts(0, 7), ts(0, 8));

            Kvrpcpb.PessimisticLockResponse resp = lockPessimistic(start, forUpdate, "k", "k");

            assertThat(resp.getErrors(0).getConflict().getConflictCommitTs()).isEqualTo(ts(0, 8));
            assertThat(resp.getErrors(0).getRetryable()).contains("PessimisticRetry");
            assertThat(lockOf("k")).isNull();
        }

        @Test
        void aKeyLockedByAnotherTxnFailsTheWholeRequest() {
            prewriteOk(oldStart, "b", put("b", "v"));

            Kvrpcpb.PessimisticLockResponse resp = lockPessimistic(start, forUpdate, "a", "a", "b");

            assertThat(resp.getErrors(0).getLocked().getLockVersion()).isEqualTo(oldStart);
            assertThat(lockOf("a")).isNull();
        }

        @Test
        void returnsValuesAndNotFoundsWhenAsked() {
            committedPut("a", "va", oldStart, oldCommit);

            Kvrpcpb.PessimisticLockResponse resp =
                    percolator.pessimisticLock(
                            lockReq(start, forUpdate, "a", "a", "b").setReturnValues(true).build());

            assertThat(resp.getValuesList()).containsExactly(bs("va"), ByteString.EMPTY);
            assertThat(resp.getNotFoundsList()).containsExactly(false, true);
        }

        @Test
        void anExistingKeyAssertedNotToExistIsAlreadyExist() {
            committedPut("a", "va", oldStart, oldCommit);
            Kvrpcpb.PessimisticLockRequest.Builder req = lockReq(start, forUpdate, "a", "a");
            req.setMutations(
                    0, req.getMutations(0).toBuilder().setAssertion(Kvrpcpb.Assertion.NotExist));

            assertThat(percolator.pessimisticLock(req.build()).getErrors(0).hasAlreadyExist())
                    .isTrue();
        }

        @Test
        void pessimisticPrewriteReplacesTheLockAndCommits() {
            lockPessimistic(start, forUpdate, "a", "a");

            Kvrpcpb.PrewriteResponse resp =
                    percolator.prewrite(
                            pessimisticReq(start, forUpdate, "a", put("a", "v")).build());

            assertThat(resp.getErrorsList()).isEmpty();
            assertThat(lockOf("a").type).isEqualTo(Kvrpcpb.Op.Put);
            assertThat(lockOf("a").forUpdateTs).isEqualTo(forUpdate);
            commitOk(start, ts(0, 10), "a");
            assertThat(getValue("a", ts(0, 10))).isEqualTo("v");
        }

        @Test
        void aLostPessimisticLockIsAmendedOnlyIfNothingCommittedSinceTheStart() {
            Kvrpcpb.PrewriteResponse amended =
                    percolator.prewrite(
                            pessimisticReq(start, forUpdate, "a", put("a", "v")).build());
            assertThat(amended.getErrorsList()).isEmpty();

            committedPut("b", "newer", ts(0, 6), ts(0, 7));
            Kvrpcpb.PrewriteResponse lost =
                    percolator.prewrite(
                            pessimisticReq(start, forUpdate, "a", put("b", "v")).build());
            assertThat(lost.getErrors(0).getAbort()).contains("PessimisticLockNotFound");
        }

        @Test
        void anotherTxnsLockWherePessimisticLockWasExpectedIsPessimisticLockNotFound() {
            prewriteOk(oldStart, "a", put("a", "v"));

            Kvrpcpb.PrewriteResponse resp =
                    percolator.prewrite(
                            pessimisticReq(start, forUpdate, "a", put("a", "w")).build());

            assertThat(resp.getErrors(0).getAbort()).contains("PessimisticLockNotFound");
        }

        @Test
        void heartBeatExtendsAPessimisticPrimary() {
            lockPessimistic(start, forUpdate, "p", "p");

            assertThat(heartBeat("p", start, TTL * 2).getLockTtl()).isEqualTo(TTL * 2);
        }

        @Test
        void anExpiredPessimisticPrimaryIsRolledBackOrOnlyUnlocked() {
            lockPessimistic(start, forUpdate, "p", "p");
            long expired = ts(TTL + 1, 0);
            Kvrpcpb.CheckTxnStatusResponse unlocked =
                    percolator.checkTxnStatus(
                            Kvrpcpb.CheckTxnStatusRequest.newBuilder()
                                    .setPrimaryKey(bs("p"))
                                    .setLockTs(start)
                                    .setCurrentTs(expired)
                                    .setResolvingPessimisticLock(true)
                                    .build());
            assertThat(unlocked.getAction()).isEqualTo(Kvrpcpb.Action.TTLExpirePessimisticRollback);
            assertThat(lockOf("p")).isNull();
            assertThat(recordOf("p", start)).isNull();

            lockPessimistic(start, forUpdate, "p", "p");
            assertThat(checkTxnStatus("p", start, 0, expired, false).getAction())
                    .isEqualTo(Kvrpcpb.Action.TTLExpireRollback);
            assertThat(recordOf("p", start).type).isEqualTo(Write.Type.ROLLBACK);
        }

        @Test
        void aLeftoverPessimisticLockCommitsAsALockRecord() {
            lockPessimistic(start, forUpdate, "a", "a");

            commitOk(start, ts(0, 10), "a");

            assertThat(recordOf("a", start).type).isEqualTo(Write.Type.LOCK);
        }

        @Test
        void checkSecondaryLocksRollsBackAPessimisticLock() {
            lockPessimistic(start, forUpdate, "p", "s");

            Kvrpcpb.CheckSecondaryLocksResponse resp = checkSecondaryLocks(start, "s");

            assertThat(resp.getLocksList()).isEmpty();
            assertThat(lockOf("s")).isNull();
            assertThat(recordOf("s", start).type).isEqualTo(Write.Type.ROLLBACK);
        }
    }

    // ---- txn_source ---------------------------------------------------------------------------

    @Test
    void txnSourceGoesFromTheRequestContextToTheLockAndTheCommitRecord() {
        Kvrpcpb.Context ctx = TxnSource.with(Kvrpcpb.Context.getDefaultInstance(), 7);
        assertThat(TxnSource.of(ctx)).isEqualTo(7);
        assertThat(TxnSource.of(TxnSource.with(ctx, 0))).isZero();

        long start = ts(0, 1);
        percolator.prewrite(prewriteReq(start, "k", put("k", "v")).setContext(ctx).build());
        assertThat(lockOf("k").txnSource).isEqualTo(7);
        commitOk(start, ts(0, 2), "k");
        assertThat(recordOf("k", start).txnSource).isEqualTo(7);
    }
}
