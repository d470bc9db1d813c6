package io.tiflink.connector;

import io.tiflink.connector.lookup.TiKVLookupOptions;
import io.tiflink.connector.sink.TiKVSinkOptions;
import io.tiflink.connector.source.TiKVSourceOptions;
import io.tiflink.connector.table.TiKVDynamicTableSinkFactory;
import io.tiflink.connector.table.TiKVDynamicTableSourceFactory;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.table.factories.Factory;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static io.tiflink.connector.testutils.OptionsDocs.assertDocuments;
import static io.tiflink.connector.testutils.OptionsDocs.declared;
import static io.tiflink.connector.testutils.OptionsDocs.ownOptions;

/**
 * Each option of the connector is documented once, with its default, in docs/ (see {@link
 * io.tiflink.connector.testutils.OptionsDocs} for how defaults are written), and the docs' option
 * tables list no other option.
 */
class OptionsDocumentedTest {
    private static final Factory SOURCE = new TiKVDynamicTableSourceFactory();
    private static final Factory SINK = new TiKVDynamicTableSinkFactory();

    @Test
    void sharedOptionsInConnectorOptionsMd() {
        Set<ConfigOption<?>> required = new HashSet<>(SOURCE.requiredOptions());
        required.addAll(SINK.requiredOptions());
        assertDocuments("connector-options.md", declared(TiKVOptions.class), required);
    }

    @Test
    void sourceOptionsInSourceMd() {
        Set<ConfigOption<?>> options = ownOptions(TiKVSourceOptions.class, SOURCE);
        options.removeAll(lookupOptions());
        assertDocuments("source.md", options, SOURCE.requiredOptions());
    }

    @Test
    void lookupOptionsInLookupMd() {
        assertDocuments("lookup.md", lookupOptions(), SOURCE.requiredOptions());
    }

    /** The lookup options the source factory takes: ours and Flink's (FLIP-221). */
    private static Set<ConfigOption<?>> lookupOptions() {
        Set<ConfigOption<?>> options = declared(TiKVLookupOptions.class);
        for (ConfigOption<?> o : SOURCE.optionalOptions()) {
            if (o.key().startsWith("lookup.")) {
                options.add(o);
            }
        }
        return options;
    }

    @Test
    void sinkOptionsInSinkMd() {
        assertDocuments("sink.md", ownOptions(TiKVSinkOptions.class, SINK), SINK.requiredOptions());
    }
}
