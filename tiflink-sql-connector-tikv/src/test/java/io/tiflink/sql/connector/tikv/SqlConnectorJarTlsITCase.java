package io.tiflink.sql.connector.tikv;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;
import io.tiflink.minicluster.tls.TestCertificates;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.InvocationTargetException;
import java.net.URLClassLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The jar's TLS client (tikv-client-java's relocated gRPC and netty, with the JDK's TLS) reaches a
 * cluster serving mutual TLS, loaded next to Flink alone.
 */
class SqlConnectorJarTlsITCase {
    private static final TestCertificates CERTS = TestCertificates.createTemporary();

    @RegisterExtension
    static final MiniTiKVExtension TIKV =
            new MiniTiKVExtension(b -> b.stores(1).tls(CERTS.serverTls()));

    @Test
    void opensASessionOverMutualTls(MiniTiKVCluster cluster) throws Exception {
        try (URLClassLoader jar = SqlConnectorJarAloneTest.jarNextToFlink()) {
            try (AutoCloseable session = open(jar, cluster, CERTS.client())) {
                assertThat(session.getClass().getProtectionDomain().getCodeSource().getLocation())
                        .isEqualTo(SqlConnectorJarContentsTest.JAR.toUri().toURL());
                Object ts = session.getClass().getMethod("getTimestamp").invoke(session);
                assertThat((long) ts.getClass().getMethod("getVersion").invoke(ts)).isPositive();
            }
            assertThatThrownBy(() -> open(jar, cluster, CERTS.otherClient()))
                    .isInstanceOf(InvocationTargetException.class)
                    .cause()
                    .hasMessageStartingWith(
                            "TLS handshake failed with PD at " + cluster.pdAddress());
        }
    }

    /** {@code Sessions.open} from the jar, with a TLS configuration of the jar's classes. */
    private static AutoCloseable open(
            ClassLoader jar, MiniTiKVCluster cluster, TestCertificates.Issued client)
            throws Exception {
        Class<?> confClass = jar.loadClass("org.tikv.common.TiConfiguration");
        Object conf =
                confClass
                        .getMethod("createDefault", String.class)
                        .invoke(null, cluster.pdAddress());
        confClass.getMethod("setTlsEnable", boolean.class).invoke(conf, true);
        confClass
                .getMethod("setTrustCertCollectionFile", String.class)
                .invoke(conf, CERTS.ca().toString());
        confClass
                .getMethod("setKeyCertChainFile", String.class)
                .invoke(conf, client.certificate().toString());
        confClass.getMethod("setKeyFile", String.class).invoke(conf, client.key().toString());
        return (AutoCloseable)
                jar.loadClass("io.tiflink.tikv.Sessions")
                        .getMethod("open", confClass)
                        .invoke(null, conf);
    }
}
