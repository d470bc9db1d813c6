package io.tiflink.tidb.collation;

import org.junit.jupiter.api.Test;

import static io.tiflink.tikv.Keys.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Sort keys from tikv/tikv components/tidb_query_datatype/src/codec/collation/collator/mod.rs
 * test_utf8mb4_sort_key, which TiKV keeps byte-identical to TiDB's collators (pkg/util/collate).
 */
class CollatorsTest {
    private static void check(Collator c, String s, String expectedHex) {
        assertThat(hex(c.key(s))).as("%s key of '%s'", c.name(), s).isEqualTo(expectedHex);
    }

    @Test
    void singleLetters() {
        for (String s : new String[] {"a", "A"}) {
            check(Collators.UTF8MB4_GENERAL_CI, s, "0041");
            check(Collators.UTF8MB4_UNICODE_CI, s, "0e33");
            check(Collators.UTF8MB4_0900_AI_CI, s, "1c47");
        }
        check(Collators.UTF8MB4_BIN, "a", "61");
        check(Collators.UTF8MB4_0900_BIN, "A", "41");
    }

    @Test
    void trailingSpaceIsPaddingOnlyForPadSpaceCollations() {
        check(Collators.UTF8MB4_BIN, "A ", "41");
        check(Collators.BINARY, "A ", "4120");
        check(Collators.UTF8MB4_GENERAL_CI, "A ", "0041");
        check(Collators.UTF8MB4_UNICODE_CI, "A ", "0e33");
        check(Collators.UTF8MB4_0900_AI_CI, "A ", "1c470209");
        check(Collators.UTF8MB4_0900_BIN, "A ", "4120");
    }

    @Test
    void supplementaryCharacters() {
        check(Collators.UTF8MB4_BIN, "😃", "f09f9883");
        check(Collators.UTF8MB4_GENERAL_CI, "😃", "fffd");
        check(Collators.UTF8MB4_UNICODE_CI, "😃", "fffd");
        check(Collators.UTF8MB4_0900_AI_CI, "😃", "15fe");
    }

    @Test
    void mixedText() {
        String s = "Foo \u00a9 bar \ud834\udf06 baz \u2603 qux";
        check(
                Collators.UTF8MB4_GENERAL_CI,
                s,
                "0046004f004f002000a900200042004100520020fffd002000420041005a002026030020005100550058");
        check(
                Collators.UTF8MB4_UNICODE_CI,
                s,
                "0eb90f820f82020902c502090e4a0e330fc00209fffd02090e4a0e33106a020906ff02090fb4101f105a");
        check(
                Collators.UTF8MB4_0900_AI_CI,
                s,
                "1ce51ddd1ddd0209058402091c601c471e3302090ef002091c601c471f210209091b02091e211eb51eff");
        check(Collators.UTF8MB4_BIN, s, hex(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    /** A character with more weights than a table entry holds (the long-rune map). */
    @Test
    void longRunes() {
        check(Collators.UTF8MB4_GENERAL_CI, "\ufdfb", "fdfb");
        check(Collators.UTF8MB4_UNICODE_CI, "\ufdfb", "135e13ab0209135e13ab135013ab13b7");
        check(Collators.UTF8MB4_0900_AI_CI, "\ufdfb", "2325239c02092325239c230b239c23b1");
    }

    @Test
    void cjkImplicitWeights() {
        check(Collators.UTF8MB4_GENERAL_CI, "\u4e2d\u6587", "4e2d6587");
        check(Collators.UTF8MB4_UNICODE_CI, "\u4e2d\u6587", "fb40ce2dfb40e587");
        check(Collators.UTF8MB4_0900_AI_CI, "\u4e2d\u6587", "fb40ce2dfb40e587");
    }

    @Test
    void unknownCollationIsNamed() {
        assertThatThrownBy(() -> Collators.get("gbk_chinese_ci"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("gbk_chinese_ci");
    }
}
