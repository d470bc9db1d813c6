package io.tiflink.minicluster.codec;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.UnknownFieldSet;

import java.util.List;

/**
 * {@code txn_source}, the origin of a transaction (TiCDC and BR set it; TiDB sets its lossy-DDL
 * bit), which the kvproto bundled with tikv-client-java 3.3.5 predates. It travels as a protobuf
 * unknown field: {@code kvrpcpb.Context.txn_source = 25} on requests and {@code
 * cdcpb.Event.Row.txn_source = 9} on CDC rows (pingcap/kvproto). A uint64 varint, 0 when absent.
 */
public final class TxnSource {
    /** {@code kvrpcpb.Context.txn_source}. */
    public static final int CONTEXT_FIELD = 25;

    /** {@code cdcpb.Event.Row.txn_source}. */
    public static final int CDC_ROW_FIELD = 9;

    private TxnSource() {}

    public static long of(Kvrpcpb.Context ctx) {
        return read(ctx.getUnknownFields(), CONTEXT_FIELD);
    }

    public static long of(Cdcpb.Event.Row row) {
        return read(row.getUnknownFields(), CDC_ROW_FIELD);
    }

    /** The context carrying {@code txnSource} (0 removes the field, as proto3 omits it). */
    public static Kvrpcpb.Context with(Kvrpcpb.Context ctx, long txnSource) {
        return ctx.toBuilder()
                .setUnknownFields(write(ctx.getUnknownFields(), CONTEXT_FIELD, txnSource))
                .build();
    }

    /** Sets {@code txnSource} on a CDC row being built. */
    public static Cdcpb.Event.Row.Builder set(Cdcpb.Event.Row.Builder row, long txnSource) {
        return row.setUnknownFields(write(row.getUnknownFields(), CDC_ROW_FIELD, txnSource));
    }

    private static long read(UnknownFieldSet fields, int number) {
        if (!fields.hasField(number)) {
            return 0;
        }
        List<Long> values = fields.getField(number).getVarintList();
        // The last value of a repeated scalar wins, as for a known field.
        return values.isEmpty() ? 0 : values.get(values.size() - 1);
    }

    private static UnknownFieldSet write(UnknownFieldSet fields, int number, long value) {
        UnknownFieldSet.Builder b = UnknownFieldSet.newBuilder(fields).clearField(number);
        if (value != 0) {
            b.addField(number, UnknownFieldSet.Field.newBuilder().addVarint(value).build());
        }
        return b.build();
    }
}
