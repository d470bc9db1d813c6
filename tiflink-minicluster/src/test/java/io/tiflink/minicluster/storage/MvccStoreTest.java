package io.tiflink.minicluster.storage;

import io.tiflink.minicluster.txn.Percolator;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MvccStoreTest {
    private final MvccStore store = new MvccStore();
    private final Percolator percolator = new Percolator(store);

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] bytes(int n, char c) {
        byte[] v = new byte[n];
        Arrays.fill(v, (byte) c);
        return v;
    }

    private void apply(Modify... modifies) {
        store.write(
                (s, batch) -> {
                    batch.addAll(List.of(modifies));
                    return null;
                });
    }

    private static Write put(long startTs, long commitTs, String value) {
        return new Write(Write.Type.PUT, startTs, commitTs, b(value), false, 0);
    }

    /** A committed Put through the Percolator commands. */
    private void commitPut(String key, byte[] value, long startTs, long commitTs) {
        Kvrpcpb.PrewriteResponse pw =
                percolator.prewrite(
                        Kvrpcpb.PrewriteRequest.newBuilder()
                                .setStartVersion(startTs)
                                .setPrimaryLock(ByteString.copyFromUtf8(key))
                                .addMutations(
                                        Kvrpcpb.Mutation.newBuilder()
                                                .setOp(Kvrpcpb.Op.Put)
                                                .setKey(ByteString.copyFromUtf8(key))
                                                .setValue(ByteString.copyFrom(value)))
                                .setLockTtl(3000)
                                .setMinCommitTs(startTs)
                                .setTxnSize(16)
                                .build());
        assertThat(pw.getErrorsList()).isEmpty();
        if (commitTs > 0) {
            Kvrpcpb.CommitResponse c =
                    percolator.commit(
                            Kvrpcpb.CommitRequest.newBuilder()
                                    .setStartVersion(startTs)
                                    .setCommitVersion(commitTs)
                                    .addKeys(ByteString.copyFromUtf8(key))
                                    .build());
            assertThat(c.hasError()).isFalse();
        }
    }

    @Test
    void versionsAreNewestFirstWhateverTheApplyOrder() {
        byte[] k = b("k");
        apply(Modify.putWrite(k, put(3, 4, "b")));
        apply(Modify.putWrite(k, put(1, 2, "a")), Modify.putWrite(k, put(7, 8, "d")));
        apply(Modify.putWrite(k, Write.rollback(6)));

        assertThat(Arrays.stream(store.versions(k)).mapToLong(w -> w.commitTs).toArray())
                .containsExactly(8L, 6L, 4L, 2L);
        assertThat(store.seekWrite(k, 7).commitTs).isEqualTo(6);
        assertThat(store.seekWrite(k, 1)).isNull();
        assertThat(store.get(k, 7)).isEqualTo(b("b")); // the rollback at 6 is skipped
        assertThat(store.get(k, 8)).isEqualTo(b("d"));
        assertThat(store.get(k, 1)).isNull();
        // A record at the same commit_ts replaces the old one.
        apply(Modify.putWrite(k, put(3, 4, "b2")));
        assertThat(store.versions(k)).hasSize(4);
        assertThat(store.get(k, 5)).isEqualTo(b("b2"));
    }

    @Test
    void txnRecordFindsCommitsRollbacksAndOverlappedRollbacks() {
        byte[] k = b("k");
        apply(
                Modify.putWrite(k, put(1, 5, "a")),
                Modify.putWrite(k, Write.rollback(3)),
                Modify.putWrite(
                        k,
                        new Write(Write.Type.PUT, 8, 10, b("b"), false, 0)
                                .withOverlappedRollback()));

        assertThat(store.txnRecord(k, 1).commitTs).isEqualTo(5);
        assertThat(store.txnRecord(k, 3).type).isEqualTo(Write.Type.ROLLBACK);
        assertThat(store.txnRecord(k, 10).type).isEqualTo(Write.Type.ROLLBACK);
        assertThat(store.txnRecord(k, 10).startTs).isEqualTo(10);
        assertThat(store.txnRecord(k, 8).commitTs).isEqualTo(10);
        assertThat(store.txnRecord(k, 2)).isNull();
        assertThat(store.txnRecord(k, 11)).isNull();
    }

    @Test
    void shortValuesStayInlineAndLongValuesGoToTheDefaultCf() {
        byte[] shortValue = bytes(MvccStore.SHORT_VALUE_MAX_LEN, 's');
        byte[] longValue = bytes(300, 'l');
        commitPut("s", shortValue, 1, 2);
        commitPut("l", longValue, 3, 4);

        Write s = store.versions(b("s"))[0];
        assertThat(s.shortValue).isEqualTo(shortValue);
        assertThat(store.defaultValue(b("s"), 1)).isNull();
        Write l = store.versions(b("l"))[0];
        assertThat(l.shortValue).isNull();
        assertThat(store.defaultValue(b("l"), 3)).isEqualTo(longValue);
        assertThat(store.get(b("l"), 4)).isEqualTo(longValue);
        assertThat(store.value(b("l"), l)).isEqualTo(longValue);
        assertThat(store.get(b("s"), 2)).isEqualTo(shortValue);
    }

    @Test
    void rollbackOfALongValueLockDeletesItsDefaultEntry() {
        byte[] longValue = bytes(300, 'l');
        commitPut("l", longValue, 3, 0);
        assertThat(store.value(b("l"), store.lock(b("l")))).isEqualTo(longValue);

        Kvrpcpb.BatchRollbackResponse resp =
                percolator.batchRollback(
                        Kvrpcpb.BatchRollbackRequest.newBuilder()
                                .setStartVersion(3)
                                .addKeys(ByteString.copyFromUtf8("l"))
                                .build());

        assertThat(resp.hasError()).isFalse();
        assertThat(store.lock(b("l"))).isNull();
        assertThat(store.defaultValue(b("l"), 3)).isNull();
        assertThat(store.versions(b("l"))).hasSize(1);
        assertThat(store.versions(b("l"))[0].type).isEqualTo(Write.Type.ROLLBACK);
    }

    @Test
    void gcKeepsTheNewestPutAtOrBelowTheSafePointAndDropsOlderVersions() {
        byte[] longV = bytes(300, 'x');
        commitPut("k", longV, 1, 2); // old long Put: record and value go
        commitPut("k", b("v2"), 3, 4); // newest Put <= safe point: kept
        apply(Modify.putWrite(b("k"), Write.rollback(5))); // above the Put, <= safe point: goes
        commitPut("k", b("v3"), 11, 12); // above the safe point: kept
        // "d": deleted at or below the safe point, so nothing is left.
        commitPut("d", b("v"), 1, 2);
        apply(Modify.putWrite(b("d"), new Write(Write.Type.DELETE, 3, 4, null, false, 0)));
        // "o": only versions above the safe point.
        commitPut("o", b("v"), 20, 21);

        long removed = store.gc(10);

        assertThat(removed).isEqualTo(4);
        assertThat(Arrays.stream(store.versions(b("k"))).mapToLong(w -> w.commitTs).toArray())
                .containsExactly(12L, 4L);
        assertThat(store.defaultValue(b("k"), 1)).isNull();
        assertThat(store.get(b("k"), 10)).isEqualTo(b("v2"));
        assertThat(store.get(b("k"), 12)).isEqualTo(b("v3"));
        assertThat(store.versions(b("d"))).isEmpty();
        assertThat(store.get(b("d"), 10)).isNull();
        assertThat(store.versions(b("o"))).hasSize(1);
        // A second run at the same safe point has nothing left to do.
        assertThat(store.gc(10)).isZero();
    }

    @Test
    void gcKeepsLongValueOfTheSurvivingPutAndLeavesLocks() {
        byte[] longV = bytes(300, 'y');
        commitPut("k", b("v1"), 1, 2);
        commitPut("k", longV, 3, 4);
        commitPut("m", b("locked"), 5, 0);

        assertThat(store.gc(10)).isEqualTo(1);

        assertThat(store.get(b("k"), 10)).isEqualTo(longV);
        assertThat(store.lock(b("m"))).isNotNull();
    }

    @Test
    void observerSeesEachBatchInApplyOrderWithIncreasingIndex() {
        List<Long> indexes = new ArrayList<>();
        List<List<Modify>> batches = new ArrayList<>();
        ApplyObserver observer =
                (index, batch) -> {
                    indexes.add(index);
                    batches.add(List.copyOf(batch));
                };
        long before = store.applyIndex();
        store.addObserver(observer);

        Modify first = Modify.putWrite(b("a"), put(1, 2, "x"));
        Modify second = Modify.putWrite(b("b"), put(1, 2, "y"));
        Modify third = Modify.putDefault(b("c"), 3, b("z"));
        apply(first, second);
        apply(); // an empty batch is not applied
        apply(third);
        store.removeObserver(observer);
        apply(Modify.putWrite(b("d"), put(1, 2, "w")));

        assertThat(indexes).containsExactly(before + 1, before + 2);
        assertThat(batches.get(0)).containsExactly(first, second);
        assertThat(batches.get(1)).containsExactly(third);
        assertThat(store.applyIndex()).isEqualTo(before + 3);
    }

    @Test
    void aFailingCommandAppliesNothing() {
        long before = store.applyIndex();
        assertThatThrownBy(
                        () ->
                                store.write(
                                        (s, batch) -> {
                                            batch.add(Modify.putWrite(b("a"), put(1, 2, "x")));
                                            throw new IllegalStateException("boom");
                                        }))
                .isInstanceOf(IllegalStateException.class);

        assertThat(store.versions(b("a"))).isEmpty();
        assertThat(store.applyIndex()).isEqualTo(before);
    }

    @Test
    void rangeViewsAreHalfOpenAndEmptyEndIsUnbounded() {
        for (String k : List.of("a", "b", "c")) {
            apply(Modify.putWrite(b(k), put(1, 2, k)));
        }
        assertThat(store.writes(b("a"), b("c")).keySet()).hasSize(2);
        assertThat(store.writes(b("b"), new byte[0]).keySet()).hasSize(2);
        assertThat(store.approximateKeys(new byte[0], new byte[0])).isEqualTo(3);
    }
}
