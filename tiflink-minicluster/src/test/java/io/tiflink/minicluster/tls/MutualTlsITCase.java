package io.tiflink.minicluster.tls;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.common.util.ConcreteBackOffer;
import org.tikv.kvproto.PDGrpc;
import org.tikv.kvproto.Pdpb;
import org.tikv.shade.com.google.protobuf.ByteString;
import org.tikv.shade.io.grpc.ManagedChannel;
import org.tikv.shade.io.grpc.StatusRuntimeException;
import org.tikv.shade.io.grpc.netty.GrpcSslContexts;
import org.tikv.shade.io.grpc.netty.NettyChannelBuilder;
import org.tikv.txn.KVClient;
import org.tikv.txn.TwoPhaseCommitter;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** PD and the stores served over mutual TLS, reached by tikv-client-java. */
class MutualTlsITCase {
    private static final TestCertificates CERTS = TestCertificates.createTemporary();

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(2).tls(CERTS.serverTls()));

    @Test
    void aClientWithACertificateSignedByTheCaWritesAndReads(MiniTiKVCluster cluster)
            throws Exception {
        TiConfiguration conf = CERTS.clientConfiguration(cluster.pdAddress(), CERTS.client());
        try (TiSession session = TiSession.create(conf)) {
            byte[] key = "tls-key".getBytes(StandardCharsets.UTF_8);
            long startTs = session.getTimestamp().getVersion();
            try (TwoPhaseCommitter committer = new TwoPhaseCommitter(session, startTs)) {
                committer.prewritePrimaryKey(
                        ConcreteBackOffer.newCustomBackOff(5000),
                        key,
                        "over tls".getBytes(StandardCharsets.UTF_8));
                committer.commitPrimaryKey(
                        ConcreteBackOffer.newCustomBackOff(5000),
                        key,
                        session.getTimestamp().getVersion());
            }
            try (KVClient kv = session.createKVClient()) {
                assertThat(
                                kv.get(
                                                ByteString.copyFrom(key),
                                                session.getTimestamp().getVersion())
                                        .toStringUtf8())
                        .isEqualTo("over tls");
            }
        }
    }

    @Test
    void pdAdvertisesItsUrlWithHttps(MiniTiKVCluster cluster) throws Exception {
        ManagedChannel channel =
                NettyChannelBuilder.forTarget(cluster.pdAddress())
                        .sslContext(
                                GrpcSslContexts.forClient()
                                        .trustManager(CERTS.ca().toFile())
                                        .keyManager(
                                                CERTS.client().certificate().toFile(),
                                                CERTS.client().key().toFile())
                                        .build())
                        .build();
        try {
            assertThat(members(channel).getLeader().getClientUrlsList())
                    .containsExactly("https://" + cluster.pdAddress());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aClientWithoutACertificateIsRefused(MiniTiKVCluster cluster) throws Exception {
        ManagedChannel channel =
                NettyChannelBuilder.forTarget(cluster.pdAddress())
                        .sslContext(
                                GrpcSslContexts.forClient()
                                        .trustManager(CERTS.ca().toFile())
                                        .build())
                        .build();
        try {
            assertThatThrownBy(() -> members(channel))
                    .isInstanceOf(StatusRuntimeException.class)
                    .hasMessageStartingWith("UNAVAILABLE");
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aClientWithACertificateOfAnotherCaIsRefused(MiniTiKVCluster cluster) {
        TiConfiguration conf = CERTS.clientConfiguration(cluster.pdAddress(), CERTS.otherClient());
        assertTimeoutPreemptively(
                Duration.ofSeconds(60),
                () -> assertThatThrownBy(() -> TiSession.create(conf).close()).isNotNull());
    }

    @Test
    void aPlaintextClientIsRefused(MiniTiKVCluster cluster) {
        TiConfiguration conf = TiConfiguration.createDefault(cluster.pdAddress());
        assertTimeoutPreemptively(
                Duration.ofSeconds(60),
                () -> assertThatThrownBy(() -> TiSession.create(conf).close()).isNotNull());
    }

    private static Pdpb.GetMembersResponse members(ManagedChannel channel) {
        return PDGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .getMembers(Pdpb.GetMembersRequest.getDefaultInstance());
    }
}
