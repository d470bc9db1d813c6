package io.tiflink.tikv.gc;

/**
 * TiKV's GC has passed the timestamp a reader needs: the versions after it may be collected, so
 * reading from there again cannot help.
 */
public final class GcSafePointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GcSafePointException(String message) {
        super(message);
    }
}
