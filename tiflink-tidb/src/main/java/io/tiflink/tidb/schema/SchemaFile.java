package io.tiflink.tidb.schema;

import io.tiflink.tidb.collation.Collators;
import io.tiflink.tidb.meta.CIStr;
import io.tiflink.tidb.meta.ColumnInfo;
import io.tiflink.tidb.meta.FieldType;
import io.tiflink.tidb.meta.IndexInfo;
import io.tiflink.tidb.meta.MetaReader;
import io.tiflink.tidb.meta.PartitionInfo;
import io.tiflink.tidb.meta.SchemaWriter;
import io.tiflink.tidb.meta.TableInfo;
import io.tiflink.tidb.schema.SqlLexer.Kind;
import io.tiflink.tidb.schema.SqlLexer.Token;
import io.tiflink.tidb.types.MysqlType;

import org.tikv.common.TiSession;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A schema file: {@code CREATE DATABASE}, {@code USE} and {@code CREATE TABLE} statements in TiDB's
 * syntax, applied with TiDB's defaults (a single integer primary key is the row handle; other
 * primary keys are clustered unless {@code NONCLUSTERED}; charset utf8mb4, collation utf8mb4_bin).
 * The supported subset is in docs/tidb.md; anything else is an error naming the line and column.
 */
public final class SchemaFile {
    /** One statement, with where it came from. */
    public static final class Statement {
        public final String database;

        /** Null for CREATE DATABASE. */
        public final TableInfo table;

        public final String charset;
        public final String collate;
        public final boolean ifNotExists;
        final String file;
        final Token at;

        Statement(
                String file,
                String database,
                TableInfo table,
                String charset,
                String collate,
                boolean ifNotExists,
                Token at) {
            this.file = file;
            this.database = database;
            this.table = table;
            this.charset = charset;
            this.collate = collate;
            this.ifNotExists = ifNotExists;
            this.at = at;
        }
    }

    private final String file;
    private final List<Token> tokens;
    private int i;
    private String currentDb;
    private final List<Statement> statements = new ArrayList<>();

    private SchemaFile(String file, String sql) {
        this.file = file;
        this.tokens = SqlLexer.tokenize(sql, file);
    }

    /** Parses SQL text; {@code file} names it in errors. */
    public static List<Statement> parse(String file, String sql) {
        SchemaFile p = new SchemaFile(file, sql);
        p.parseAll();
        return p.statements;
    }

    public static List<Statement> parse(Path path) throws IOException {
        return parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
    }

    /**
     * Runs the statements through a {@link SchemaWriter}, in order, as TiDB would.
     *
     * @throws SchemaFileException naming the statement's line when one fails (an existing table
     *     without IF NOT EXISTS, for example)
     */
    public static void apply(List<Statement> statements, TiSession session) {
        SchemaWriter writer = new SchemaWriter(session);
        for (Statement s : statements) {
            try {
                MetaReader meta = MetaReader.latest(session);
                if (s.table == null) {
                    if (!(s.ifNotExists && meta.database(s.database) != null)) {
                        writer.createDatabase(s.database, s.charset, s.collate);
                    }
                } else if (!(s.ifNotExists && meta.table(s.database, s.table.name.o) != null)) {
                    writer.createTable(s.database, s.table);
                }
            } catch (IllegalArgumentException e) {
                throw new SchemaFileException(s.file, s.at.line, s.at.column, e.getMessage(), e);
            }
        }
    }

    // ---- parsing ----

    private Token peek() {
        return tokens.get(i);
    }

    private Token next() {
        return tokens.get(i++);
    }

    private SchemaFileException error(Token t, String message) {
        return new SchemaFileException(file, t.line, t.column, message);
    }

    private boolean accept(String word) {
        if (peek().is(word)) {
            i++;
            return true;
        }
        return false;
    }

    private Token expect(String word) {
        Token t = next();
        if (!t.is(word)) {
            throw error(t, "expected '" + word + "' but found " + t);
        }
        return t;
    }

