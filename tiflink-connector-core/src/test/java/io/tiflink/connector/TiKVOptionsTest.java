package io.tiflink.connector;

import org.apache.flink.configuration.Configuration;

import org.junit.jupiter.api.Test;

import java.util.Map;

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
    }
}
