package io.tiflink.tidb.schema;

import java.util.ArrayList;
import java.util.List;

/** Splits TiDB SQL into tokens, each with its line and column for error messages. */
final class SqlLexer {
    enum Kind {
        WORD,
        QUOTED_IDENT,
        STRING,
        NUMBER,
        SYMBOL,
        END
    }

    static final class Token {
        final Kind kind;
        final String text;
        final int line;
        final int column;

        Token(Kind kind, String text, int line, int column) {
            this.kind = kind;
            this.text = text;
            this.line = line;
            this.column = column;
        }

        boolean is(String word) {
            return (kind == Kind.WORD || kind == Kind.SYMBOL) && text.equalsIgnoreCase(word);
        }

        @Override
        public String toString() {
            return kind == Kind.END ? "end of file" : "'" + text + "'";
        }
    }

    private final String src;
    private int pos;
    private int line = 1;
    private int col = 1;

    private SqlLexer(String src) {
        this.src = src;
    }

    static List<Token> tokenize(String src, String file) {
        SqlLexer l = new SqlLexer(src);
        List<Token> out = new ArrayList<>();
        Token t;
        do {
            t = l.next(file);
            out.add(t);
        } while (t.kind != Kind.END);
        return out;
    }

    private char peek(int ahead) {
        return pos + ahead < src.length() ? src.charAt(pos + ahead) : '\0';
    }

    private char advance() {
        char c = src.charAt(pos++);
        if (c == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
        return c;
    }

    private Token next(String file) {
        while (pos < src.length()) {
            char c = peek(0);
            if (Character.isWhitespace(c)) {
                advance();
            } else if ((c == '-' && peek(1) == '-') || c == '#') {
                while (pos < src.length() && peek(0) != '\n') {
                    advance();
                }
            } else if (c == '/' && peek(1) == '*') {
                while (pos < src.length() && !(peek(0) == '*' && peek(1) == '/')) {
                    advance();
                }
                if (pos < src.length()) {
                    advance();
                    advance();
                }
            } else {
                break;
            }
        }
        int l = line;
        int cl = col;
        if (pos >= src.length()) {
            return new Token(Kind.END, "", l, cl);
        }
        char c = peek(0);
        if (c == '`') {
            advance();
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= src.length()) {
                    throw new SchemaFileException(file, l, cl, "unterminated `identifier`");
                }
                char d = advance();
                if (d == '`') {
                    if (peek(0) == '`') {
                        sb.append(advance());
                        continue;
                    }
                    break;
                }
                sb.append(d);
            }
            return new Token(Kind.QUOTED_IDENT, sb.toString(), l, cl);
        }
        if (c == '\'' || c == '"') {
            char quote = advance();
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (pos >= src.length()) {
                    throw new SchemaFileException(file, l, cl, "unterminated string");
                }
                char d = advance();
                if (d == '\\' && pos < src.length()) {
                    char e = advance();
                    sb.append(e == 'n' ? '\n' : e == 't' ? '\t' : e == '0' ? '\0' : e);
                } else if (d == quote) {
                    if (peek(0) == quote) {
                        sb.append(advance());
                        continue;
                    }
                    break;
                } else {
                    sb.append(d);
                }
            }
            return new Token(Kind.STRING, sb.toString(), l, cl);
        }
        if (Character.isDigit(c)
                || (c == '-' && Character.isDigit(peek(1)))
                || (c == '.' && Character.isDigit(peek(1)))) {
            StringBuilder sb = new StringBuilder();
            sb.append(advance());
            while (pos < src.length() && (Character.isLetterOrDigit(peek(0)) || peek(0) == '.')) {
                sb.append(advance());
            }
            return new Token(Kind.NUMBER, sb.toString(), l, cl);
        }
        if (Character.isLetter(c) || c == '_' || c == '$') {
            StringBuilder sb = new StringBuilder();
            while (pos < src.length()
                    && (Character.isLetterOrDigit(peek(0)) || peek(0) == '_' || peek(0) == '$')) {
                sb.append(advance());
            }
            return new Token(Kind.WORD, sb.toString(), l, cl);
        }
        return new Token(Kind.SYMBOL, String.valueOf(advance()), l, cl);
    }
}
