package io.tiflink.connector;

import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.configuration.Configuration;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class TiKVOptionsITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @Test
    void configurationReachesTheCluster() throws Exception {
        Configuration options =
                Configuration.fromMap(
                        Map.of(
                                "pd-addresses", TIKV.cluster().pdAddress(),
                                "tikv.grpc.timeout_in_ms", "1500",
                                "tikv.batch_scan_concurrency", "3"));
        TiConfiguration conf = TiKVOptions.toTiConfiguration(options);
        assertThat(conf.getTimeout()).isEqualTo(1500);
        assertThat(conf.getBatchScanConcurrency()).isEqualTo(3);
        try (TiSession session = TiSession.create(conf)) {
            long first = session.getTimestamp().getVersion();
            assertThat(session.getTimestamp().getVersion()).isGreaterThan(first);
        }
    }
}
