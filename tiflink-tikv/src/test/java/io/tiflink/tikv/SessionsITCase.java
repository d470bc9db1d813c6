package io.tiflink.tikv;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tls.TestCertificates;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** {@link Sessions#open} against a cluster serving mutual TLS. */
class SessionsITCase {
    private static final TestCertificates CERTS = TestCertificates.createTemporary();

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).tls(CERTS.serverTls()));

    // tikv-client-java gives up after 5 s of retries, the probe after 5 s more.
    private static final Duration BOUND = Duration.ofSeconds(30);

    @Test
    void opensASessionWithTheCasCertificate(MiniTiKVCluster cluster) throws Exception {
        try (TiSession session =
                Sessions.open(CERTS.clientConfiguration(cluster.pdAddress(), CERTS.client()))) {
            assertThat(session.getTimestamp().getVersion()).isPositive();
        }
    }

    @Test
    void aCertificateOfAnotherCaFailsTheHandshake(MiniTiKVCluster cluster) {
        TiConfiguration conf = CERTS.clientConfiguration(cluster.pdAddress(), CERTS.otherClient());
        assertTimeoutPreemptively(
                BOUND,
                () ->
                        assertThatThrownBy(() -> Sessions.open(conf))
                                .isInstanceOf(IllegalStateException.class)
                                .hasMessageStartingWith(
                                        "TLS handshake failed with PD at "
                                                + cluster.pdAddress()
                                                + ": "));
    }

    @Test
    void aPlaintextClientIsToldAboutTls(MiniTiKVCluster cluster) {
        TiConfiguration conf = TiConfiguration.createDefault(cluster.pdAddress());
        assertTimeoutPreemptively(
                BOUND,
                () ->
                        assertThatThrownBy(() -> Sessions.open(conf))
                                .isInstanceOf(IllegalStateException.class)
                                .hasMessageStartingWith(
                                        "cannot reach PD at " + cluster.pdAddress() + ": ")
                                .hasMessageContaining("set tikv.tls_enable"));
    }

    @Test
    void aServerCertificateFromAnotherCaIsNotTrusted(MiniTiKVCluster cluster) {
        TiConfiguration conf = CERTS.clientConfiguration(cluster.pdAddress(), CERTS.client());
        conf.setTrustCertCollectionFile(CERTS.otherCa().toString());
        assertTimeoutPreemptively(
                BOUND,
                () ->
                        assertThatThrownBy(() -> Sessions.open(conf))
                                .hasMessageStartingWith(
                                        "TLS handshake failed with PD at " + cluster.pdAddress()));
    }
}
