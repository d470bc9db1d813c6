package io.tiflink.sql.connector.tikv;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The jar works alone next to Flink: a class loader over only the jar and Flink's jars (the test
 * class path without TiFlink's modules, tikv-client-java and Jackson) finds the {@code tikv}
 * connector and the {@code tidb} catalog as Flink does, and tikv-client-java's relocated
 * dependencies link.
 */
class SqlConnectorJarAloneTest {

    private static URL jar;
    private static URLClassLoader jarAndFlink;

    @BeforeAll
    static void loadJarNextToFlink() throws IOException {
        jar = SqlConnectorJarContentsTest.JAR.toUri().toURL();
        jarAndFlink = jarNextToFlink();
    }

    /** A class loader over the jar and Flink's jars alone. */
    static URLClassLoader jarNextToFlink() throws IOException {
        List<URL> urls = new ArrayList<>();
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (isFlinks(Path.of(entry))) {
                urls.add(Path.of(entry).toUri().toURL());
            }
        }
        // Last, so that a TiFlink class the filter let through would be found first.
        urls.add(SqlConnectorJarContentsTest.JAR.toUri().toURL());
        return new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
    }

    @AfterAll
    static void close() throws IOException {
        jarAndFlink.close();
    }

    @Test
    void flinkFindsTheConnectorAndTheCatalogInTheJar() throws Exception {
        assertThat(discover("DynamicTableSourceFactory", "tikv"))
                .isEqualTo("io.tiflink.connector.table.TiKVDynamicTableSourceFactory");
        assertThat(discover("DynamicTableSinkFactory", "tikv"))
                .isEqualTo("io.tiflink.connector.table.TiKVDynamicTableSinkFactory");
        assertThat(discover("CatalogFactory", "tidb"))
                .isEqualTo("io.tiflink.catalog.TiDBCatalogFactory");
    }

    @Test
    void tikvClientLinksWithItsRelocatedDependencies() throws Exception {
        // The service protos import kvproto's protos without a Java package, now relocated.
        Object tikvpb =
                Class.forName("org.tikv.kvproto.Tikvpb", true, jarAndFlink)
                        .getMethod("getDescriptor")
                        .invoke(null);
        assertThat(tikvpb.getClass().getName())
                .isEqualTo("org.tikv.shade.com.google.protobuf.Descriptors$FileDescriptor");
        Object configuration =
                jarAndFlink
                        .loadClass("org.tikv.common.TiConfiguration")
                        .getMethod("createDefault", String.class)
                        .invoke(null, "127.0.0.1:2379");
        assertThat(configuration.getClass().getProtectionDomain().getCodeSource().getLocation())
                .isEqualTo(jar);
    }

    /** The factory Flink's {@code FactoryUtil} discovers, checked to come from the jar. */
    private static String discover(String factoryInterface, String identifier) throws Exception {
        Class<?> factoryUtil =
                jarAndFlink.loadClass("org.apache.flink.table.factories.FactoryUtil");
        Method discoverFactory =
                factoryUtil.getMethod(
                        "discoverFactory", ClassLoader.class, Class.class, String.class);
        Object factory =
                discoverFactory.invoke(
                        null,
                        jarAndFlink,
                        jarAndFlink.loadClass(
                                "org.apache.flink.table.factories." + factoryInterface),
                        identifier);
        assertThat(factory.getClass().getProtectionDomain().getCodeSource().getLocation())
                .isEqualTo(jar);
        return factory.getClass().getName();
    }

    /** Flink and its dependencies, not what the jar bundles nor the tests' classes. */
    private static boolean isFlinks(Path entry) {
        String path = entry.toString().replace(File.separatorChar, '/');
        return !Files.isDirectory(entry)
                && !entry.getFileName().toString().startsWith("tiflink-")
                && !path.contains("/org/tikv/")
                && !path.contains("/com/fasterxml/jackson/");
    }
}
