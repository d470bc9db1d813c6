package io.tiflink.tidb.codec;

/** Bytes that are not a valid TiDB encoding, or a value that cannot be encoded. */
public class CodecException extends RuntimeException {
    public CodecException(String message) {
        super(message);
    }

    public CodecException(String message, Throwable cause) {
        super(message, cause);
    }
}
