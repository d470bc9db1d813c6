package io.tiflink.tikv.txn;

import io.tiflink.tikv.Keys;

import org.tikv.kvproto.Kvrpcpb;

/**
 * Another transaction wrote a key after our start ts (or holds a newer lock on it): under snapshot
 * isolation ours cannot commit, as TiDB's optimistic transactions cannot.
 */
public final class WriteConflictException extends TxnException {
    private static final long serialVersionUID = 1L;

    public WriteConflictException(String message) {
        super(message);
    }

    static WriteConflictException of(Kvrpcpb.KeyError e) {
        Kvrpcpb.WriteConflict c = e.getConflict();
        String key = Keys.printable(c.getKey().toByteArray());
        String what =
                c.getConflictCommitTs() == c.getStartTs()
                        ? "transaction " + c.getStartTs() + " was rolled back at key " + key
                        : "transaction "
                                + c.getConflictTs()
                                + " committed key "
                                + key
                                + " at "
                                + c.getConflictCommitTs()
                                + ", after our start ts "
                                + c.getStartTs();
        return new WriteConflictException(
                "write conflict: " + what + " (" + e.getRetryable() + ")");
    }
}
