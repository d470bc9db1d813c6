package io.tiflink.tidb.write;

/**
 * A row the TiDB table cannot take — a value its column cannot hold, a NULL for a NOT NULL column,
 * a duplicate unique key of an INSERT, a row larger than an entry may be — as TiDB's strict SQL
 * mode refuses it. Writing it again fails the same way: a data error, not a failure to retry.
 */
public final class RowRejectedException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    // Not sent with the job's failure: the message names the row.
    private final transient RowWrite write;

    RowRejectedException(String message) {
        this(message, null);
    }

    private RowRejectedException(String message, RowWrite write) {
        super(message);
        this.write = write;
    }

    /** The change refused, as it was handed to the writer; null if not known. */
    public RowWrite write() {
        return write;
    }

    /** This error, naming {@code w} as the change refused (unless it names one already). */
    RowRejectedException of(RowWrite w) {
        if (write != null) {
            return this;
        }
        RowRejectedException e = new RowRejectedException(getMessage(), w);
        e.setStackTrace(getStackTrace());
        return e;
    }
}
