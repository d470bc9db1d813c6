package io.tiflink.minicluster.txn;

import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.ByteString;

/** A transactional error that TiKV reports in a response's {@code KeyError}. */
public final class KeyErrorException extends RuntimeException {
    private final transient Kvrpcpb.KeyError keyError;

    public KeyErrorException(Kvrpcpb.KeyError keyError) {
        super(keyError.toString(), null, false, false);
        this.keyError = keyError;
    }

    public Kvrpcpb.KeyError keyError() {
        return keyError;
    }

    static KeyErrorException abort(String message) {
        return new KeyErrorException(Kvrpcpb.KeyError.newBuilder().setAbort(message).build());
    }

    static KeyErrorException retryable(String message) {
        return new KeyErrorException(Kvrpcpb.KeyError.newBuilder().setRetryable(message).build());
    }

    static KeyErrorException alreadyExist(byte[] key) {
        return new KeyErrorException(
                Kvrpcpb.KeyError.newBuilder()
                        .setAlreadyExist(
                                Kvrpcpb.AlreadyExist.newBuilder().setKey(ByteString.copyFrom(key)))
                        .build());
    }

    static KeyErrorException locked(Kvrpcpb.LockInfo lock) {
        return new KeyErrorException(Kvrpcpb.KeyError.newBuilder().setLocked(lock).build());
    }
}
