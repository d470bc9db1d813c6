package io.tiflink.connector;

import io.tiflink.minicluster.tls.TestCertificates;

import org.apache.flink.configuration.Configuration;

import org.tikv.common.TiConfiguration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TiKVOptionsTest {
    @Test
    void errorsNameTheOptionAtFault() {
        assertThatThrownBy(() -> TiKVOptions.toTiConfiguration(new Configuration()))
                .hasMessageContaining("'pd-addresses' is required");
        assertThatThrownBy(
                        () ->
                                TiKVOptions.toTiConfiguration(
                                        Configuration.fromMap(
                                                Map.of("pd-addresses", "127.0.0.1:2379,oops"))))
                .hasMessageContaining("'pd-addresses' has 'oops'");
        assertThatThrownBy(
                        () ->
                                TiKVOptions.toTiConfiguration(
                                        Configuration.fromMap(
                                                Map.of(
                                                        "pd-addresses", "127.0.0.1:2379",
                                                        "tikv.batch_get_concurrency", "0"))))
                .hasMessageContaining("'tikv.batch_get_concurrency' must be positive");
        assertThatThrownBy(
                        () ->
                                TiKVOptions.toTiConfiguration(
                                        Configuration.fromMap(
                                                Map.of(
                                                        "pd-addresses", "127.0.0.1:2379",
                                                        "tikv.unavailable-timeout", "0 s"))))
                .hasMessageContaining("'tikv.unavailable-timeout' must be positive");
    }

    @Test
    void theUnavailableTimeoutNamesItsOption() {
        assertThat(TiKVOptions.unavailableTimeout(pd()))
                .hasToString("'tikv.unavailable-timeout' = '1 min'");
        Configuration c = pd();
        c.set(TiKVOptions.UNAVAILABLE_TIMEOUT, java.time.Duration.ofMillis(2500));
        assertThat(TiKVOptions.unavailableTimeout(c))
                .hasToString("'tikv.unavailable-timeout' = '2500 ms'");
    }

    @Test
    void tlsTakesTheCaTheClientCertificateAndItsKey(@TempDir Path dir) {
        TestCertificates certs = TestCertificates.create(dir);
        TiConfiguration conf = TiKVOptions.toTiConfiguration(tls(certs));
        assertThat(conf.isTlsEnable()).isTrue();
        assertThat(conf.getTrustCertCollectionFile()).isEqualTo(certs.ca().toString());
        assertThat(conf.getKeyCertChainFile()).isEqualTo(certs.client().certificate().toString());
        assertThat(conf.getKeyFile()).isEqualTo(certs.client().key().toString());
        assertThat(TiKVOptions.toTiConfiguration(pd()).isTlsEnable()).isFalse();
    }

    @Test
    void tlsErrorsNameTheOptionAndTheFile(@TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.create(dir);

        Map<String, String> noKey = tls(certs).toMap();
        noKey.remove("tikv.key_file");
        assertThatThrownBy(() -> TiKVOptions.toTiConfiguration(Configuration.fromMap(noKey)))
                .hasMessage(
                        "option 'tikv.key_file' is required when 'tikv.tls_enable' is true (TLS"
                                + " needs tikv.trust_cert_collection, tikv.key_cert_chain,"
                                + " tikv.key_file)");

        Map<String, String> off = tls(certs).toMap();
        off.put("tikv.tls_enable", "false");
        assertThatThrownBy(() -> TiKVOptions.toTiConfiguration(Configuration.fromMap(off)))
                .hasMessageStartingWith(
                        "option 'tikv.trust_cert_collection' is set but 'tikv.tls_enable' is"
                                + " false");

        Path missing = dir.resolve("nope.pem");
        Configuration missingCa = tls(certs);
        missingCa.setString("tikv.trust_cert_collection", missing.toString());
        assertThatThrownBy(() -> TiKVOptions.toTiConfiguration(missingCa))
                .hasMessage(
                        "option 'tikv.trust_cert_collection': file '"
                                + missing
                                + "' does not exist");

        Configuration keyAsChain = tls(certs);
        keyAsChain.setString("tikv.key_cert_chain", certs.client().key().toString());
        assertThatThrownBy(() -> TiKVOptions.toTiConfiguration(keyAsChain))
                .hasMessage(
                        "option 'tikv.key_cert_chain': '"
                                + certs.client().key()
                                + "' has no -----BEGIN CERTIFICATE-----");

        Path pkcs1 = dir.resolve("rsa-key.pem");
        Files.write(
                pkcs1,
                "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n"
                        .getBytes(StandardCharsets.US_ASCII));
        Configuration rsaKey = tls(certs);
        rsaKey.setString("tikv.key_file", pkcs1.toString());
        assertThatThrownBy(() -> TiKVOptions.toTiConfiguration(rsaKey))
                .hasMessageStartingWith(
                        "option 'tikv.key_file': '"
                                + pkcs1
                                + "' has no -----BEGIN PRIVATE KEY-----: tikv-client-java reads"
                                + " PKCS#8 PEM keys");

        Configuration directory = tls(certs);
        directory.setString("tikv.key_file", dir.toString());
        assertThatThrownBy(() -> TiKVOptions.toTiConfiguration(directory))
                .hasMessage("option 'tikv.key_file': '" + dir + "' is not a readable file");
    }

    private static Configuration pd() {
        return Configuration.fromMap(Map.of("pd-addresses", "127.0.0.1:2379"));
    }

    private static Configuration tls(TestCertificates certs) {
        Map<String, String> m = new HashMap<>(pd().toMap());
        m.put("tikv.tls_enable", "true");
        m.put("tikv.trust_cert_collection", certs.ca().toString());
        m.put("tikv.key_cert_chain", certs.client().certificate().toString());
        m.put("tikv.key_file", certs.client().key().toString());
        return Configuration.fromMap(m);
    }
}
