package io.tiflink.cdc.client;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.tiflink.cdc.client.Writes.bytes;
import static org.assertj.core.api.Assertions.assertThat;

class SpanFrontierTest {
    private static KeyRange range(String start, String end) {
        return KeyRange.of(bytes(start), bytes(end));
    }

    @Test
    void minimumIsTheLowestPart() {
        SpanFrontier f = new SpanFrontier(List.of(range("a", "z")), 10);
        f.advance(range("a", "m"), 20);
        assertThat(f.min()).isEqualTo(10);
        assertThat(f.tsAt(bytes("b"))).isEqualTo(20);
        assertThat(f.tsAt(bytes("m"))).isEqualTo(10);
        f.advance(range("m", "z"), 15);
        assertThat(f.min()).isEqualTo(15);
        assertThat(f.min(range("a", "n"))).isEqualTo(15);
        assertThat(f.min(range("a", "c"))).isEqualTo(20);
    }

    @Test
    void neverGoesBackwards() {
        SpanFrontier f = new SpanFrontier(List.of(range("a", "z")), 10);
        f.advance(range("c", "f"), 30);
        f.advance(range("a", "z"), 20);
        assertThat(f.tsAt(bytes("d"))).isEqualTo(30);
        assertThat(f.tsAt(bytes("a"))).isEqualTo(20);
        assertThat(f.min()).isEqualTo(20);
    }

    @Test
    void partsOfEqualTsJoin() {
        SpanFrontier f = new SpanFrontier(List.of(range("a", "z")), 10);
        f.advance(range("a", "c"), 20);
        f.advance(range("c", "f"), 20);
        f.advance(range("f", "z"), 20);
        assertThat(f.size()).isEqualTo(1);
        assertThat(f.min()).isEqualTo(20);
    }

    @Test
    void keysOutsideTheRangesHaveNoTs() {
        SpanFrontier f = new SpanFrontier(List.of(range("b", "c"), range("x", "y")), 10);
        assertThat(f.tsAt(bytes("a"))).isEqualTo(Long.MAX_VALUE);
        assertThat(f.tsAt(bytes("c"))).isEqualTo(Long.MAX_VALUE);
        assertThat(f.tsAt(bytes("x"))).isEqualTo(10);
        f.advance(range("b", "c"), 50);
        assertThat(f.min()).isEqualTo(10);
        f.advance(range("x", "y"), 40);
        assertThat(f.min()).isEqualTo(40);
    }

    @Test
    void anUnboundedRangeWorks() {
        SpanFrontier f = new SpanFrontier(List.of(KeyRange.all()), 1);
        f.advance(KeyRange.of(bytes("k"), new byte[0]), 5);
        assertThat(f.tsAt(bytes("zzz"))).isEqualTo(5);
        assertThat(f.tsAt(bytes("a"))).isEqualTo(1);
        assertThat(f.min()).isEqualTo(1);
    }

    /** Random advances against a model that keeps one ts per single-letter key. */
    @Test
    void agreesWithAPerKeyModel() {
        Random rnd = new Random(42);
        long[] model = new long[26];
        java.util.Arrays.fill(model, 100);
        SpanFrontier f = new SpanFrontier(List.of(range("a", "{")), 100);
        for (int step = 0; step < 2000; step++) {
            int s = rnd.nextInt(26);
            int e = s + 1 + rnd.nextInt(26 - s);
            long ts = 100 + rnd.nextInt(500);
            f.advance(range(letter(s), letter(e)), ts);
            for (int i = s; i < e; i++) {
                model[i] = Math.max(model[i], ts);
            }
            List<Long> actual = new ArrayList<>();
            List<Long> expected = new ArrayList<>();
            long min = Long.MAX_VALUE;
            for (int i = 0; i < 26; i++) {
                actual.add(f.tsAt(bytes(letter(i))));
                expected.add(model[i]);
                min = Math.min(min, model[i]);
            }
            assertThat(actual).isEqualTo(expected);
            assertThat(f.min()).isEqualTo(min);
            int ps = rnd.nextInt(26);
            int pe = ps + 1 + rnd.nextInt(26 - ps);
            long pieceMin = Long.MAX_VALUE;
            for (int i = ps; i < pe; i++) {
                pieceMin = Math.min(pieceMin, model[i]);
            }
            assertThat(f.min(range(letter(ps), letter(pe)))).isEqualTo(pieceMin);
        }
    }

    private static String letter(int i) {
        return String.valueOf((char) ('a' + i));
    }
}
