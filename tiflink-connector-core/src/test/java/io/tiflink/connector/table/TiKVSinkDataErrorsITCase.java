package io.tiflink.connector.table;

import io.tiflink.connector.testutils.Failures;
import io.tiflink.connector.testutils.FlinkClusters;
import io.tiflink.connector.testutils.TiDBTables;
import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.junit.MiniTiKVExtension;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.configuration.ConfigOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.InjectMiniCluster;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.ExceptionUtils;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A row the TiDB table cannot take fails the job at once, without restarts (under a restart
 * strategy that would restart it 100 times), naming the table, the column, the value and the row;
 * and nothing of the failed epoch (exactly-once) or batch (at-least-once) is written.
 */
@Timeout(120)
class TiKVSinkDataErrorsITCase {
    @RegisterExtension
    static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(1));

    @RegisterExtension static final MiniClusterExtension FLINK = FlinkClusters.withSlots(1);

    private static TiDBTables tables;
    private static String pd;

    @BeforeAll
    static void schema(MiniTiKVCluster cluster) {
        pd = cluster.pdAddress();
        tables = new TiDBTables(cluster);
        tables.ddl(
                "CREATE DATABASE bad; USE bad;"
                        + " CREATE TABLE customers (id BIGINT PRIMARY KEY,"
                        + "   email VARCHAR(64) NOT NULL, code VARCHAR(8),"
                        + "   UNIQUE KEY uk_email (email));"
                        + " CREATE TABLE dated (id BIGINT PRIMARY KEY, due DATE);");
    }

    @AfterAll
    static void close() throws Exception {
        tables.close();
    }

    /**
     * Restarting on failure, and taking no checkpoint for an hour (not before its minimum pause,
     * nor at once): the rows of a failing INSERT count from the subtask's start.
     */
    private static StreamExecutionEnvironment failingEnv() {
        Duration hour = Duration.ofHours(1);
        StreamExecutionEnvironment env = FlinkClusters.restartingEnv(1, hour.toMillis());
        Configuration pause = new Configuration();
        pause.set(
                ConfigOptions.key("execution.checkpointing.min-pause")
                        .durationType()
                        .noDefaultValue(),
                hour);
        env.configure(pause);
        return env;
    }

    /** A Flink table over bad.customers without a primary key: the sink appends. */
    private static StreamTableEnvironment appending(String extra) {
        return appending(extra, FlinkClusters.restartingEnv(1, 100));
    }

    /** {@link #appending(String)} for an INSERT that fails, in a {@link #failingEnv()}. */
    private static StreamTableEnvironment appendingFailing(String extra) {
        return appending(extra, failingEnv());
    }

    private static StreamTableEnvironment appending(String extra, StreamExecutionEnvironment env) {
        StreamTableEnvironment t = StreamTableEnvironment.create(env);
        t.executeSql(
                "CREATE TABLE customers (id BIGINT, email STRING, code STRING) WITH ("
                        + "'connector' = 'tikv', 'pd-addresses' = '"
                        + pd
                        + "', 'database-name' = 'bad', 'table-name' = 'customers'"
                        + extra
                        + ")");
        return t;
    }

    /**
     * Runs the INSERT, which must fail: at its first attempt, with Flink's non-recoverable failure.
     * Returns every message of the failure.
     */
    private static String failsWithoutRestarts(
            MiniCluster flink, StreamTableEnvironment t, String insert) throws Exception {
        TableResult result = t.executeSql(insert);
        JobID job = result.getJobClient().orElseThrow().getJobID();
        Throwable failure = null;
        try {
            result.await();
        } catch (Exception e) {
            failure = e;
        }
        assertThat(failure).as("the INSERT failed").isNotNull();
        assertThat(ExceptionUtils.findThrowable(failure, SuppressRestartsException.class))
                .as("Flink's non-recoverable failure in %s", Failures.messages(failure))
                .isPresent();
        ArchivedExecutionGraph graph = flink.getArchivedExecutionGraph(job).get();
        assertThat(graph.getState()).isEqualTo(JobStatus.FAILED);
        for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
            assertThat(v.getCurrentExecutionAttempt().getAttemptNumber())
                    .as("the attempt of %s (0: never restarted)", v.getTaskNameWithSubtaskIndex())
                    .isZero();
        }
        return Failures.messages(failure);
    }

    private static List<Long> ids(MiniTiKVCluster cluster, long from, long to) {
        List<Long> out = new ArrayList<>();
        for (Object[] r : tables.rows("bad", "customers", cluster.currentTs())) {
            long id = ((Number) r[0]).longValue();
            if (id >= from && id <= to) {
                out.add(id);
            }
        }
        out.sort(Long::compare);
        return out;
    }

    @Test
    void aValueTooLongFailsTheEpochWithoutRestarts(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink) throws Exception {
        String messages =
                failsWithoutRestarts(
                        flink,
                        appendingFailing(""),
                        "INSERT INTO customers VALUES (1, 'a@x', 'ok'), (2, 'b@x', 'ok'),"
                                + " (3, 'c@x', 'abcdefghij')");
        assertThat(messages)
                .contains(
                        "TiKV sink into bad.customers (subtask 0): row 3 received since the"
                                + " subtask started, (id=3, email='c@x', code='abcdefghij'):"
                                + " column 'code' (varchar(8)) of TiDB table bad.customers:"
                                + " 'abcdefghij' has 10 characters, more than 8");
        assertThat(ids(cluster, 1, 3)).as("nothing of the failed epoch").isEmpty();
    }

    @Test
    void aNullForNotNullFailsWithoutRestartsAfterEarlierBatches(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink) throws Exception {
        String messages =
                failsWithoutRestarts(
                        flink,
                        appendingFailing(
                                ", 'sink.delivery-guarantee' = 'at-least-once',"
                                        + " 'sink.buffer-flush.max-rows' = '1'"),
                        "INSERT INTO customers VALUES (11, 'd@x', 'ok'),"
                                + " (12, CAST(NULL AS STRING), 'ok')");
        assertThat(messages)
                .contains(
                        "TiKV sink into bad.customers (subtask 0): row 2 received since the"
                                + " subtask started, (id=12, email=NULL, code='ok'): column"
                                + " 'email' of TiDB table bad.customers is NOT NULL");
        assertThat(ids(cluster, 11, 12)).as("the batch written before").containsExactly(11L);
    }

    @Test
    void aValueThatDoesNotConvertFailsWithoutRestarts(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink) throws Exception {
        StreamTableEnvironment t = StreamTableEnvironment.create(failingEnv());
        t.executeSql(
                "CREATE TABLE dated (id BIGINT, due STRING) WITH ("
                        + "'connector' = 'tikv', 'pd-addresses' = '"
                        + pd
                        + "', 'database-name' = 'bad', 'table-name' = 'dated')");
        String messages =
                failsWithoutRestarts(
                        flink, t, "INSERT INTO dated VALUES (1, '2026-01-02'), (2, 'yesterday')");
        assertThat(messages)
                .contains(
                        "TiKV sink into bad.dated (subtask 0): row 2 received since the subtask"
                                + " started: value yesterday does not fit column 'due' (date) of"
                                + " TiDB table bad.dated");
        assertThat(tables.rows("bad", "dated", cluster.currentTs()))
                .as("nothing of the failed epoch")
                .isEmpty();
    }

    @Test
    void aDuplicateUniqueKeyFailsTheEpochWithoutRestarts(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink) throws Exception {
        appending("").executeSql("INSERT INTO customers VALUES (21, 'dup@x', 'first')").await();
        String messages =
                failsWithoutRestarts(
                        flink,
                        appendingFailing(""),
                        "INSERT INTO customers VALUES (22, 'e@x', 'a'), (23, 'dup@x', 'b'),"
                                + " (24, 'f@x', 'c')");
        assertThat(messages)
                .contains(
                        "TiKV sink into bad.customers (subtask 0): row 2 received since the"
                                + " subtask started, (id=23, email='dup@x', code='b'): Duplicate"
                                + " entry 'dup@x' for key 'customers.uk_email' of TiDB table"
                                + " bad.customers");
        assertThat(ids(cluster, 21, 24))
                .as("the committed epoch of the first job, nothing of the failed one")
                .containsExactly(21L);
    }

    @Test
    void aDuplicateUniqueKeyFailsItsBatchWithoutRestarts(
            MiniTiKVCluster cluster, @InjectMiniCluster MiniCluster flink) throws Exception {
        appending("").executeSql("INSERT INTO customers VALUES (31, 'twice@x', 'first')").await();
        String messages =
                failsWithoutRestarts(
                        flink,
                        appendingFailing(
                                ", 'sink.delivery-guarantee' = 'at-least-once',"
                                        + " 'sink.buffer-flush.max-rows' = '2'"),
                        "INSERT INTO customers VALUES (32, 'g@x', 'a'), (33, 'h@x', 'b'),"
                                + " (34, 'i@x', 'c'), (35, 'twice@x', 'd')");
        assertThat(messages)
                .contains(
                        "row 4 received since the subtask started, (id=35, email='twice@x',"
                                + " code='d'): Duplicate entry 'twice@x' for key"
                                + " 'customers.uk_email'");
        assertThat(ids(cluster, 31, 35))
                .as("the batch written before the failing one")
                .containsExactly(31L, 32L, 33L);
    }
}
