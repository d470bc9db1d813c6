package io.tiflink.tidb.collation;

/**
 * How TiDB's new collation framework turns a string into the bytes an index or clustered key holds
 * ({@code collate.Collator.Key}). Keys of case- or accent-insensitive collations lose the original
 * string, which is why TiDB keeps "restored data" in index values.
 */
public interface Collator {
    /** The collation's name, e.g. {@code utf8mb4_general_ci}. */
    String name();

    /** The sort key of {@code s}, as it appears (memcomparable-encoded) in keys. */
    byte[] key(String s);

    /**
     * Whether the key is the string's own bytes, trailing spaces aside ({@code
     * collate.IsBinCollation}); then an index needs to restore at most the trimmed spaces.
     */
    boolean isBinary();

    /** PAD SPACE collations ignore trailing spaces; NO PAD ones (binary, *_0900_*) do not. */
    boolean padSpace();
}
