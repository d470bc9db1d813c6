package io.tiflink.tidb.write;

import io.tiflink.tidb.table.Handle;
import io.tiflink.tidb.table.TableCodec;
import io.tiflink.tikv.Keys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link KeyHashSet}, the keys a writer prewrote in the open transaction: keys added are contained
 * and others are not, also past its initial capacity of 1024 slots, and {@link KeyHashSet#clear}
 * forgets them all.
 */
@Timeout(30) // a full table would probe forever
class KeyHashSetTest {
    /** Record keys of table 100 for handles {@code [from, to)}. */
    private static List<byte[]> keys(long from, long to) {
        List<byte[]> keys = new ArrayList<>();
        for (long h = from; h < to; h++) {
            keys.add(TableCodec.recordKey(100, Handle.ofInt(h)));
        }
        return keys;
    }

    private static List<byte[]> contained(KeyHashSet set, List<byte[]> keys) {
        List<byte[]> out = new ArrayList<>();
        for (byte[] k : keys) {
            if (set.contains(k)) {
                out.add(k);
            }
        }
        return out;
    }

    @Test
    void containsTheKeysAddedAndNoOthers() {
        KeyHashSet set = new KeyHashSet();
        List<byte[]> added = keys(0, 100);
        assertThat(contained(set, added)).isEmpty();
        added.forEach(set::add);
        added.forEach(set::add); // twice: no harm
        assertThat(contained(set, added)).hasSize(100);
        assertThat(contained(set, keys(100, 10_000))).isEmpty();
    }

    @Test
    void keysThatArePrefixesOfEachOtherAreDistinct() {
        KeyHashSet set = new KeyHashSet();
        byte[] key = TableCodec.recordKey(100, Handle.ofInt(7));
        byte[] next = Keys.next(key); // the key and a zero byte
        byte[] prefix = TableCodec.recordPrefix(100);
        set.add(key);
        assertThat(set.contains(key)).isTrue();
        assertThat(set.contains(next)).isFalse();
        assertThat(set.contains(prefix)).isFalse();
        assertThat(set.contains(new byte[0])).isFalse();
        set.add(new byte[0]);
        assertThat(set.contains(new byte[0])).isTrue();
        assertThat(set.contains(new byte[1])).isFalse();
    }

    @Test
    void growsPastItsInitialCapacity() {
        KeyHashSet set = new KeyHashSet();
        List<byte[]> added = keys(0, 100_000);
        added.forEach(set::add);
        assertThat(contained(set, added)).hasSize(100_000);
        assertThat(contained(set, keys(100_000, 200_000))).isEmpty();
    }

    @Test
    void clearForgetsEveryKey() {
        KeyHashSet set = new KeyHashSet();
        List<byte[]> small = keys(0, 10);
        small.forEach(set::add);
        set.clear();
        assertThat(contained(set, small)).isEmpty();

        List<byte[]> grown = keys(0, 5_000);
        grown.forEach(set::add);
        set.clear();
        assertThat(contained(set, grown)).isEmpty();
        // Usable again, and growing again, after a clear.
        List<byte[]> again = keys(5_000, 10_000);
        again.forEach(set::add);
        assertThat(contained(set, again)).hasSize(5_000);
        assertThat(contained(set, grown)).isEmpty();
    }
}
