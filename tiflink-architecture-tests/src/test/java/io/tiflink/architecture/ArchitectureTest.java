package io.tiflink.architecture;

import org.apache.flink.annotation.Internal;
import org.apache.flink.annotation.PublicEvolving;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.core.importer.Location;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The rules the shipped modules' classes keep: which modules stay Flink-free, that nothing shipped
 * uses the test bed, that the source and the sink stay apart, how the Flink-free modules layer, and
 * that the Flink modules mark their public classes as API or internal. Only main classes of the
 * shipped modules are imported, from their jars or class folders; never test classes, nor the test
 * bed's own classes.
 */
@AnalyzeClasses(
        packages = "io.tiflink",
        importOptions = {ImportOption.DoNotIncludeTests.class, ArchitectureTest.Shipped.class})
class ArchitectureTest {

    /** The modules a user puts on a classpath, by artifact id. */
    static final List<String> SHIPPED_MODULES =
            List.of(
                    "tiflink-tikv",
                    "tiflink-cdc-client",
                    "tiflink-tidb",
                    "tiflink-catalog",
                    "tiflink-connector-core");

    /**
     * Keeps classes of the shipped modules only: from {@code <module>/target/classes} in a build
     * that stops before packaging, or from the module's jar (in the reactor or the local
     * repository), never its test jar.
     */
    static final class Shipped implements ImportOption {
        private static final Pattern SHIPPED =
                Pattern.compile(
                        ".*/("
                                + String.join("|", SHIPPED_MODULES)
                                + ")(/target/classes/|-\\d[^/]*(?<!-tests)\\.jar!/).*");

        @Override
        public boolean includes(Location location) {
            return location.matches(SHIPPED);
        }
    }

    // ---- 1. Flink-free modules ------------------------------------------------------------------

