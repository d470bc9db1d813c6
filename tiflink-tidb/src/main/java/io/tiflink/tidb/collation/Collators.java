package io.tiflink.tidb.collation;

import io.tiflink.tidb.codec.Codec;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * The collations TiDB supports for keys with new collations enabled (TiDB's default since v4.0):
 * binary, the {@code _bin} collations (PAD SPACE), {@code utf8mb4_0900_bin} (NO PAD), {@code
 * utf8mb4_general_ci}, {@code utf8mb4_unicode_ci} (UCA 4.0.0) and {@code utf8mb4_0900_ai_ci} (UCA
 * 9.0.0). Weight tables are generated data (see tools/collation_tables.py), loaded on first use.
 */
public final class Collators {
    public static final Collator BINARY = new Bin("binary", false);
    public static final Collator UTF8MB4_BIN = new Bin("utf8mb4_bin", true);
    public static final Collator UTF8MB4_0900_BIN = new Bin("utf8mb4_0900_bin", false);
    public static final Collator UTF8MB4_GENERAL_CI = new GeneralCi("utf8mb4_general_ci");
    public static final Collator UTF8MB4_UNICODE_CI = new Uca("utf8mb4_unicode_ci", true);
    public static final Collator UTF8MB4_0900_AI_CI = new Uca("utf8mb4_0900_ai_ci", false);

    private static final Map<String, Collator> BY_NAME = new HashMap<>();

    static {
        for (Collator c :
                new Collator[] {
                    BINARY,
                    UTF8MB4_BIN,
                    UTF8MB4_0900_BIN,
                    UTF8MB4_GENERAL_CI,
                    UTF8MB4_UNICODE_CI,
                    UTF8MB4_0900_AI_CI
                }) {
            BY_NAME.put(c.name(), c);
        }
        // Same keys under other charsets' names (all strings are UTF-8 inside TiDB).
        BY_NAME.put("utf8_bin", UTF8MB4_BIN);
        BY_NAME.put("ascii_bin", UTF8MB4_BIN);
        BY_NAME.put("latin1_bin", UTF8MB4_BIN);
        BY_NAME.put("utf8_general_ci", new GeneralCi("utf8_general_ci"));
        BY_NAME.put("utf8_unicode_ci", new Uca("utf8_unicode_ci", true));
    }

    private Collators() {}

    /**
     * The collator of this name.
     *
     * @throws IllegalArgumentException naming the collation if TiFlink does not support it
     */
    public static Collator get(String name) {
        String n = name == null || name.isEmpty() ? "binary" : name.toLowerCase(Locale.ROOT);
        Collator c = BY_NAME.get(n);
        if (c == null) {
            throw new IllegalArgumentException(
                    "collation '"
                            + name
                            + "' is not supported; supported: "
                            + new java.util.TreeSet<>(BY_NAME.keySet()));
        }
        return c;
    }

    public static boolean isSupported(String name) {
        return name == null || name.isEmpty() || BY_NAME.containsKey(name.toLowerCase(Locale.ROOT));
    }

    /** The string without trailing spaces (0x20 only, as TiDB trims for PAD SPACE). */
    static String trimTrailingSpaces(String s) {
        int end = s.length();
        while (end > 0 && s.charAt(end - 1) == ' ') {
            end--;
        }
        return end == s.length() ? s : s.substring(0, end);
    }

    private static final class Bin implements Collator {
        private final String name;
        private final boolean padSpace;

        Bin(String name, boolean padSpace) {
            this.name = name;
            this.padSpace = padSpace;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public byte[] key(String s) {
            return Codec.utf8(padSpace ? trimTrailingSpaces(s) : s);
        }

        @Override
        public boolean isBinary() {
            return true;
        }

        @Override
        public boolean padSpace() {
            return padSpace;
        }
    }

    /** MySQL's utf8mb4_general_ci: one 16-bit weight per BMP character, 0xFFFD above it. */
    private static final class GeneralCi implements Collator {
        private final String name;

        GeneralCi(String name) {
            this.name = name;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public byte[] key(String s) {
            String t = trimTrailingSpaces(s);
            char[] weights = GeneralCiTable.WEIGHTS;
            byte[] out = new byte[t.length() * 2];
            int n = 0;
            for (int i = 0; i < t.length(); ) {
                int cp = t.codePointAt(i);
                i += Character.charCount(cp);
                int w = cp > 0xFFFF ? 0xFFFD : weights[cp];
                out[n++] = (byte) (w >>> 8);
                out[n++] = (byte) w;
            }
            return n == out.length ? out : Arrays.copyOf(out, n);
        }

        @Override
        public boolean isBinary() {
            return false;
        }

        @Override
        public boolean padSpace() {
            return true;
        }
    }

    /**
     * The UCA collations: each character's primary weights (up to four 16-bit weights packed in a
     * long, first weight lowest; more in the long-rune map), zero weights (ignorables) dropped.
     */
    private static final class Uca implements Collator {
        private final String name;
        private final boolean v0400;

        Uca(String name, boolean v0400) {
            this.name = name;
            this.v0400 = v0400;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public byte[] key(String s) {
            String t = v0400 ? trimTrailingSpaces(s) : s;
            UcaTable table = v0400 ? UcaTable.V0400 : UcaTable.V0900;
            byte[] out = new byte[Math.max(16, t.length() * 4)];
            int n = 0;
            for (int i = 0; i < t.length(); ) {
                int cp = t.codePointAt(i);
                i += Character.charCount(cp);
                long[] w = table.weights(cp, v0400);
                for (long part : w) {
                    while (part != 0) {
                        if (n + 2 > out.length) {
                            out = Arrays.copyOf(out, out.length * 2);
                        }
                        out[n++] = (byte) (part >>> 8);
                        out[n++] = (byte) part;
                        part >>>= 16;
                    }
                }
            }
            return Arrays.copyOf(out, n);
        }

        @Override
        public boolean isBinary() {
            return false;
        }

        @Override
        public boolean padSpace() {
            return v0400;
        }
    }

    private static final class GeneralCiTable {
        static final char[] WEIGHTS = load();

        private static char[] load() {
            try (DataInputStream in = open("general_ci.bin.gz")) {
                char[] w = new char[0x10000];
                for (int i = 0; i < w.length; i++) {
                    w[i] = in.readChar();
                }
                return w;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load general_ci weights", e);
            }
        }
    }

    private static final class UcaTable {
        static final UcaTable V0400 = new UcaTable("uca0400.bin.gz");
        static final UcaTable V0900 = new UcaTable("uca0900.bin.gz");
        private static final long LONG_RUNE = 0xFFFD;

        private final long[] table;
        private final Map<Integer, long[]> longRunes = new HashMap<>();

        private UcaTable(String resource) {
            try (DataInputStream in = open(resource)) {
                table = new long[in.readInt()];
                for (int i = 0; i < table.length; i++) {
                    table[i] = in.readLong();
                }
                int m = in.readInt();
                for (int i = 0; i < m; i++) {
                    int cp = in.readInt();
                    longRunes.put(cp, new long[] {in.readLong(), in.readLong()});
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot load collation weights " + resource, e);
            }
        }

        long[] weights(int cp, boolean v0400) {
            if (cp >= table.length) {
                if (v0400) {
                    return new long[] {0xFFFD};
                }
                // UCA implicit weights for code points past the table (unassigned).
                return new long[] {
                    (cp >> 15) + 0xFBC0L + (((long) ((cp & 0x7FFF) | 0x8000)) << 16)
                };
            }
            long w = table[cp];
            if (w == LONG_RUNE) {
                long[] l = longRunes.get(cp);
                return l != null ? l : new long[] {LONG_RUNE};
            }
            return new long[] {w};
        }
    }

    private static DataInputStream open(String resource) throws IOException {
        InputStream raw = Collators.class.getResourceAsStream(resource);
        if (raw == null) {
            throw new IOException("missing resource " + resource);
        }
        return new DataInputStream(new GZIPInputStream(raw, 1 << 16));
    }
}