    private String identifier(String what) {
        Token t = next();
        if (t.kind != Kind.WORD && t.kind != Kind.QUOTED_IDENT) {
            throw error(t, "expected " + what + " but found " + t);
        }
        return t.text;
    }

    private String string(String what) {
        Token t = next();
        if (t.kind != Kind.STRING) {
            throw error(t, "expected " + what + " (a quoted string) but found " + t);
        }
        return t.text;
    }

    private int number(String what) {
        Token t = next();
        if (t.kind != Kind.NUMBER) {
            throw error(t, "expected " + what + " but found " + t);
        }
        try {
            return Integer.parseInt(t.text);
        } catch (NumberFormatException e) {
            throw error(t, "expected " + what + " but found " + t);
        }
    }

    private void parseAll() {
        while (peek().kind != Kind.END) {
            if (accept(";")) {
                continue;
            }
            Token start = next();
            if (start.is("USE")) {
                currentDb = identifier("a database name");
            } else if (start.is("CREATE") && (accept("DATABASE") || accept("SCHEMA"))) {
                createDatabase(start);
            } else if (start.is("CREATE") && accept("TABLE")) {
                createTable(start);
            } else {
                throw error(
                        start,
                        "unsupported statement starting with "
                                + start
                                + "; a schema file holds CREATE DATABASE, USE and CREATE TABLE");
            }
            if (peek().kind != Kind.END) {
                expect(";");
            }
        }
    }

    private boolean ifNotExists() {
        if (accept("IF")) {
            expect("NOT");
            expect("EXISTS");
            return true;
        }
        return false;
    }

    private void createDatabase(Token start) {
        boolean ine = ifNotExists();
        String name = identifier("a database name");
        String[] cs = {"utf8mb4", "utf8mb4_bin"};
        while (charsetOrCollate(cs, true)) {
            // consumed
        }
        // As in TiDB, CREATE DATABASE does not USE it.
        statements.add(new Statement(file, name, null, cs[0], cs[1], ine, start));
    }

    /** Parses [DEFAULT] CHARACTER SET|CHARSET x / COLLATE y into cs = {charset, collate}. */
    private boolean charsetOrCollate(String[] cs, boolean allowDefault) {
        int save = i;
        if (allowDefault) {
            accept("DEFAULT");
        }
        if (accept("CHARACTER")) {
            expect("SET");
            accept("=");
            cs[0] = identifier("a charset").toLowerCase(Locale.ROOT);
            cs[1] = defaultCollation(cs[0]);
            return true;
        }
        if (accept("CHARSET")) {
            accept("=");
            cs[0] = identifier("a charset").toLowerCase(Locale.ROOT);
            cs[1] = defaultCollation(cs[0]);
            return true;
        }
        if (accept("COLLATE")) {
            accept("=");
            Token t = peek();
            cs[1] = identifier("a collation").toLowerCase(Locale.ROOT);
            if (!Collators.isSupported(cs[1])) {
                throw error(t, "collation '" + cs[1] + "' is not supported");
            }
            return true;
        }
        i = save;
        return false;
    }

    private static String defaultCollation(String charset) {
        return charset.equals("binary") ? "binary" : charset + "_bin";
    }

