package io.tiflink.tikv;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.Kvrpcpb;
import org.tikv.shade.com.google.protobuf.CodedOutputStream;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

import static org.assertj.core.api.Assertions.assertThat;

class TxnSourceTest {
    @Test
    void writesAndReadsTheContextFieldAndRemovesItForZero() throws Exception {
        Kvrpcpb.Context ctx = Kvrpcpb.Context.newBuilder().setRegionId(7).build();
        assertThat(TxnSource.of(ctx)).isZero();

        Kvrpcpb.Context with = TxnSource.with(ctx, 1L << 40);
        Kvrpcpb.Context parsed = Kvrpcpb.Context.parseFrom(with.toByteArray());
        assertThat(TxnSource.of(parsed)).isEqualTo(1L << 40);
        assertThat(parsed.getRegionId()).isEqualTo(7);
        assertThat(TxnSource.with(parsed, 0).toByteArray()).isEqualTo(ctx.toByteArray());
    }

    @Test
    void readsTheCdcRowFieldAsKvprotoEncodesIt() throws IOException {
        // Field 9, varint, as pingcap/kvproto's cdcpb.Event.Row.txn_source is encoded.
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        out.writeUInt64(1, 42); // start_ts
        out.writeUInt64(9, 3);
        out.flush();
        Cdcpb.Event.Row row = Cdcpb.Event.Row.parseFrom(bytes.toByteArray());
        assertThat(row.getStartTs()).isEqualTo(42);
        assertThat(TxnSource.of(row)).isEqualTo(3);
        assertThat(TxnSource.of(Cdcpb.Event.Row.getDefaultInstance())).isZero();
    }

    @Test
    void theCdcWriteSourceIsTheLowByte() {
        // TiDB's layout: a lossy-DDL backfill mark in the second byte leaves the writer's mark.
        assertThat(TxnSource.cdcWriteSource(1 | 1 << 8)).isEqualTo(1);
        assertThat(TxnSource.cdcWriteSource(1 << 8)).isZero();
    }
}
