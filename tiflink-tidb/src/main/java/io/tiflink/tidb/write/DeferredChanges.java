package io.tiflink.tidb.write;

import io.tiflink.tikv.ByteKey;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The changes a transaction defers to the next one, and the keys they hold back: a later change
 * touching one of those keys is deferred too, so that changes of a row keep their order.
 *
 * <p>In a table whose rows are independent (no unique key but the one that finds a row), a row's
 * changes depend on nothing but the row, so its deferred changes collapse as they come: a delete or
 * a full upsert replaces those before it, a partial upsert merges into the upsert before it. A row
 * changed on every record (a hot key) then holds at most two deferred changes, not one per record;
 * only inserts, whose duplicate-key error must not be lost, are kept each. Elsewhere a change can
 * depend on other rows (a unique value moving between them), and every change is kept, in order.
 */
final class DeferredChanges {
    /** Changes kept in their order (tables whose rows are not independent). */
    private final List<RowWrite> inOrder = new ArrayList<>();

    /** Each independent row's collapsed changes, by the key that finds the row. */
    private final Map<ByteKey, List<RowWrite>> byRow = new LinkedHashMap<>();

    private final Set<ByteKey> keys = new HashSet<>();

    /** Defers {@code c}, which touches {@code touched}, after every change deferred before. */
    void add(RowWrite c, List<byte[]> touched) {
        inOrder.add(c);
        for (byte[] k : touched) {
            keys.add(new ByteKey(k));
        }
    }

    /**
     * Defers {@code c}, a change of the independent row found by {@code identity}: later changes of
     * the row are held back by that key alone.
     */
    void addOfRow(byte[] identity, RowWrite c) {
        ByteKey row = new ByteKey(identity);
        keys.add(row);
        List<RowWrite> changes = byRow.computeIfAbsent(row, r -> new ArrayList<>(2));
        if (c.kind() == RowWrite.Kind.INSERT) {
            changes.add(c);
            return;
        }
        if (c.kind() == RowWrite.Kind.DELETE || c.givenMask() == null) {
            // Replaces what the row's changes since its last insert would have left.
            while (!changes.isEmpty() && last(changes).kind() != RowWrite.Kind.INSERT) {
                changes.remove(changes.size() - 1);
            }
            changes.add(c);
            return;
        }
        if (!changes.isEmpty() && last(changes).kind() == RowWrite.Kind.UPSERT) {
            changes.set(changes.size() - 1, overlay(last(changes), c));
        } else {
            changes.add(c); // after a delete (or an insert) it sets the row anew
        }
    }

    private static RowWrite last(List<RowWrite> changes) {
        return changes.get(changes.size() - 1);
    }

    /** One upsert doing what {@code earlier}, then the partial upsert {@code later}, do. */
    private static RowWrite overlay(RowWrite earlier, RowWrite later) {
        Object[] row = earlier.row().clone();
        boolean[] given = new boolean[row.length];
        boolean all = true;
        for (int i = 0; i < row.length; i++) {
            if (later.gives(i)) {
                row[i] = later.row()[i];
            }
            given[i] = earlier.gives(i) || later.gives(i);
            all &= given[i];
        }
        return RowWrite.of(RowWrite.Kind.UPSERT, row, all ? null : given);
    }

    /** Whether a deferred change holds {@code key} back. */
    boolean holds(byte[] key) {
        return !keys.isEmpty() && keys.contains(new ByteKey(key));
    }

    boolean isEmpty() {
        return inOrder.isEmpty() && byRow.isEmpty();
    }

    /** The deferred changes; each row's in its order. */
    List<RowWrite> list() {
        List<RowWrite> all = new ArrayList<>(inOrder);
        byRow.values().forEach(all::addAll);
        return all;
    }

    /** Returns the deferred changes and forgets them. */
    List<RowWrite> take() {
        List<RowWrite> all = list();
        inOrder.clear();
        byRow.clear();
        keys.clear();
        return all;
    }
}
