package io.tiflink.minicluster.standalone;

import io.tiflink.minicluster.MiniTiKVCluster;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class MiniClusterMainITCase {

    @Test
    void printsOneReadyLineWithAReachablePdAddress() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MiniTiKVCluster cluster =
                MiniClusterMain.start(
                        new String[] {"--pd-port", "0", "--stores", "2"},
                        new PrintStream(out, true, StandardCharsets.UTF_8))) {
            String printed = out.toString(StandardCharsets.UTF_8);
            assertThat(printed.lines())
                    .singleElement()
                    .asString()
                    .startsWith("tiflink-minicluster ready: pd-addresses=" + cluster.pdAddress());
            assertThat(cluster.storeIds()).hasSize(2);
            try (TiSession session =
                    TiSession.create(TiConfiguration.createDefault(cluster.pdAddress()))) {
                assertThat(session.getTimestamp().getVersion()).isPositive();
            }
        }
    }
}
