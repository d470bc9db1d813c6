package io.tiflink.cdc.client;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.tiflink.cdc.client.Writes.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyRangeTest {
    private static KeyRange range(String start, String end) {
        return KeyRange.of(bytes(start), bytes(end));
    }

    @Test
    void normalizeSortsAndJoinsOverlappingAndTouchingRanges() {
        assertThat(
                        KeyRange.normalize(
                                List.of(
                                        range("m", "p"),
                                        range("a", "c"),
                                        range("b", "d"),
                                        range("d", "e"),
                                        range("x", "z"))))
                .containsExactly(range("a", "e"), range("m", "p"), range("x", "z"));
        assertThat(
                        KeyRange.normalize(
                                List.of(KeyRange.of(bytes("c"), new byte[0]), range("a", "d"))))
                .containsExactly(KeyRange.of(bytes("a"), new byte[0]));
    }

    @Test
    void intersectHandlesUnboundedEnds() {
        assertThat(range("a", "m").intersect(KeyRange.of(bytes("c"), new byte[0])))
                .isEqualTo(range("c", "m"));
        assertThat(range("a", "c").intersect(range("c", "e"))).isNull();
        assertThat(KeyRange.all().intersect(range("b", "c"))).isEqualTo(range("b", "c"));
    }

    @Test
    void rejectsAnEmptyRange() {
        assertThatThrownBy(() -> range("b", "a")).isInstanceOf(IllegalArgumentException.class);
    }
}