    private void createTable(Token start) {
        boolean ine = ifNotExists();
        String name = identifier("a table name");
        String db = currentDb;
        if (accept(".")) {
            db = name;
            name = identifier("a table name");
        }
        if (db == null) {
            throw error(
                    start, "CREATE TABLE " + name + " names no database and no USE came before it");
        }
        TableInfo t = new TableInfo();
        t.name = CIStr.of(name);
        String[] tableCs = {"utf8mb4", "utf8mb4_bin"};
        // Table options come after the columns, but columns default to them: parse twice.
        int bodyStart = i;
        skipParens();
        while (true) {
            if (charsetOrCollate(tableCs, true)) {
                continue;
            }
            if (accept("COMMENT")) {
                accept("=");
                t.comment = string("a comment");
                continue;
            }
            if (accept("ENGINE")) {
                accept("=");
                identifier("an engine");
                continue;
            }
            break;
        }
        t.charset = tableCs[0];
        t.collate = tableCs[1];
        int afterOptions = i;
        i = bodyStart;
        expect("(");
        List<Token> pkAt = new ArrayList<>();
        List<String[]> pkCols = new ArrayList<>();
        Boolean[] clustered = {null};
        do {
            if (peek().is("PRIMARY")) {
                pkAt.add(next());
                expect("KEY");
                indexColumns(pkCols);
                clustered[0] = clusteredOption(clustered[0]);
            } else if (peek().is("UNIQUE") || peek().is("KEY") || peek().is("INDEX")) {
                boolean unique = accept("UNIQUE");
                if (!accept("KEY")) {
                    accept("INDEX");
                }
                index(t, unique);
            } else {
                column(t, tableCs, pkAt, pkCols, clustered);
            }
        } while (accept(","));
        expect(")");
        i = afterOptions;
        if (accept("PARTITION")) {
            partition(t);
        }
        if (pkAt.size() > 1) {
            throw error(pkAt.get(1), "table '" + name + "' has more than one PRIMARY KEY");
        }
        if (!pkCols.isEmpty()) {
            primaryKey(t, pkCols, clustered[0], pkAt.get(0));
        }
        for (IndexInfo idx : t.indices) {
            for (IndexInfo.IndexColumn ic : idx.columns) {
                ColumnInfo c = t.column(ic.name.o);
                if (c == null) {
                    throw error(
                            start,
                            "index '"
                                    + idx.name.o
                                    + "' of table '"
                                    + name
                                    + "' names unknown column '"
                                    + ic.name.o
                                    + "'");
                }
                ic.offset = c.offset;
                ic.name = c.name;
            }
            if (idx.columns.size() == 1 && idx.unique) {
                t.columns.get(idx.columns.get(0).offset).type.flag |= MysqlType.UNIQUE_KEY_FLAG;
            } else if (!idx.primary) {
                t.columns.get(idx.columns.get(0).offset).type.flag |= MysqlType.MULTIPLE_KEY_FLAG;
            }
        }
        statements.add(new Statement(file, db, t, null, null, ine, start));
    }

    private void skipParens() {
        Token open = peek();
        expect("(");
        int depth = 1;
        while (depth > 0) {
            Token t = next();
            if (t.kind == Kind.END) {
                throw error(open, "unbalanced parentheses");
            }
            if (t.is("(")) {
                depth++;
            } else if (t.is(")")) {
                depth--;
            }
        }
    }

    private Boolean clusteredOption(Boolean current) {
        if (accept("CLUSTERED")) {
            return true;
        }
        if (accept("NONCLUSTERED")) {
            return false;
        }
        return current;
    }

    private void indexColumns(List<String[]> out) {
        expect("(");
        do {
            String col = identifier("a column name");
            String len = "-1";
            if (accept("(")) {
                len = String.valueOf(number("a prefix length"));
                expect(")");
            }
            if (!accept("ASC")) {
                accept("DESC");
            }
            out.add(new String[] {col, len});
        } while (accept(","));
        expect(")");
    }

    private void index(TableInfo t, boolean unique) {
        String name = null;
        if (!peek().is("(")) {
            name = identifier("an index name");
        }
        List<String[]> cols = new ArrayList<>();
        indexColumns(cols);
        IndexInfo idx = new IndexInfo();
        idx.name = CIStr.of(name != null ? name : cols.get(0)[0]);
        idx.unique = unique;
        for (String[] c : cols) {
            idx.columns.add(new IndexInfo.IndexColumn(CIStr.of(c[0]), 0, Integer.parseInt(c[1])));
        }
        if (accept("COMMENT")) {
            idx.comment = string("a comment");
        }
        t.indices.add(idx);
    }

