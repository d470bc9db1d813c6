package io.tiflink.tikv;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.UnknownFieldSet;

import java.util.List;

/**
 * {@code txn_source}, the origin of a transaction (TiCDC and BR set it; TiDB sets its lossy-DDL
 * bit). The kvproto bundled with tikv-client-java 3.3.5 predates it, so it is read and written as a
 * protobuf unknown field: {@code kvrpcpb.Context.txn_source = 25} on requests and {@code
 * cdcpb.Event.Row.txn_source = 9} on CDC rows (numbers from pingcap/kvproto). A uint64 varint, 0
 * when absent.
 */
public final class TxnSource {
    /** {@code kvrpcpb.Context.txn_source}. */
    static final int CONTEXT_FIELD = 25;

    /** {@code cdcpb.Event.Row.txn_source}. */
    static final int CDC_ROW_FIELD = 9;

    /**
     * The largest mark a replicating writer may put on its transactions: TiDB's {@code
     * tidb_cdc_write_source} takes 0 to 15, and TiCDC's bidirectional mode writes 1.
     */
    public static final long MAX_CDC_WRITE_SOURCE = 15;

    private TxnSource() {}

    public static long of(Kvrpcpb.Context ctx) {
        return read(ctx.getUnknownFields(), CONTEXT_FIELD);
    }

    public static long of(Cdcpb.Event.Row row) {
        return read(row.getUnknownFields(), CDC_ROW_FIELD);
    }

    /**
     * The mark a replicating writer (TiCDC, TiFlink's sink) put on a transaction: the low byte of
     * its {@code txn_source}, as TiDB lays it out (the next byte marks lossy-DDL backfills).
     */
    public static long cdcWriteSource(long txnSource) {
        return txnSource & 0xff;
    }

    /** The context carrying {@code txnSource} (0 removes the field, as proto3 omits it). */
    public static Kvrpcpb.Context with(Kvrpcpb.Context ctx, long txnSource) {
        UnknownFieldSet.Builder fields =
                UnknownFieldSet.newBuilder(ctx.getUnknownFields()).clearField(CONTEXT_FIELD);
        if (txnSource != 0) {
            fields.addField(
                    CONTEXT_FIELD, UnknownFieldSet.Field.newBuilder().addVarint(txnSource).build());
        }
        return ctx.toBuilder().setUnknownFields(fields.build()).build();
    }

    private static long read(UnknownFieldSet fields, int number) {
        if (!fields.hasField(number)) {
            return 0;
        }
        List<Long> values = fields.getField(number).getVarintList();
        // The last value of a repeated scalar wins, as for a known field.
        return values.isEmpty() ? 0 : values.get(values.size() - 1);
    }
}
