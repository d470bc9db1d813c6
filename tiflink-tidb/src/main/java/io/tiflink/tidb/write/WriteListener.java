package io.tiflink.tidb.write;

/**
 * Hears what a {@link TableWriter} (and the {@link SharedTxnWriter}s on it) sends to TiKV, for its
 * caller's metrics. Called in the writing thread, once per batch.
 */
public interface WriteListener {
    /** Hears nothing. */
    WriteListener NONE =
            new WriteListener() {
                @Override
                public void written(int rows, long bytes) {}

                @Override
                public void conflicted() {}
            };

    /**
     * {@code rows} row writes went to TiKV as mutations of {@code bytes} bytes (keys and values,
     * index entries included): prewritten into a shared transaction, or committed in one of their
     * own.
     */
    void written(int rows, long bytes);

    /** A prewrite met a write of another transaction committed after it began. */
    void conflicted();
}