    private void primaryKey(TableInfo t, List<String[]> cols, Boolean clustered, Token at) {
        List<ColumnInfo> pk = new ArrayList<>();
        for (String[] c : cols) {
            ColumnInfo col = t.column(c[0]);
            if (col == null) {
                throw error(
                        at,
                        "PRIMARY KEY of table '"
                                + t.name.o
                                + "' names unknown column '"
                                + c[0]
                                + "'");
            }
            col.type.flag |= MysqlType.PRI_KEY_FLAG | MysqlType.NOT_NULL_FLAG;
            pk.add(col);
        }
        boolean intHandle =
                pk.size() == 1
                        && MysqlType.isInteger(pk.get(0).type.tp)
                        && !Boolean.FALSE.equals(clustered);
        if (intHandle) {
            t.pkIsHandle = true;
            return;
        }
        IndexInfo idx = new IndexInfo();
        idx.name = CIStr.of("PRIMARY");
        idx.primary = true;
        idx.unique = true;
        for (String[] c : cols) {
            idx.columns.add(new IndexInfo.IndexColumn(CIStr.of(c[0]), 0, Integer.parseInt(c[1])));
        }
        t.indices.add(0, idx);
        if (!Boolean.FALSE.equals(clustered)) {
            t.isCommonHandle = true;
            t.commonHandleVersion = 1;
        }
    }

    private void column(
            TableInfo t,
            String[] tableCs,
            List<Token> pkAt,
            List<String[]> pkCols,
            Boolean[] clustered) {
        Token nameTok = peek();
        String name = identifier("a column name or a key definition");
        if (t.column(name) != null) {
            throw error(nameTok, "table '" + t.name.o + "' has two columns named '" + name + "'");
        }
        ColumnInfo c = new ColumnInfo();
        c.name = CIStr.of(name);
        c.offset = t.columns.size();
        c.type = type(t, name, tableCs);
        while (true) {
            Token o = peek();
            if (accept("NOT")) {
                expect("NULL");
                c.type.flag |= MysqlType.NOT_NULL_FLAG;
            } else if (accept("NULL")) {
                c.type.flag &= ~MysqlType.NOT_NULL_FLAG;
            } else if (accept("DEFAULT")) {
                c.defaultValue = defaultValue(c);
            } else if (accept("AUTO_INCREMENT")) {
                c.type.flag |= MysqlType.AUTO_INCREMENT_FLAG;
            } else if (accept("PRIMARY")) {
                expect("KEY");
                pkAt.add(o);
                pkCols.add(new String[] {name, "-1"});
                clustered[0] = clusteredOption(clustered[0]);
            } else if (accept("UNIQUE")) {
                accept("KEY");
                IndexInfo idx = new IndexInfo();
                idx.name = CIStr.of(name);
                idx.unique = true;
                idx.columns.add(new IndexInfo.IndexColumn(c.name, c.offset, -1));
                t.indices.add(idx);
            } else if (accept("COMMENT")) {
                c.comment = string("a comment");
            } else if (accept("ON")) {
                expect("UPDATE");
                identifier("CURRENT_TIMESTAMP");
                skipOptionalParens();
                c.type.flag |= MysqlType.ON_UPDATE_NOW_FLAG;
            } else if (o.is("COLLATE") || o.is("CHARACTER") || o.is("CHARSET")) {
                String[] cs = {c.type.charset, c.type.collate};
                charsetOrCollate(cs, false);
                if (!MysqlType.isString(c.type.tp)
                        && c.type.tp != MysqlType.ENUM
                        && c.type.tp != MysqlType.SET) {
                    throw error(
                            o,
                            "column '"
                                    + name
                                    + "' of type "
                                    + c.type.sqlName()
                                    + " takes no charset or collation");
                }
                c.type.charset = cs[0];
                c.type.collate = cs[1];
            } else {
                break;
            }
        }
        t.columns.add(c);
    }

    private void skipOptionalParens() {
        if (accept("(")) {
            if (peek().kind == Kind.NUMBER) {
                next();
            }
            expect(")");
        }
    }

