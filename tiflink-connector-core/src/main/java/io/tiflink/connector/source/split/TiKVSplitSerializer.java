package io.tiflink.connector.source.split;

import io.tiflink.cdc.client.KeyRange;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputView;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Serializes {@link TiKVSplit}s into checkpoints. */
@Internal
public final class TiKVSplitSerializer implements SimpleVersionedSerializer<TiKVSplit> {
    public static final TiKVSplitSerializer INSTANCE = new TiKVSplitSerializer();

    private static final int VERSION = 1;
    private static final byte SNAPSHOT = 1;
    private static final byte STREAM = 2;

    @Override
    public int getVersion() {
        return VERSION;
    }

    @Override
    public byte[] serialize(TiKVSplit split) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        write(split, out);
        return out.getCopyOfBuffer();
    }

    @Override
    public TiKVSplit deserialize(int version, byte[] serialized) throws IOException {
        if (version != VERSION) {
            throw new IOException("unknown TiKV split version " + version);
        }
        return read(new DataInputDeserializer(serialized));
    }

    public static void write(TiKVSplit split, DataOutputView out) throws IOException {
        out.writeUTF(split.splitId());
        if (split.isSnapshot()) {
            SnapshotSplit s = split.asSnapshot();
            out.writeByte(SNAPSHOT);
            writeTable(s.table(), out);
            out.writeLong(s.physicalId());
            writeRange(s.range(), out);
            out.writeLong(s.snapshotTs());
            writeNullableBytes(s.lastKey(), out);
        } else {
            StreamSplit s = split.asStream();
            out.writeByte(STREAM);
            out.writeInt(s.tables().size());
            for (CapturedTable t : s.tables()) {
                writeTable(t, out);
            }
            out.writeInt(s.ranges().size());
            for (KeyRange r : s.ranges()) {
                writeRange(r, out);
            }
            out.writeLong(s.resolvedTs());
            out.writeLong(s.lastCommitTs());
            writeNullableBytes(s.lastKey(), out);
        }
    }

    public static TiKVSplit read(DataInputView in) throws IOException {
        String id = in.readUTF();
        byte kind = in.readByte();
        if (kind == SNAPSHOT) {
            CapturedTable table = readTable(in);
            long physicalId = in.readLong();
            KeyRange range = readRange(in);
            long snapshotTs = in.readLong();
            return new SnapshotSplit(
                    id, table, physicalId, range, snapshotTs, readNullableBytes(in));
        }
        if (kind != STREAM) {
            throw new IOException("unknown TiKV split kind " + kind);
        }
        int n = in.readInt();
        List<CapturedTable> tables = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            tables.add(readTable(in));
        }
        int r = in.readInt();
        List<KeyRange> ranges = new ArrayList<>(r);
        for (int i = 0; i < r; i++) {
            ranges.add(readRange(in));
        }
        long resolvedTs = in.readLong();
        long lastCommitTs = in.readLong();
        return new StreamSplit(id, tables, ranges, resolvedTs, lastCommitTs, readNullableBytes(in));
    }

    private static void writeTable(CapturedTable t, DataOutputView out) throws IOException {
        out.writeUTF(t.database());
        out.writeLong(t.databaseId());
        writeBytes(t.tableJson(), out);
    }

    private static CapturedTable readTable(DataInputView in) throws IOException {
        return new CapturedTable(in.readUTF(), in.readLong(), readBytes(in));
    }

    private static void writeRange(KeyRange r, DataOutputView out) throws IOException {
        writeBytes(r.start(), out);
        writeBytes(r.end(), out);
    }

    private static KeyRange readRange(DataInputView in) throws IOException {
        return KeyRange.of(readBytes(in), readBytes(in));
    }

    private static void writeBytes(byte[] b, DataOutputView out) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    private static byte[] readBytes(DataInputView in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    private static void writeNullableBytes(byte[] b, DataOutputView out) throws IOException {
        out.writeBoolean(b != null);
        if (b != null) {
            writeBytes(b, out);
        }
    }

    private static byte[] readNullableBytes(DataInputView in) throws IOException {
        return in.readBoolean() ? readBytes(in) : null;
    }
}