    @ArchTest
    static final ArchRule FLINK_FREE_MODULES_USE_NO_FLINK =
            noClasses()
                    .that()
                    .resideInAnyPackage(
                            "io.tiflink.cdc..", "io.tiflink.tidb..", "io.tiflink.tikv..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAPackage("org.apache.flink..")
                    .because(
                            "the CDC client, the TiDB library (its write path included) and the"
                                    + " TiKV transaction client are libraries without Flink: they"
                                    + " are used and tested without Flink on the classpath, and"
                                    + " only the connector and the catalog adapt them to Flink's"
                                    + " APIs");

    // ---- 2. The test bed ------------------------------------------------------------------------

    @ArchTest
    static final ArchRule NOTHING_SHIPPED_USES_THE_TEST_BED =
            noClasses()
                    .that()
                    .resideInAPackage("io.tiflink..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAPackage("io.tiflink.minicluster..")
                    .because(
                            "the minicluster (tiflink-minicluster, and tiflink-minicluster-tidb in"
                                    + " io.tiflink.minicluster.tidb) is a fake PD and TiKV for"
                                    + " tests and the playground: a shipped module depends on it"
                                    + " only in test scope, so a main class using it would fail"
                                    + " on a user's classpath");

    // ---- 3. Source and sink ---------------------------------------------------------------------

    private static final String SOURCE = "io.tiflink.connector.source..";
    private static final String SINK = "io.tiflink.connector.sink..";

    @ArchTest
    static final ArchRule THE_SOURCE_DOES_NOT_USE_THE_SINK = halfDoesNotUseTheOther(SOURCE, SINK);

    @ArchTest
    static final ArchRule THE_SINK_DOES_NOT_USE_THE_SOURCE = halfDoesNotUseTheOther(SINK, SOURCE);

    private static ArchRule halfDoesNotUseTheOther(String half, String other) {
        return noClasses()
                .that()
                .resideInAPackage(half)
                .should()
                .dependOnClassesThat()
                .resideInAPackage(other)
                .because(
                        "the source and the sink are independent halves of the connector: what"
                                + " both need lives in io.tiflink.connector or the libraries"
                                + " below it, and only the table factories"
                                + " (io.tiflink.connector.table) put the two together");
    }

    // ---- 4. Layers of the Flink-free modules ----------------------------------------------------

    @ArchTest
    static final ArchRule TIKV_IS_THE_BOTTOM_LAYER =
            noClasses()
                    .that()
                    .resideInAPackage("io.tiflink.tikv..")
                    .should()
                    .dependOnClassesThat(
                            resideInAPackage("io.tiflink..")
                                    .and(resideOutsideOfPackage("io.tiflink.tikv.."))
                                    .as("reside in another io.tiflink package"))
                    .because(
                            "tiflink-tikv (Percolator transactions, GC safe points, key helpers)"
                                    + " is the layer the CDC client, the TiDB library and the"
                                    + " connector build on; it knows none of them");

    @ArchTest
    static final ArchRule THE_CDC_CLIENT_KNOWS_NO_TIDB_NOR_CONNECTOR =
            noClasses()
                    .that()
                    .resideInAPackage("io.tiflink.cdc..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(
                            "io.tiflink.tidb..", "io.tiflink.connector..", "io.tiflink.catalog..")
                    .because(
                            "the CDC client delivers TiKV's key-value changes: decoding them as"
                                    + " TiDB rows is the TiDB library's business and turning them"
                                    + " into Flink records the connector's, which both build on"
                                    + " the client, not the other way round");

    @ArchTest
    static final ArchRule THE_TIDB_LIBRARY_KNOWS_NO_CDC_NOR_CONNECTOR =
            noClasses()
                    .that()
                    .resideInAPackage("io.tiflink.tidb..")
                    .should()
                    .dependOnClassesThat()
                    .resideInAnyPackage(
                            "io.tiflink.cdc..", "io.tiflink.connector..", "io.tiflink.catalog..")
                    .because(
                            "the TiDB library (schema, codecs, the row write path) works on"
                                    + " TiKV alone: the connector joins it with the CDC client,"
                                    + " so neither library depends on the other nor on Flink's"
                                    + " side");

    // ---- 5. The Flink modules' API is marked ----------------------------------------------------

    @ArchTest
    static final ArchRule FLINK_MODULES_MARK_THEIR_PUBLIC_CLASSES =
            classes()
                    .that()
                    .resideInAnyPackage("io.tiflink.connector..", "io.tiflink.catalog..")
                    .and()
                    .arePublic()
                    .and()
                    .areTopLevelClasses()
                    .should()
                    .beAnnotatedWith(PublicEvolving.class)
                    .orShould()
                    .beAnnotatedWith(Internal.class)
                    .because(
                            "as in Flink's own connectors, a user must see which public classes"
                                    + " are API (@PublicEvolving: builders, options,"
                                    + " (de)serialization schemas, factories, the catalog) and"
                                    + " which are public only for other packages (@Internal)");

    // ---- The rules above are not vacuous --------------------------------------------------------

    /** Every package the rules name has classes: the import found each shipped module. */
    @ArchTest
    static void everyShippedModuleIsImported(JavaClasses classes) {
        Set<String> packages =
                classes.stream()
                        .map(JavaClass::getPackageName)
                        .collect(Collectors.toCollection(TreeSet::new));
        for (String expected :
                List.of(
                        "io.tiflink.tikv",
                        "io.tiflink.cdc",
                        "io.tiflink.tidb",
                        "io.tiflink.tidb.write",
                        "io.tiflink.catalog",
                        "io.tiflink.connector",
                        "io.tiflink.connector.source",
                        "io.tiflink.connector.sink",
                        "io.tiflink.connector.table")) {
            assertThat(packages)
                    .as("imported packages")
                    .anyMatch(p -> p.equals(expected) || p.startsWith(expected + "."));
        }
        assertThat(packages).as("imported packages").noneMatch(p -> p.contains(".minicluster"));
    }
}