    private Object defaultValue(ColumnInfo c) {
        Token t = next();
        if (t.is("NULL")) {
            return null;
        }
        if (t.kind == Kind.STRING || t.kind == Kind.NUMBER) {
            return t.text;
        }
        if (t.is("CURRENT_TIMESTAMP") || t.is("NOW")) {
            skipOptionalParens();
            return "CURRENT_TIMESTAMP";
        }
        if (t.is("TRUE") || t.is("FALSE")) {
            return t.is("TRUE") ? "1" : "0";
        }
        throw error(t, "unsupported DEFAULT " + t + " for column '" + c.name.o + "'");
    }

    private FieldType type(TableInfo table, String column, String[] tableCs) {
        Token t = peek();
        String name = identifier("a type for column '" + column + "'").toLowerCase(Locale.ROOT);
        FieldType ft = new FieldType();
        int[] args = {-1, -1};
        List<String> elems = null;
        boolean string = false;
        switch (name) {
            case "tinyint":
            case "smallint":
            case "mediumint":
            case "int":
            case "integer":
            case "bigint":
                ft.tp =
                        name.equals("tinyint")
                                ? MysqlType.TINY
                                : name.equals("smallint")
                                        ? MysqlType.SHORT
                                        : name.equals("mediumint")
                                                ? MysqlType.INT24
                                                : name.equals("bigint")
                                                        ? MysqlType.LONGLONG
                                                        : MysqlType.LONG;
                optionalLength(args);
                break;
            case "bool":
            case "boolean":
                ft.tp = MysqlType.TINY;
                args[0] = 1;
                break;
            case "float":
            case "real":
            case "double":
                ft.tp = name.equals("float") ? MysqlType.FLOAT : MysqlType.DOUBLE;
                if (name.equals("double")) {
                    accept("PRECISION");
                }
                optionalLength(args);
                break;
            case "decimal":
            case "numeric":
                ft.tp = MysqlType.NEWDECIMAL;
                optionalLength(args);
                if (args[0] < 0) {
                    args[0] = 10;
                }
                if (args[1] < 0) {
                    args[1] = 0;
                }
                if (args[0] > 65 || args[1] > 30 || args[1] > args[0]) {
                    throw error(
                            t,
                            "column '"
                                    + column
                                    + "': DECIMAL("
                                    + args[0]
                                    + ","
                                    + args[1]
                                    + ") is out of range (at most 65 digits, 30 after the point)");
                }
                break;
            case "char":
            case "varchar":
            case "binary":
            case "varbinary":
                ft.tp =
                        name.endsWith("char")
                                ? (name.equals("char") ? MysqlType.STRING : MysqlType.VARCHAR)
                                : (name.equals("binary") ? MysqlType.STRING : MysqlType.VARCHAR);
                optionalLength(args);
                if (args[0] < 0) {
                    if (name.startsWith("var")) {
                        throw error(
                                t,
                                "column '"
                                        + column
                                        + "': "
                                        + name.toUpperCase(Locale.ROOT)
                                        + " needs a length");
                    }
                    args[0] = 1;
                }
                string = name.endsWith("char");
                if (!string) {
                    ft.charset = "binary";
                    ft.collate = "binary";
                }
                break;
            case "tinytext":
            case "text":
            case "mediumtext":
            case "longtext":
            case "tinyblob":
            case "blob":
            case "mediumblob":
            case "longblob":
                {
                    String size = name.replace("text", "").replace("blob", "");
                    ft.tp =
                            size.equals("tiny")
                                    ? MysqlType.TINY_BLOB
                                    : size.equals("medium")
                                            ? MysqlType.MEDIUM_BLOB
                                            : size.equals("long")
                                                    ? MysqlType.LONG_BLOB
                                                    : MysqlType.BLOB;
                    args[0] =
                            size.equals("tiny")
                                    ? 255
                                    : size.equals("medium")
                                            ? 16777215
                                            : size.equals("long") ? -1 : 65535;
                    if (name.endsWith("text")) {
                        string = true;
                    } else {
                        ft.charset = "binary";
                        ft.collate = "binary";
                    }
                    ft.flag |= MysqlType.BLOB_FLAG;
                    if (accept("(")) {
                        number("a length");
                        expect(")");
                    }
                    break;
                }
            case "date":
                ft.tp = MysqlType.DATE;
                args[0] = 10;
                args[1] = 0;
                break;
            case "datetime":
            case "timestamp":
            case "time":
                {
                    ft.tp =
                            name.equals("datetime")
                                    ? MysqlType.DATETIME
                                    : name.equals("time")
                                            ? MysqlType.DURATION
                                            : MysqlType.TIMESTAMP;
                    int fsp = 0;
                    if (accept("(")) {
                        Token f = peek();
                        fsp = number("a fractional seconds precision");
                        if (fsp > 6) {
                            throw error(
                                    f,
                                    "column '"
                                            + column
                                            + "': fractional seconds precision "
                                            + fsp
                                            + " is over 6");
                        }
                        expect(")");
                    }
                    args[0] = (name.equals("time") ? 10 : 19) + (fsp > 0 ? fsp + 1 : 0);
                    args[1] = fsp;
                    break;
                }
            case "year":
                ft.tp = MysqlType.YEAR;
                args[0] = 4;
                args[1] = 0;
                skipOptionalParens();
                break;
            case "bit":
                ft.tp = MysqlType.BIT;
                optionalLength(args);
                if (args[0] < 0) {
                    args[0] = 1;
                }
                if (args[0] > 64) {
                    throw error(t, "column '" + column + "': BIT(" + args[0] + ") is over 64 bits");
                }
                ft.flag |= MysqlType.UNSIGNED_FLAG;
                break;
            case "enum":
            case "set":
                ft.tp = name.equals("enum") ? MysqlType.ENUM : MysqlType.SET;
                elems = new ArrayList<>();
                expect("(");
                do {
                    elems.add(string("an element"));
                } while (accept(","));
                expect(")");
                string = true;
                break;
            case "json":
                ft.tp = MysqlType.JSON;
                break;
            default:
                throw error(
                        t,
                        "column '"
                                + column
                                + "' of table '"
                                + table.name.o
                                + "' has type '"
                                + name
                                + "', which the schema file does not support");
        }
        while (true) {
            if (accept("UNSIGNED")) {
                if (!MysqlType.isInteger(ft.tp)
                        && ft.tp != MysqlType.NEWDECIMAL
                        && ft.tp != MysqlType.FLOAT
                        && ft.tp != MysqlType.DOUBLE) {
                    throw error(t, "column '" + column + "': " + name + " cannot be UNSIGNED");
                }
                ft.flag |= MysqlType.UNSIGNED_FLAG;
            } else if (accept("SIGNED")) {
                ft.flag &= ~MysqlType.UNSIGNED_FLAG;
            } else if (accept("ZEROFILL")) {
                ft.flag |= MysqlType.ZEROFILL_FLAG | MysqlType.UNSIGNED_FLAG;
            } else {
                break;
            }
        }
        if (MysqlType.isInteger(ft.tp) && args[0] < 0) {
            args[0] = defaultIntWidth(ft.tp, ft.isUnsigned());
        }
        if ((ft.tp == MysqlType.FLOAT || ft.tp == MysqlType.DOUBLE) && args[0] < 0) {
            args[0] = ft.tp == MysqlType.FLOAT ? 12 : 22;
        }
        ft.flen = args[0];
        ft.decimal = MysqlType.isInteger(ft.tp) ? 0 : args[1];
        ft.elems = elems;
        if (string) {
            ft.charset = tableCs[0];
            ft.collate = tableCs[1];
            if (!Collators.isSupported(ft.collate)) {
                throw error(
                        t,
                        "column '" + column + "': collation '" + ft.collate + "' is not supported");
            }
        } else if (ft.charset.equals("binary")) {
            ft.flag |= MysqlType.BINARY_FLAG;
        }
        return ft;
    }

