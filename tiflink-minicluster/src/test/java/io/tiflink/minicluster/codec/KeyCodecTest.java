package io.tiflink.minicluster.codec;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyCodecTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] hex(String h) {
        String clean = h.replace(" ", "");
        byte[] out = new byte[clean.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(clean.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }

    @Test
    void encodesTheSpecVectors() {
        // Spec §4.1, worked byte examples (TiDB meta keys).
        assertThat(KeyCodec.toHex(KeyCodec.encodeBytes(b("SchemaVersionKey"))))
                .isEqualTo("536368656d615665ff7273696f6e4b6579ff0000000000000000f7");
        assertThat(KeyCodec.toHex(KeyCodec.encodeBytes(b("DBs")))).isEqualTo("4442730000000000fa");
        assertThat(KeyCodec.toHex(KeyCodec.encodeBytes(b("DB:2")))).isEqualTo("44423a3200000000fb");
        assertThat(KeyCodec.toHex(KeyCodec.encodeBytes(b("Table:100"))))
                .isEqualTo("5461626c653a3130ff3000000000000000f8");
    }

    @Test
    void encodesEdgeLengths() {
        assertThat(KeyCodec.toHex(KeyCodec.encodeBytes(new byte[0])))
                .isEqualTo("0000000000000000f7");
        assertThat(KeyCodec.toHex(KeyCodec.encodeBytes(b("12345678"))))
                .isEqualTo("3132333435363738ff0000000000000000f7");
        assertThat(KeyCodec.toHex(KeyCodec.encodeBytes(b("1234567"))))
                .isEqualTo("3132333435363700fe");
        assertThat(KeyCodec.encodeBoundary(new byte[0])).isEmpty();
        assertThat(KeyCodec.encodeBoundary(b("DBs"))).isEqualTo(hex("4442730000000000fa"));
    }

    @Test
    void roundTripsAndPreservesOrder() {
        Random random = new Random(42);
        List<byte[]> keys = new ArrayList<>();
        keys.add(new byte[0]);
        keys.add(new byte[] {0});
        keys.add(new byte[] {0, 0, 0, 0, 0, 0, 0, 0});
        keys.add(
                new byte[] {
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff,
                    (byte) 0xff
                });
        for (int i = 0; i < 500; i++) {
            byte[] k = new byte[random.nextInt(20)];
            for (int j = 0; j < k.length; j++) {
                k[j] = (byte) random.nextInt(4); // small alphabet: many shared prefixes
            }
            keys.add(k);
        }
        for (byte[] k : keys) {
            byte[] encoded = KeyCodec.encodeBytes(k);
            assertThat(encoded.length % 9).isZero();
            assertThat(KeyCodec.decodeBytes(encoded)).isEqualTo(k);
        }
        for (int i = 0; i < keys.size(); i++) {
            for (int j = 0; j < keys.size(); j += 7) {
                int raw = Integer.signum(KeyCodec.compare(keys.get(i), keys.get(j)));
                int enc =
                        Integer.signum(
                                KeyCodec.compare(
                                        KeyCodec.encodeBytes(keys.get(i)),
                                        KeyCodec.encodeBytes(keys.get(j))));
                assertThat(enc).isEqualTo(raw);
            }
        }
    }

    @Test
    void rejectsInvalidEncodings() {
        // Too short for a group.
        assertThatThrownBy(() -> KeyCodec.decodeBytes(hex("44427300000000")))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> KeyCodec.decodeBytes(new byte[0]))
                .isInstanceOf(IllegalArgumentException.class);
        // A full group (marker 0xff) must be followed by another group.
        assertThatThrownBy(() -> KeyCodec.decodeBytes(hex("3132333435363738ff")))
                .isInstanceOf(IllegalArgumentException.class);
        // Marker below 0xf7: more than 8 padding bytes.
        assertThatThrownBy(() -> KeyCodec.decodeBytes(hex("0000000000000000f6")))
                .isInstanceOf(IllegalArgumentException.class);
        // Padding bytes must be zero.
        assertThatThrownBy(() -> KeyCodec.decodeBytes(hex("4442730000000001fa")))
                .isInstanceOf(IllegalArgumentException.class);
        // Bytes after the final group.
        assertThatThrownBy(() -> KeyCodec.decodeBytes(hex("4442730000000000fa00")))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void prefixNextBoundsEveryKeyWithThePrefix() {
        assertThat(KeyCodec.prefixNext(b("abc"))).isEqualTo(b("abd"));
        assertThat(KeyCodec.prefixNext(new byte[] {'a', (byte) 0xff})).isEqualTo(b("b"));
        assertThat(KeyCodec.prefixNext(new byte[] {(byte) 0xff, (byte) 0xff}))
                .isEqualTo(new byte[] {(byte) 0xff, (byte) 0xff, 0});
        assertThat(KeyCodec.prefixNext(new byte[0])).isEqualTo(new byte[] {0});
        byte[] prefix = {'a', (byte) 0xff};
        byte[] upper = KeyCodec.prefixNext(prefix);
        assertThat(KeyCodec.compare(new byte[] {'a', (byte) 0xff, (byte) 0xff, 9}, upper))
                .isNegative();
        assertThat(KeyCodec.compare(b("b"), upper)).isZero();
        // The input is not modified.
        assertThat(prefix).isEqualTo(new byte[] {'a', (byte) 0xff});
    }

    @Test
    void nextIsTheImmediateSuccessor() {
        assertThat(KeyCodec.next(b("a"))).isEqualTo(new byte[] {'a', 0});
        assertThat(KeyCodec.next(new byte[0])).isEqualTo(new byte[] {0});
    }

    @Test
    void ordersBytesUnsignedAndTreatsEmptyEndAsUnbounded() {
        assertThat(KeyCodec.compare(new byte[] {(byte) 0x80}, new byte[] {0x7f})).isPositive();
        assertThat(KeyCodec.compare(b("a"), b("ab"))).isNegative();
        assertThat(KeyCodec.inRange(b("m"), b("a"), new byte[0])).isTrue();
        assertThat(KeyCodec.inRange(b("a"), b("a"), b("b"))).isTrue();
        assertThat(KeyCodec.inRange(b("b"), b("a"), b("b"))).isFalse();
        assertThat(KeyCodec.inRange(new byte[] {(byte) 0xff}, b("a"), b("b"))).isFalse();
    }
}
