package io.tiflink.cdc.client;

/** A subscription failed and cannot go on. */
public class CdcException extends RuntimeException {
    public CdcException(String message) {
        super(message);
    }

    public CdcException(String message, Throwable cause) {
        super(message, cause);
    }
}
