package io.tiflink.tidb.schema;

/** A schema file that cannot be parsed or applied: names the file, line and column. */
public class SchemaFileException extends IllegalArgumentException {
    public SchemaFileException(String file, int line, int column, String message) {
        super(file + ":" + line + ":" + column + ": " + message);
    }

    public SchemaFileException(String file, int line, int column, String message, Throwable cause) {
        super(file + ":" + line + ":" + column + ": " + message, cause);
    }
}