    private static int defaultIntWidth(int tp, boolean unsigned) {
        switch (tp) {
            case MysqlType.TINY:
                return unsigned ? 3 : 4;
            case MysqlType.SHORT:
                return unsigned ? 5 : 6;
            case MysqlType.INT24:
                return unsigned ? 8 : 9;
            case MysqlType.LONG:
                return unsigned ? 10 : 11;
            default:
                return 20;
        }
    }

    private void optionalLength(int[] args) {
        if (accept("(")) {
            args[0] = number("a length");
            if (accept(",")) {
                args[1] = number("a scale");
            }
            expect(")");
        }
    }

    private void partition(TableInfo t) {
        Token at = expect("BY");
        PartitionInfo p = new PartitionInfo();
        boolean list = false;
        if (accept("HASH")) {
            p.type = PartitionInfo.HASH;
            p.expr = parenthesized();
        } else if (accept("KEY")) {
            p.type = PartitionInfo.KEY;
            p.columns = columnList();
        } else if (accept("RANGE") || (list = accept("LIST"))) {
            p.type = list ? PartitionInfo.LIST : PartitionInfo.RANGE;
            if (accept("COLUMNS")) {
                p.columns = columnList();
            } else {
                p.expr = parenthesized();
            }
        } else {
            throw error(
                    peek(),
                    "expected HASH, KEY, RANGE or LIST after PARTITION BY but found " + peek());
        }
        if (accept("PARTITIONS")) {
            int n = number("a partition count");
            for (int k = 0; k < n; k++) {
                PartitionInfo.PartitionDefinition d = new PartitionInfo.PartitionDefinition();
                d.name = CIStr.of("p" + k);
                p.definitions.add(d);
            }
        }
        if (accept("(")) {
            do {
                expect("PARTITION");
                PartitionInfo.PartitionDefinition d = new PartitionInfo.PartitionDefinition();
                d.name = CIStr.of(identifier("a partition name"));
                if (accept("VALUES")) {
                    if (accept("LESS")) {
                        expect("THAN");
                        d.lessThan = valueList();
                    } else {
                        expect("IN");
                        d.inValues = new ArrayList<>();
                        for (String v : valueList()) {
                            d.inValues.add(List.of(v));
                        }
                    }
                }
                p.definitions.add(d);
            } while (accept(","));
            expect(")");
        }
        if (p.definitions.isEmpty()) {
            throw error(
                    at,
                    "table '"
                            + t.name.o
                            + "': PARTITION BY needs PARTITIONS n or a partition list");
        }
        t.partition = p;
    }

