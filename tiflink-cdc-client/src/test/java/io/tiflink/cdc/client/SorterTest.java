package io.tiflink.cdc.client;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static io.tiflink.cdc.client.Writes.bytes;
import static org.assertj.core.api.Assertions.assertThat;

class SorterTest {
    @TempDir Path dir;

    private static KeyChange change(String key, long commitTs) {
        return new KeyChange(
                bytes(key),
                bytes("v" + commitTs),
                new byte[0],
                KeyChange.Op.PUT,
                commitTs - 1,
                commitTs,
                commitTs % 3); // spilled and read back with the rest
    }

    private static List<KeyChange> drain(Sorter s, long upTo) {
        List<KeyChange> out = new ArrayList<>();
        KeyChange c;
        while ((c = s.next(upTo)) != null) {
            out.add(c);
        }
        return out;
    }

    private long files() throws IOException {
        try (Stream<Path> f = Files.list(dir)) {
            return f.count();
        }
    }

    @Test
    void mergesMemoryAndRunsInCommitOrderUpToTheBound() throws IOException {
        try (Sorter s = new Sorter(dir)) {
            s.add(List.of(change("a", 20), change("b", 20)));
            s.spill(Map.of(5L, List.of(change("c", 35), change("a", 10))));
            s.add(List.of(change("z", 15)));
            s.spill(Map.of());
            s.add(List.of(change("m", 30)));
            s.add(List.of(change("n", 12), change("n", 31)));
            assertThat(s.memoryBytes()).isPositive();
            assertThat(s.spilledBytes()).isPositive();
            assertThat(drain(s, 30))
                    .containsExactly(
                            change("a", 10),
                            change("n", 12),
                            change("z", 15),
                            change("a", 20),
                            change("b", 20),
                            change("m", 30));
            assertThat(drain(s, 40)).containsExactly(change("n", 31), change("c", 35));
            assertThat(s.spilledBytes()).isZero();
            assertThat(s.runCount()).isEqualTo(2);
            assertThat(files()).isZero();
        }
    }

    @Test
    void skipsWhatAFailedFeedHadAboveItsResolvedTs() {
        try (Sorter s = new Sorter(dir)) {
            s.spill(
                    Map.of(
                            7L,
                            List.of(change("a", 11), change("b", 12), change("c", 13)),
                            8L,
                            List.of(change("d", 12))));
            s.feedFailed(7, 11); // its successor delivers b and c again
            assertThat(drain(s, 100)).containsExactly(change("a", 11), change("d", 12));
        }
    }

    @Test
    void skipsAFailedFeedsChangeAlreadyReadAhead() {
        try (Sorter s = new Sorter(dir)) {
            s.spill(Map.of(7L, List.of(change("a", 12))));
            s.add(List.of(change("b", 11)));
            s.feedFailed(7, 11);
            assertThat(drain(s, 100)).containsExactly(change("b", 11));
        }
    }

    @Test
    void randomSpillsComeOutSorted() {
        Random rnd = new Random(7);
        List<KeyChange> all = new ArrayList<>();
        try (Sorter s = new Sorter(dir)) {
            List<KeyChange> batch = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                KeyChange c = change("k" + rnd.nextInt(100), 1 + rnd.nextInt(5000));
                all.add(c);
                batch.add(c);
                if (rnd.nextInt(50) == 0) {
                    batch.sort(KeyChange.COMMIT_ORDER);
                    s.add(batch);
                    batch = new ArrayList<>();
                }
                if (rnd.nextInt(300) == 0) {
                    s.spill(Map.of());
                }
            }
            batch.sort(KeyChange.COMMIT_ORDER);
            s.add(batch);
            all.sort(KeyChange.COMMIT_ORDER);
            assertThat(s.runCount()).isGreaterThan(2);
            assertThat(drain(s, Long.MAX_VALUE)).containsExactlyElementsOf(all);
        }
    }
}
