package io.tiflink.minicluster.grpc;

import org.tikv.shade.io.grpc.netty.GrpcSslContexts;
import org.tikv.shade.io.netty.handler.ssl.ClientAuth;
import org.tikv.shade.io.netty.handler.ssl.SslContext;
import org.tikv.shade.io.netty.handler.ssl.SslContextBuilder;

import javax.net.ssl.SSLException;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Mutual TLS for the minicluster's PD and stores, as TiKV and PD serve it with {@code
 * security.ca-path}, {@code cert-path} and {@code key-path}: the server's certificate chain and
 * key, and the CA whose certificates clients must present.
 */
public final class ServerTls {
    private final Path trustedCa;
    private final Path certChain;
    private final Path key;

    /**
     * @param trustedCa PEM certificates of the CAs whose client certificates are accepted
     * @param certChain the server's PEM certificate chain
     * @param key the server's PEM private key (PKCS#8)
     */
    public ServerTls(Path trustedCa, Path certChain, Path key) {
        for (Path p : new Path[] {trustedCa, certChain, key}) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("TLS file " + p + " is not readable");
            }
        }
        this.trustedCa = trustedCa;
        this.certChain = certChain;
        this.key = key;
    }

    /** A server context that refuses clients without a certificate signed by the trusted CA. */
    SslContext serverContext() {
        try {
            return GrpcSslContexts.configure(
                            SslContextBuilder.forServer(certChain.toFile(), key.toFile()))
                    .trustManager(trustedCa.toFile())
                    .clientAuth(ClientAuth.REQUIRE)
                    .build();
        } catch (SSLException e) {
            throw new UncheckedIOException("cannot serve TLS with " + this, e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cannot serve TLS with " + this, e);
        }
    }

    @Override
    public String toString() {
        return "ca " + trustedCa + ", certificate " + certChain + ", key " + key;
    }
}