    private String parenthesized() {
        expect("(");
        StringBuilder sb = new StringBuilder();
        int depth = 1;
        while (true) {
            Token tk = next();
            if (tk.kind == Kind.END) {
                throw error(tk, "unbalanced parentheses");
            }
            if (tk.is("(")) {
                depth++;
            } else if (tk.is(")") && --depth == 0) {
                return sb.toString();
            }
            boolean function = tk.kind == Kind.WORD && peek().is("(");
            if ((tk.kind == Kind.WORD && !function) || tk.kind == Kind.QUOTED_IDENT) {
                sb.append('`').append(tk.text).append('`');
            } else if (tk.kind == Kind.STRING) {
                sb.append('\'').append(tk.text).append('\'');
            } else {
                sb.append(tk.text);
            }
        }
    }

    private List<CIStr> columnList() {
        List<CIStr> cols = new ArrayList<>();
        expect("(");
        do {
            cols.add(CIStr.of(identifier("a column name")));
        } while (accept(","));
        expect(")");
        return cols;
    }

    private List<String> valueList() {
        List<String> values = new ArrayList<>();
        if (accept("MAXVALUE")) {
            values.add("MAXVALUE");
            return values;
        }
        expect("(");
        do {
            Token v = next();
            if (v.is("MAXVALUE")) {
                values.add("MAXVALUE");
            } else if (v.kind == Kind.STRING) {
                values.add("'" + v.text + "'");
            } else if (v.kind == Kind.NUMBER || v.is("NULL")) {
                values.add(v.text);
            } else {
                throw error(v, "expected a partition bound but found " + v);
            }
        } while (accept(","));
        expect(")");
        return values;
    }
}
