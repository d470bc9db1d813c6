package io.tiflink.cdc.client;

import org.tikv.kvproto.Cdcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class MatcherTest {
    private static Cdcpb.Event.Row row(
            Cdcpb.Event.LogType type, String key, long startTs, String value) {
        return Cdcpb.Event.Row.newBuilder()
                .setType(type)
                .setKey(ByteString.copyFromUtf8(key))
                .setStartTs(startTs)
                .setCommitTs(type == Cdcpb.Event.LogType.COMMIT ? startTs + 1 : 0)
                .setValue(ByteString.copyFromUtf8(value))
                .setOldValue(ByteString.copyFromUtf8("old"))
                .build();
    }

    private static Cdcpb.Event.Row prewrite(String key, long startTs, String value) {
        return row(Cdcpb.Event.LogType.PREWRITE, key, startTs, value);
    }

    private static Cdcpb.Event.Row commit(String key, long startTs) {
        return row(Cdcpb.Event.LogType.COMMIT, key, startTs, "");
    }

    @Test
    void pairsACommitWithItsPrewriteOnce() {
        Matcher m = new Matcher();
        m.putPrewrite(prewrite("k", 10, "v"));
        m.putPrewrite(prewrite("k", 11, "w"));
        assertThat(m.matchCommit(commit("k", 10), true).getValue().toStringUtf8()).isEqualTo("v");
        assertThat(m.matchCommit(commit("k", 10), true)).isNull();
        assertThat(m.pendingPrewrites()).isEqualTo(1);
    }

    @Test
    void aFakePrewriteDoesNotReplaceTheValue() {
        Matcher m = new Matcher();
        m.putPrewrite(prewrite("k", 10, "v"));
        m.putPrewrite(prewrite("k", 10, ""));
        assertThat(m.matchCommit(commit("k", 10), true).getValue().toStringUtf8()).isEqualTo("v");
    }

    @Test
    void beforeInitializedAnEmptyPrewriteWaitsForTheScan() {
        Matcher m = new Matcher();
        m.putPrewrite(prewrite("k", 10, "")); // a heartbeat's rewrite, seen before the scan's row
        assertThat(m.matchCommit(commit("k", 10), false)).isNull();
        m.holdCommit(commit("k", 10));
        m.putPrewrite(prewrite("k", 10, "v")); // the scan's row, with the value
        assertThat(m.matchHeldCommits())
                .singleElement()
                .satisfies(pair -> assertThat(pair[1].getValue().toStringUtf8()).isEqualTo("v"));
    }

    @Test
    void heldCommitsWithoutPrewriteAreDroppedAtInitialized() {
        Matcher m = new Matcher();
        m.holdCommit(commit("k", 10)); // the scan reported it as COMMITTED
        assertThat(m.matchHeldCommits()).isEmpty();
        assertThat(m.bytes()).isZero();
    }

    @Test
    void rollbackForgetsThePrewriteAndItsBytes() {
        Matcher m = new Matcher();
        m.putPrewrite(prewrite("k", 10, "value"));
        assertThat(m.bytes()).isPositive();
        m.rollback(row(Cdcpb.Event.LogType.ROLLBACK, "k", 10, ""));
        assertThat(m.bytes()).isZero();
        assertThat(m.matchCommit(commit("k", 10), true)).isNull();
    }
}
