package io.tiflink.minicluster.region;

import io.tiflink.minicluster.storage.Modify;
import io.tiflink.minicluster.storage.MvccStore;
import io.tiflink.minicluster.storage.Write;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class SplitCheckerTest {
    private final MvccStore store = new MvccStore();
    private final RegionManager regions = new RegionManager(new IdAllocator(1), List.of(1L));

    private static byte[] key(int i) {
        return String.format("k%03d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static String s(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    /** Commits keys [from, to) with values of {@code valueLen} bytes, in one batch. */
    private void writeKeys(int from, int to, int valueLen) {
        store.write(
                (s, batch) -> {
                    for (int i = from; i < to; i++) {
                        byte[] value = new byte[valueLen];
                        if (valueLen > MvccStore.SHORT_VALUE_MAX_LEN) {
                            batch.add(Modify.putDefault(key(i), 1, value));
                            batch.add(
                                    Modify.putWrite(
                                            key(i),
                                            new Write(Write.Type.PUT, 1, 2, null, false, 0)));
                        } else {
                            batch.add(
                                    Modify.putWrite(
                                            key(i),
                                            new Write(Write.Type.PUT, 1, 2, value, false, 0)));
                        }
                    }
                    return null;
                });
    }

    @Test
    void noSplitAtOrBelowMaxKeys() {
        SplitChecker checker = new SplitChecker(store, regions, 9, Long.MAX_VALUE);
        writeKeys(0, 9);

        assertThat(checker.check()).isEmpty();
        assertThat(regions.all()).hasSize(1);
    }

    private void writeKeys(int from, int to) {
        writeKeys(from, to, 1);
    }

    @Test
    void splitsAboveMaxKeysWhereTheLeftPartReachesTwoThirds() {
        SplitChecker checker = new SplitChecker(store, regions, 9, Long.MAX_VALUE);
        writeKeys(0, 10);

        List<byte[]> splits = checker.check();

        // split keys = 9 * 2 / 3 = 6: the left part gets exactly 6 keys.
        assertThat(splits).extracting(SplitCheckerTest::s).containsExactly("k006");
        assertThat(regions.all()).extracting(r -> s(r.start)).containsExactly("", "k006");
        assertThat(store.writes(regions.all().get(0).start, regions.all().get(0).end)).hasSize(6);
        // Nothing written since: nothing to check.
        assertThat(checker.check()).isEmpty();
    }

    @Test
    void keepsSplittingWhileAPartIsTooBig() {
        SplitChecker checker = new SplitChecker(store, regions, 3, Long.MAX_VALUE);
        writeKeys(0, 10);

        List<byte[]> all = new ArrayList<>();
        for (int round = 0; round < 10; round++) {
            all.addAll(checker.check());
        }

        assertThat(all).isNotEmpty();
        for (Region r : regions.all()) {
            assertThat(store.approximateKeys(r.start, r.end)).isLessThanOrEqualTo(3);
        }
    }

    @Test
    void onlyRegionsWrittenSinceTheLastCheckAreChecked() {
        regions.split(List.of(key(50)));
        writeKeys(0, 10); // before the checker exists: not seen
        SplitChecker checker = new SplitChecker(store, regions, 5, Long.MAX_VALUE);
        writeKeys(50, 60);

        List<byte[]> splits = checker.check();

        // split keys = 5 * 2 / 3 = 3.
        assertThat(splits).extracting(SplitCheckerTest::s).containsExactly("k053");
        assertThat(regions.locate(key(1)).start).isEmpty();
        assertThat(s(regions.locate(key(1)).end)).isEqualTo("k050");
        // Both halves of a split are looked at again next round.
        assertThat(checker.check()).extracting(SplitCheckerTest::s).containsExactly("k056");
        assertThat(checker.check()).isEmpty();
        // Any write makes the region a candidate again.
        writeKeys(0, 1);
        assertThat(checker.check()).extracting(SplitCheckerTest::s).containsExactly("k003");
    }

    @Test
    void splitsAboveMaxBytes() {
        SplitChecker checker = new SplitChecker(store, regions, Long.MAX_VALUE, 3_000);
        writeKeys(0, 10, 300); // ~312 bytes per key, long values in the default CF

        List<byte[]> splits = checker.check();

        // split bytes = 2000: the left part is the first key past 2000 bytes, i.e. 6 keys.
        assertThat(splits).extracting(SplitCheckerTest::s).containsExactly("k006");
    }
}
