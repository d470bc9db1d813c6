package io.tiflink.minicluster.storage;

import java.util.List;

/**
 * Sees every applied write batch, in apply order, while the engine's write latch is held: so an
 * observer that registers under the latch sees exactly the batches applied after it (the CDC
 * "subscribe and snapshot atomically" contract). Must not block.
 */
@FunctionalInterface
public interface ApplyObserver {
    void onApply(long applyIndex, List<Modify> batch);
}
