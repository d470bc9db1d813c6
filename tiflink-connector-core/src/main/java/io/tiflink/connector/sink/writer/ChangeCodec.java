package io.tiflink.connector.sink.writer;

import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.write.RowWrite;

import org.apache.flink.annotation.Internal;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Row changes as bytes, for checkpoints: each value tagged with its class and keyed by column id,
 * so that a change restored after a schema change lands on the right columns (a dropped column's
 * value is dropped, an added column is not given).
 */
@Internal
public final class ChangeCodec {
    private static final int VERSION = 1;

    private ChangeCodec() {}

    public static byte[] write(List<RowWrite> changes, TableInfo table) throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(256);
        out.writeInt(VERSION);
        out.writeInt(changes.size());
        for (RowWrite c : changes) {
            out.writeByte(c.kind().ordinal());
            int given = 0;
            for (int i = 0; i < table.columns.size(); i++) {
                given += c.gives(i) ? 1 : 0;
            }
            out.writeInt(given);
            for (ColumnInfo col : table.columns) {
                if (c.gives(col.offset)) {
                    out.writeLong(col.id);
                    writeValue(out, c.row()[col.offset]);
                }
            }
        }
        return out.getCopyOfBuffer();
    }

    public static List<RowWrite> read(byte[] bytes, TableInfo table) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(bytes);
        int version = in.readInt();
        if (version != VERSION) {
            throw new IOException("unknown encoding version " + version + " of buffered changes");
        }
        Map<Long, Integer> offsets = new HashMap<>();
        for (ColumnInfo col : table.columns) {
            offsets.put(col.id, col.offset);
        }
        int n = in.readInt();
        List<RowWrite> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int k = in.readByte();
            if (k < 0 || k >= RowWrite.Kind.values().length) {
                throw new IOException("unknown kind " + k + " of a buffered change");
            }
            RowWrite.Kind kind = RowWrite.Kind.values()[k];
            int given = in.readInt();
            Object[] row = new Object[table.columns.size()];
            boolean[] mask = new boolean[row.length];
            for (int j = 0; j < given; j++) {
                long id = in.readLong();
                Object v = readValue(in);
                Integer offset = offsets.get(id);
                if (offset != null) {
                    row[offset] = v;
                    mask[offset] = true;
                }
            }
            out.add(RowWrite.of(kind, row, allTrue(mask) ? null : mask));
        }
        return out;
    }

    private static boolean allTrue(boolean[] mask) {
        for (boolean b : mask) {
            if (!b) {
                return false;
            }
        }
        return true;
    }

    private static void writeValue(DataOutputSerializer out, Object v) throws IOException {
        if (v == null) {
            out.writeByte(0);
        } else if (v instanceof Long) {
            out.writeByte(1);
            out.writeLong((Long) v);
        } else if (v instanceof BigInteger) {
            out.writeByte(2);
            writeBytes(out, ((BigInteger) v).toByteArray());
        } else if (v instanceof Float) {
            out.writeByte(3);
            out.writeFloat((Float) v);
        } else if (v instanceof Double) {
            out.writeByte(4);
            out.writeDouble((Double) v);
        } else if (v instanceof BigDecimal) {
            out.writeByte(5);
            out.writeUTF(((BigDecimal) v).toString());
        } else if (v instanceof String) {
            out.writeByte(6);
            writeBytes(out, ((String) v).getBytes(StandardCharsets.UTF_8));
        } else if (v instanceof byte[]) {
            out.writeByte(7);
            writeBytes(out, (byte[]) v);
        } else if (v instanceof LocalDate) {
            out.writeByte(8);
            out.writeLong(((LocalDate) v).toEpochDay());
        } else if (v instanceof LocalDateTime) {
            out.writeByte(9);
            out.writeUTF(v.toString());
        } else if (v instanceof Instant) {
            out.writeByte(10);
            out.writeLong(((Instant) v).getEpochSecond());
            out.writeInt(((Instant) v).getNano());
        } else if (v instanceof Duration) {
            out.writeByte(11);
            out.writeLong(((Duration) v).getSeconds());
            out.writeInt(((Duration) v).getNano());
        } else {
            throw new IOException("cannot checkpoint a value of " + v.getClass().getName());
        }
    }

    /** Writes {@code b}, length first: how the sink's state serializers write byte arrays. */
    public static void writeBytes(DataOutputSerializer out, byte[] b) throws IOException {
        out.writeInt(b.length);
        out.write(b);
    }

    /** Reads what {@link #writeBytes} wrote. */
    public static byte[] readBytes(DataInputDeserializer in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    private static Object readValue(DataInputDeserializer in) throws IOException {
        int tag = in.readByte();
        switch (tag) {
            case 0:
                return null;
            case 1:
                return in.readLong();
            case 2:
                return new BigInteger(readBytes(in));
            case 3:
                return in.readFloat();
            case 4:
                return in.readDouble();
            case 5:
                return new BigDecimal(in.readUTF());
            case 6:
                return new String(readBytes(in), StandardCharsets.UTF_8);
            case 7:
                return readBytes(in);
            case 8:
                return LocalDate.ofEpochDay(in.readLong());
            case 9:
                return LocalDateTime.parse(in.readUTF());
            case 10:
                return Instant.ofEpochSecond(in.readLong(), in.readInt());
            case 11:
                return Duration.ofSeconds(in.readLong(), in.readInt());
            default:
                throw new IOException("unknown value tag " + tag + " in buffered changes");
        }
    }
}
