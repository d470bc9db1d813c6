package io.tiflink.minicluster.region;

import java.util.List;

/** Told of every change to the region table, after it is made. */
public interface RegionListener {
    /** A region split: {@code before} is gone in its old form, {@code after} tiles its range. */
    default void onSplit(Region before, List<Region> after) {}

    /** {@code source} was merged into {@code target}, which now covers both ranges. */
    default void onMerge(Region source, Region target) {}

    /** The leader of a region moved to another store. */
    default void onLeaderChange(Region before, Region after) {}
}
