package io.tiflink.tidb.types;

import io.tiflink.tidb.codec.BytesWriter;
import io.tiflink.tidb.codec.CodecException;
import io.tiflink.tikv.Keys;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BinaryJsonTest {
    private static byte[] encode(String text) {
        BytesWriter out = new BytesWriter();
        BinaryJson.write(out, text);
        return out.toByteArray();
    }

    @Test
    void arrayLiteralsAreInlinedInTheirValueEntries() {
        // 03 | count 3 | size | entries: (04 01 ....)(04 00 ....)(09 offset) | int64 1
        byte[] b = encode("[true, null, 1]");
        assertThat(Keys.hex(b))
                .isEqualTo(
                        "03"
                                + "03000000"
                                + "1f000000"
                                + "0401000000"
                                + "0400000000"
                                + "0917000000"
                                + "0100000000000000");
        assertThat(BinaryJson.length(b, 0)).isEqualTo(b.length);
        assertThat(BinaryJson.toText(b)).isEqualTo("[true, null, 1]");
    }

    @Test
    void textIsTiDBs() {
        String[][] cases = {
            {
                "{\"b\":1,\"a\":[1.5,-2,\"x\\\"y\"],\"c\":{}}",
                "{\"a\": [1.5, -2, \"x\\\"y\"], \"b\": 1, \"c\": {}}"
            },
            {"18446744073709551615", "18446744073709551615"},
            {"-9223372036854775808", "-9223372036854775808"},
            {"3.0", "3.0"},
            {"1e21", "1e+21"},
            {"0.000001", "0.000001"},
            {"1e-7", "1e-7"},
            {"\"\u4e2d\u6587\"", "\"\u4e2d\u6587\""},
            {"[]", "[]"},
            {"false", "false"},
        };
        for (String[] c : cases) {
            byte[] b = encode(c[0]);
            assertThat(BinaryJson.toText(b)).as(c[0]).isEqualTo(c[1]);
            assertThat(BinaryJson.length(b, 0)).as(c[0]).isEqualTo(b.length);
        }
    }

    @Test
    void objectKeysSortBytewise() {
        // "B" (0x42) sorts before "a" (0x61); a shorter prefix before a longer key.
        assertThat(BinaryJson.toText(encode("{\"a\":1,\"B\":2,\"aa\":3}")))
                .isEqualTo("{\"B\": 2, \"a\": 1, \"aa\": 3}");
    }

    @Test
    void invalidJsonIsRejected() {
        assertThatThrownBy(() -> encode("{\"a\":1,\"a\":2}"))
                .isInstanceOf(CodecException.class)
                .hasMessageContaining("invalid JSON");
        assertThatThrownBy(() -> encode("{")).isInstanceOf(CodecException.class);
        assertThatThrownBy(() -> encode("")).isInstanceOf(CodecException.class);
    }
}
