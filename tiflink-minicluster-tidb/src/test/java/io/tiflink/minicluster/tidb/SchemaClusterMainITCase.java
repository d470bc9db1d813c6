package io.tiflink.minicluster.tidb;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tls.TestCertificates;
import io.tiflink.tidb.meta.MetaReader;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class SchemaClusterMainITCase {
    @Test
    void startsTheClusterWithTheSchema(@TempDir Path dir) throws Exception {
        Path schema = dir.resolve("schema.sql");
        Files.writeString(
                schema,
                "CREATE DATABASE app;\nCREATE TABLE app.users (id INT PRIMARY KEY, name VARCHAR(20));\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MiniTiKVCluster cluster =
                SchemaClusterMain.start(
                        new String[] {
                            "--pd-port", "0", "--stores", "1", "--schema", schema.toString()
                        },
                        new PrintStream(out, true, StandardCharsets.UTF_8))) {
            String printed = out.toString(StandardCharsets.UTF_8);
            assertThat(printed)
                    .contains("tiflink-minicluster ready: pd-addresses=" + cluster.pdAddress());
            assertThat(printed)
                    .contains(
                            "tiflink-minicluster schema ready: 1 databases, 1 tables from "
                                    + schema);
            try (TiSession session =
                    TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
                assertThat(MetaReader.latest(session).table("app", "users").pkIsHandle).isTrue();
            }
        }
    }

    @Test
    void writesTheSchemaOverTlsWithTheClientCertificateItMade(@TempDir Path dir) throws Exception {
        Path schema = dir.resolve("schema.sql");
        Files.writeString(
                schema, "CREATE DATABASE app;\nCREATE TABLE app.t (id INT PRIMARY KEY);\n");
        Path tls = dir.resolve("tls");
        try (MiniTiKVCluster cluster =
                SchemaClusterMain.start(
                        new String[] {
                            "--pd-port",
                            "0",
                            "--stores",
                            "1",
                            "--tls-dir",
                            tls.toString(),
                            "--schema",
                            schema.toString()
                        },
                        new PrintStream(
                                new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))) {
            TestCertificates certs = TestCertificates.load(tls);
            try (TiSession session =
                    TiSession.create(
                            certs.clientConfiguration(cluster.pdAddress(), certs.client()))) {
                assertThat(MetaReader.latest(session).table("app", "t")).isNotNull();
            }
        }
    }
}
