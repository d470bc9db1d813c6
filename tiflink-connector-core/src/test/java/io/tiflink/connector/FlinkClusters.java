package io.tiflink.connector;

import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.test.junit5.MiniClusterExtension;

/** The Flink mini cluster the connector's tests run their jobs on. */
public final class FlinkClusters {
    private FlinkClusters() {}

    /** One task manager with {@code slots} slots, for {@code @RegisterExtension}. */
    public static MiniClusterExtension withSlots(int slots) {
        return new MiniClusterExtension(
                new MiniClusterResourceConfiguration.Builder()
                        .setNumberTaskManagers(1)
                        .setNumberSlotsPerTaskManager(slots)
                        .build());
    }
}
