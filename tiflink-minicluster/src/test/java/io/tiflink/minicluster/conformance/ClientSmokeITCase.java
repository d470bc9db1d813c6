package io.tiflink.minicluster.conformance;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.BytePairWrapper;
import org.tikv.common.ByteWrapper;
import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ClientSmokeITCase {
    @RegisterExtension static final MiniTiKVExtension TIKV = new MiniTiKVExtension();

    @Test
    void twoPhaseCommitThenReadBack(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session =
                TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
            long startTs = session.getTimestamp().getVersion();
            List<BytePairWrapper> pairs = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                pairs.add(
                        new BytePairWrapper(
                                ("smoke-" + i).getBytes(StandardCharsets.UTF_8),
                                ("v" + i).getBytes(StandardCharsets.UTF_8)));
            }
            try (TwoPhaseCommitter committer = new TwoPhaseCommitter(session, startTs)) {
                BytePairWrapper primary = pairs.get(0);
                committer.prewritePrimaryKey(
                        org.tikv.common.util.ConcreteBackOffer.newCustomBackOff(5000),
                        primary.getKey(),
                        primary.getValue());
                committer.prewriteSecondaryKeys(
                        primary.getKey(), pairs.subList(1, pairs.size()).iterator(), 5000);
                long commitTs = session.getTimestamp().getVersion();
                committer.commitPrimaryKey(
                        org.tikv.common.util.ConcreteBackOffer.newCustomBackOff(5000),
                        primary.getKey(),
                        commitTs);
                List<ByteWrapper> secondaries = new ArrayList<>();
                for (BytePairWrapper p : pairs.subList(1, pairs.size())) {
                    secondaries.add(new ByteWrapper(p.getKey()));
                }
                committer.commitSecondaryKeys(secondaries.iterator(), commitTs, 5000);
            }
            try (KVClient kv = session.createKVClient()) {
                long readTs = session.getTimestamp().getVersion();
                assertThat(kv.get(ByteString.copyFromUtf8("smoke-7"), readTs).toStringUtf8())
                        .isEqualTo("v7");
                List<Kvrpcpb.KvPair> all =
                        kv.scan(
                                ByteString.copyFromUtf8("smoke-"),
                                ByteString.copyFromUtf8("smoke."),
                                readTs);
                assertThat(all).hasSize(100);
            }
        }
    }
}
