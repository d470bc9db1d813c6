package io.tiflink.minicluster.tidb;

import io.tiflink.tidb.schema.SchemaFileException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SchemaClusterMainTest {
    @Test
    void aBadSchemaFailsBeforeAnythingStarts(@TempDir Path dir) throws Exception {
        Path schema = dir.resolve("bad.sql");
        Files.writeString(schema, "CREATE DATABASE app;\nCREATE TABLE app.t (a NUMBER);\n");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThatThrownBy(
                        () ->
                                SchemaClusterMain.start(
                                        new String[] {
                                            "--pd-port", "0", "--schema", schema.toString()
                                        },
                                        new PrintStream(out)))
                .isInstanceOf(SchemaFileException.class)
                .hasMessageContaining("bad.sql:2:23")
                .hasMessageContaining("'number'");
        assertThat(out.toString()).isEmpty();
    }
}
