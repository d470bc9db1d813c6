package io.tiflink.minicluster.standalone;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tls.TestCertificates;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class MiniClusterMainITCase {

    @Test
    void printsOneReadyLineWithAReachablePdAddress() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MiniTiKVCluster cluster =
                MiniClusterMain.start(
                        new String[] {"--pd-port", "0", "--stores", "2"},
                        new PrintStream(out, true, StandardCharsets.UTF_8))) {
            String printed = out.toString(StandardCharsets.UTF_8);
            assertThat(printed.lines())
                    .singleElement()
                    .asString()
                    .startsWith("tiflink-minicluster ready: pd-addresses=" + cluster.pdAddress());
            assertThat(cluster.storeIds()).hasSize(2);
            try (TiSession session =
                    TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
                assertThat(session.getTimestamp().getVersion()).isPositive();
            }
        }
    }

    @Test
    void servesMutualTlsWithCertificatesMadeInTheTlsDir(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Path tls = dir.resolve("tls");
        try (MiniTiKVCluster cluster =
                MiniClusterMain.start(
                        new String[] {
                            "--pd-port", "0", "--stores", "1", "--tls-dir", tls.toString()
                        },
                        new PrintStream(out, true, StandardCharsets.UTF_8))) {
            TestCertificates certs = TestCertificates.load(tls);
            assertThat(out.toString(StandardCharsets.UTF_8))
                    .contains(
                            "mutual TLS: tikv.trust_cert_collection="
                                    + certs.ca()
                                    + " tikv.key_cert_chain="
                                    + certs.client().certificate()
                                    + " tikv.key_file="
                                    + certs.client().key());
            try (TiSession session =
                    TiSession.create(
                            certs.clientConfiguration(cluster.pdAddress(), certs.client()))) {
                assertThat(session.getTimestamp().getVersion()).isPositive();
            }
            assertThat(cluster.tls()).isNotNull();
        }
    }
}
