package io.tiflink.tikv;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tls.TestCertificates;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/** {@link Sessions#open} against a cluster serving mutual TLS, and at addresses where no PD is. */
class SessionsITCase {
    private static final TestCertificates CERTS = TestCertificates.createTemporary();

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).tls(CERTS.serverTls()));

    // The probe gives each address 5 s; tikv-client-java, when the probe passes, 5 s of retries.
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

    @Test
    void aClosedPortIsRefused() throws IOException {
        String address = closedPort();
        assertTimeoutPreemptively(
                BOUND,
                () ->
                        assertThatThrownBy(
                                        () -> Sessions.open(TiConfiguration.createDefault(address)))
                                .isInstanceOf(PdUnreachableException.class)
                                .hasMessage(
                                        "cannot reach PD at " + address + ": connection refused"));
    }

    @Test
    void aServerThatSaysNothingTimesOut() throws IOException {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = acceptor(silent, accepted::add);
            String address = "127.0.0.1:" + silent.getLocalPort();
            assertTimeoutPreemptively(
                    BOUND,
                    () ->
                            assertThatThrownBy(
                                            () ->
                                                    Sessions.open(
                                                            TiConfiguration.createDefault(address)))
                                    .isInstanceOf(PdUnreachableException.class)
                                    .hasMessageStartingWith(
                                            "cannot reach PD at " + address + ": timed out"));
            acceptor.interrupt();
        }
    }

    @Test
    void anHttpServerIsNotAPd() throws IOException {
        try (ServerSocket http = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor =
                    acceptor(
                            http,
                            s -> {
                                try (Socket socket = s;
                                        OutputStream out = socket.getOutputStream()) {
                                    out.write(
                                            "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                                                    .getBytes(StandardCharsets.US_ASCII));
                                } catch (IOException e) {
                                    // the client went away: nothing to answer
                                }
                            });
            String address = "127.0.0.1:" + http.getLocalPort();
            assertTimeoutPreemptively(
                    BOUND,
                    () ->
                            assertThatThrownBy(
                                            () ->
                                                    Sessions.open(
                                                            TiConfiguration.createDefault(address)))
                                    .isInstanceOf(PdUnreachableException.class)
                                    .hasMessageStartingWith(
                                            "cannot reach PD at " + address + ": not a PD"));
            acceptor.interrupt();
        }
    }

    @Test
    void theOptionNamingTheAddressesLeadsTheMessage() throws IOException {
        String address = closedPort();
        assertThatThrownBy(
                        () -> {
                            try {
                                Sessions.open(TiConfiguration.createDefault(address));
                            } catch (PdUnreachableException e) {
                                throw e.forOption("pd-addresses");
                            }
                        })
                .hasMessage(
                        "'pd-addresses' = '"
                                + address
                                + "': cannot reach PD at "
                                + address
                                + ": connection refused");
    }

    /** An address nothing listens at: a port just given up. */
    private static String closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            return "127.0.0.1:" + s.getLocalPort();
        }
    }

    private interface Connection {
        void accepted(Socket socket);
    }

    private static Thread acceptor(ServerSocket server, Connection onAccept) {
        Thread t =
                new Thread(
                        () -> {
                            while (!server.isClosed()) {
                                try {
                                    onAccept.accepted(server.accept());
                                } catch (IOException e) {
                                    return; // closed
                                }
                            }
                        },
                        "acceptor");
        t.setDaemon(true);
        t.start();
        return t;
    }
}
