package io.tiflink.sql.connector.tikv;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the built jar holds: TiFlink, tikv-client-java and relocated third-party packages, and
 * nothing a Flink installation brings itself. Fails the build when a dependency adds a package that
 * no relocation covers.
 */
class SqlConnectorJarContentsTest {

    static final Path JAR = Path.of(System.getProperty("tiflink.sqlConnectorJar"));

    private static List<String> files;

    @BeforeAll
    static void readJar() throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            files =
                    jar.stream()
                            .filter(e -> !e.isDirectory())
                            .map(e -> e.getName())
                            .collect(Collectors.toList());
        }
    }

    @Test
    void everyFileIsTiFlinksTiKVClientsOrRelocated() {
        List<String> outside =
                files.stream()
                        .filter(f -> !isTiFlinksTiKVClientsOrMeta(f))
                        .collect(Collectors.toList());
        assertThat(outside)
                .as("files outside io/tiflink/, org/tikv/ and META-INF/: relocate or exclude them")
                .isEmpty();
    }

    @Test
    void bundlesTiFlinksModulesAndTiKVClient() {
        assertThat(files)
                .anyMatch(f -> f.startsWith("io/tiflink/connector/"))
                .anyMatch(f -> f.startsWith("io/tiflink/catalog/"))
                .anyMatch(f -> f.startsWith("io/tiflink/tidb/"))
                .anyMatch(f -> f.startsWith("io/tiflink/cdc/"))
                .anyMatch(f -> f.startsWith("io/tiflink/tikv/"))
                .contains("org/tikv/common/TiSession.class");
    }

    @Test
    void leavesOutTheTestBedFlinkAndLogging() {
        assertThat(files)
                .noneMatch(f -> f.startsWith("io/tiflink/minicluster/"))
                .noneMatch(f -> f.contains("org/apache/flink/"))
                .noneMatch(f -> f.contains("org/slf4j/"))
                .noneMatch(f -> f.contains("org/apache/logging/"));
    }

    @Test
    void mergesTheConnectorsAndTheCatalogsFactories() throws IOException {
        assertThat(read("META-INF/services/org.apache.flink.table.factories.Factory"))
                .contains(
                        "io.tiflink.connector.table.TiKVDynamicTableSourceFactory",
                        "io.tiflink.connector.table.TiKVDynamicTableSinkFactory",
                        "io.tiflink.catalog.TiDBCatalogFactory");
    }

    @Test
    void carriesItsLicenseAndNotice() throws IOException {
        assertThat(read("META-INF/LICENSE")).contains("Apache License");
        assertThat(read("META-INF/NOTICE"))
                .contains("tiflink-sql-connector-tikv", "org.tikv:tikv-client-java:3.3.5");
    }

    /** A multi-release jar's versioned classes follow the same rule as the others. */
    private static boolean isTiFlinksTiKVClientsOrMeta(String file) {
        String path = file.replaceFirst("^META-INF/versions/\\d+/", "");
        return path.startsWith("io/tiflink/")
                || path.startsWith("org/tikv/")
                || (path.startsWith("META-INF/") && path.equals(file));
    }

    private static String read(String file) throws IOException {
        try (JarFile jar = new JarFile(JAR.toFile())) {
            return new String(
                    jar.getInputStream(jar.getEntry(file)).readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
