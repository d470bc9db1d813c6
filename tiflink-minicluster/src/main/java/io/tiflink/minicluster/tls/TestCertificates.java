package io.tiflink.minicluster.tls;

import io.tiflink.minicluster.grpc.GrpcServers;
import io.tiflink.minicluster.grpc.ServerTls;

import org.tikv.common.TiConfiguration;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Certificates for a minicluster served over mutual TLS, made on the spot as PEM files in a
 * directory: a CA, a server certificate for {@code localhost} and {@value GrpcServers#HOST} signed
 * by it, a client certificate signed by it, and a second CA with a client certificate of its own
 * that the cluster refuses. Keys are PKCS#8 PEM, as tikv-client-java reads them.
 */
public final class TestCertificates {
    private static final String CA = "ca.pem";
    private static final String SERVER = "server";
    private static final String CLIENT = "client";
    private static final String OTHER_CA = "other-ca.pem";
    private static final String OTHER_CLIENT = "other-client";

    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A certificate and its private key, as PEM files. */
    public static final class Issued {
        private final Path certificate;
        private final Path key;

        private Issued(Path certificate, Path key) {
            this.certificate = certificate;
            this.key = key;
        }

        public Path certificate() {
            return certificate;
        }

        public Path key() {
            return key;
        }
    }

    private final Path ca;
    private final Issued server;
    private final Issued client;
    private final Path otherCa;
    private final Issued otherClient;

    private TestCertificates(
            Path ca, Issued server, Issued client, Path otherCa, Issued otherClient) {
        this.ca = ca;
        this.server = server;
        this.client = client;
        this.otherCa = otherCa;
        this.otherClient = otherClient;
    }

    /** Makes the certificates and writes them into {@code dir} (which must exist). */
    public static TestCertificates create(Path dir) {
        try {
            KeyPair caKeys = keyPair();
            X500Name caName = new X500Name("CN=TiFlink test CA");
            Path ca = write(dir.resolve(CA), certificate(caName, caKeys, caName, caKeys, true));
            Issued server = issue(dir, SERVER, caName, caKeys, new X500Name("CN=localhost"), true);
            Issued client =
                    issue(dir, CLIENT, caName, caKeys, new X500Name("CN=tiflink-client"), false);

            KeyPair otherKeys = keyPair();
            X500Name otherName = new X500Name("CN=Other test CA");
            Path otherCa =
                    write(
                            dir.resolve(OTHER_CA),
                            certificate(otherName, otherKeys, otherName, otherKeys, true));
            Issued otherClient =
                    issue(
                            dir,
                            OTHER_CLIENT,
                            otherName,
                            otherKeys,
                            new X500Name("CN=tiflink-client"),
                            false);
            return new TestCertificates(ca, server, client, otherCa, otherClient);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write certificates into " + dir, e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot make test certificates", e);
        }
    }

    /** The certificates {@link #create} wrote into {@code dir} earlier. */
    public static TestCertificates load(Path dir) {
        TestCertificates certs =
                new TestCertificates(
                        dir.resolve(CA),
                        issued(dir, SERVER),
                        issued(dir, CLIENT),
                        dir.resolve(OTHER_CA),
                        issued(dir, OTHER_CLIENT));
        for (Path p :
                List.of(
                        certs.ca,
                        certs.server.certificate,
                        certs.server.key,
                        certs.client.certificate,
                        certs.client.key,
                        certs.otherCa,
                        certs.otherClient.certificate,
                        certs.otherClient.key)) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("no certificate file " + p);
            }
        }
        return certs;
    }

    private static Issued issued(Path dir, String name) {
        return new Issued(dir.resolve(name + ".pem"), dir.resolve(name + "-key.pem"));
    }

    /** Makes the certificates in a fresh temporary directory, removed when the JVM exits. */
    public static TestCertificates createTemporary() {
        try {
            Path dir = Files.createTempDirectory("tiflink-tls");
            dir.toFile().deleteOnExit();
            TestCertificates certs = create(dir);
            try (Stream<Path> files = Files.list(dir)) {
                files.forEach(f -> f.toFile().deleteOnExit());
            }
            return certs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make a temporary directory", e);
        }
    }

    /** The CA that signed the server's and the client's certificates. */
    public Path ca() {
        return ca;
    }

    /** The server's certificate (SAN localhost and {@value GrpcServers#HOST}). */
    public Issued server() {
        return server;
    }

    /** A client certificate signed by {@link #ca()}. */
    public Issued client() {
        return client;
    }

    /** A CA the cluster does not trust. */
    public Path otherCa() {
        return otherCa;
    }

    /** A client certificate signed by {@link #otherCa()}: the cluster refuses it. */
    public Issued otherClient() {
        return otherClient;
    }

    /** The cluster's side: serve {@link #server()}, accept clients signed by {@link #ca()}. */
    public ServerTls serverTls() {
        return new ServerTls(ca, server.certificate(), server.key());
    }

    /** A tikv-client-java configuration reaching {@code pdAddress} over TLS as {@code client}. */
    public TiConfiguration clientConfiguration(String pdAddress, Issued client) {
        TiConfiguration conf = TiConfiguration.createDefault(pdAddress);
        conf.setTlsEnable(true);
        conf.setTrustCertCollectionFile(ca.toString());
        conf.setKeyCertChainFile(client.certificate().toString());
        conf.setKeyFile(client.key().toString());
        return conf;
    }

    private static Issued issue(
            Path dir,
            String name,
            X500Name issuer,
            KeyPair issuerKeys,
            X500Name subject,
            boolean server)
            throws IOException, GeneralSecurityException, OperatorCreationException {
        KeyPair keys = keyPair();
        // The JDK encodes private keys as PKCS#8, the PEM tikv-client-java (netty) reads.
        X509CertificateHolder cert = certificate(subject, keys, issuer, issuerKeys, false, server);
        Issued files = issued(dir, name);
        write(files.certificate, cert);
        writePem(files.key, "PRIVATE KEY", keys.getPrivate().getEncoded());
        return files;
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(256);
        return g.generateKeyPair();
    }

    private static X509CertificateHolder certificate(
            X500Name subject, KeyPair keys, X500Name issuer, KeyPair issuerKeys, boolean ca)
            throws CertIOException, OperatorCreationException {
        return certificate(subject, keys, issuer, issuerKeys, ca, false);
    }

    private static X509CertificateHolder certificate(
            X500Name subject,
            KeyPair keys,
            X500Name issuer,
            KeyPair issuerKeys,
            boolean ca,
            boolean server)
            throws CertIOException, OperatorCreationException {
        Instant now = Instant.now();
        JcaX509v3CertificateBuilder b =
                new JcaX509v3CertificateBuilder(
                        issuer,
                        BigInteger.valueOf(SERIAL.incrementAndGet()),
                        Date.from(now.minus(Duration.ofHours(1))),
                        Date.from(now.plus(Duration.ofDays(2))),
                        subject,
                        keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (ca) {
            b.addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        } else {
            b.addExtension(
                    Extension.keyUsage,
                    true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
            b.addExtension(
                    Extension.extendedKeyUsage,
                    false,
                    new ExtendedKeyUsage(
                            server
                                    ? KeyPurposeId.id_kp_serverAuth
                                    : KeyPurposeId.id_kp_clientAuth));
        }
        if (server) {
            b.addExtension(
                    Extension.subjectAlternativeName,
                    false,
                    new GeneralNames(
                            new GeneralName[] {
                                new GeneralName(GeneralName.dNSName, "localhost"),
                                new GeneralName(GeneralName.iPAddress, GrpcServers.HOST)
                            }));
        }
        return b.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate()));
    }

    private static Path write(Path file, X509CertificateHolder cert) throws IOException {
        return writePem(file, "CERTIFICATE", cert.getEncoded());
    }

    private static Path writePem(Path file, String type, byte[] der) throws IOException {
        String pem =
                "-----BEGIN "
                        + type
                        + "-----\n"
                        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                        + "\n-----END "
                        + type
                        + "-----\n";
        return Files.write(file, pem.getBytes(StandardCharsets.US_ASCII));
    }
}
