package io.tiflink.benchmarks;

import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.MetaJson;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tidb.types.MysqlType;

import org.tikv.common.meta.TiTableInfo;
import org.tikv.shade.com.fasterxml.jackson.databind.ObjectMapper;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.math.BigDecimal;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Rows/s decoded and encoded (row format v2) for a 10-column mixed-type table with an integer
 * handle, by tiflink-tidb's {@link TableCodec} and by tikv-client-java's {@code TableCodec} on the
 * same rows. Each invocation handles {@value #ROWS} rows, so JMH's ops/s are rows/s.
 *
 * <pre>
 * ./mvnw -q -pl tiflink-benchmarks -am package -DskipTests
 * java -cp tiflink-benchmarks/target/classes:$(cat tiflink-benchmarks/target/classpath.txt) \
 *   org.openjdk.jmh.Main RowCodecBenchmark -f 1 -wi 3 -w 2s -i 5 -r 2s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RowCodecBenchmark {
    static final int ROWS = 1024;

    private TableCodec codec;
    private TiTableInfo clientJavaTable;
    private Object[][] rows;
    private Object[][] clientJavaRows;
    private byte[][] keys;
    private byte[][] values;

    static TableInfo table() {
        TableInfo t = new TableInfo();
        t.id = 100;
        t.name = CIStr.of("orders");
        t.pkIsHandle = true;
        add(
                t,
                "id",
                MysqlType.LONGLONG,
                MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG,
                20,
                0,
                null);
        add(t, "customer_id", MysqlType.LONG, 0, 11, 0, null);
        add(t, "quantity", MysqlType.LONGLONG, 0, 20, 0, null);
        add(t, "name", MysqlType.VARCHAR, 0, 64, 0, "utf8mb4_bin");
        add(t, "ratio", MysqlType.DOUBLE, 0, 22, -1, null);
        add(t, "price", MysqlType.NEWDECIMAL, 0, 12, 2, null);
        add(t, "day", MysqlType.DATE, 0, 10, 0, null);
        add(t, "created", MysqlType.DATETIME, 0, 19, 0, null);
        add(t, "note", MysqlType.VARCHAR, 0, 255, 0, "utf8mb4_bin");
        add(t, "status", MysqlType.TINY, 0, 4, 0, null);
        return t;
    }

    private static void add(
            TableInfo t, String name, int tp, int flag, int flen, int decimal, String collate) {
        ColumnInfo c = new ColumnInfo();
        c.id = t.columns.size() + 1;
        c.name = CIStr.of(name);
        c.offset = t.columns.size();
        c.type = new FieldType(tp);
        c.type.flag = flag;
        c.type.flen = flen;
        c.type.decimal = decimal;
        if (collate != null) {
            c.type.charset = "utf8mb4";
            c.type.collate = collate;
        }
        t.columns.add(c);
        t.maxColumnId = c.id;
    }

    @Setup
    public void setUp() throws Exception {
        TableInfo t = table();
        codec = new TableCodec(t);
        clientJavaTable = new ObjectMapper().readValue(MetaJson.write(t), TiTableInfo.class);
        Random r = new Random(1);
        rows = new Object[ROWS][];
        clientJavaRows = new Object[ROWS][];
        keys = new byte[ROWS][];
        values = new byte[ROWS][];
        for (int i = 0; i < ROWS; i++) {
            LocalDate day =
                    LocalDate.of(2000 + r.nextInt(25), 1 + r.nextInt(12), 1 + r.nextInt(28));
            LocalDateTime created = day.atTime(r.nextInt(24), r.nextInt(60), r.nextInt(60));
            String name = "customer-" + r.nextInt(1_000_000);
            String note =
                    "note " + Long.toHexString(r.nextLong()) + " " + Long.toHexString(r.nextLong());
            BigDecimal price = BigDecimal.valueOf(r.nextInt(10_000_000), 2);
            rows[i] =
                    new Object[] {
                        (long) i,
                        (long) r.nextInt(),
                        r.nextLong(),
                        name,
                        r.nextDouble(),
                        price,
                        day,
                        created,
                        note,
                        (long) r.nextInt(100)
                    };
            clientJavaRows[i] =
                    new Object[] {
                        (long) i,
                        rows[i][1],
                        rows[i][2],
                        name,
                        rows[i][4],
                        price,
                        Date.valueOf(day),
                        Timestamp.valueOf(created),
                        note,
                        rows[i][9]
                    };
            keys[i] = TableCodec.recordKey(t.id, Handle.ofInt(i));
            values[i] = codec.encodeValue(rows[i]);
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void decodeTiFlink(Blackhole bh) {
        for (int i = 0; i < ROWS; i++) {
            bh.consume(codec.decode(keys[i], values[i]));
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void decodeClientJava(Blackhole bh) {
        for (int i = 0; i < ROWS; i++) {
            bh.consume(
                    org.tikv.common.codec.TableCodec.decodeObjects(
                            values[i], (long) i, clientJavaTable));
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void encodeTiFlink(Blackhole bh) {
        for (int i = 0; i < ROWS; i++) {
            bh.consume(codec.encodeValue(rows[i]));
        }
    }

    @Benchmark
    @OperationsPerInvocation(ROWS)
    public void encodeClientJava(Blackhole bh) throws IllegalAccessException {
        for (int i = 0; i < ROWS; i++) {
            bh.consume(
                    org.tikv.common.codec.TableCodec.encodeRow(
                            clientJavaTable.getColumns(), clientJavaRows[i], true, true));
        }
    }
}
