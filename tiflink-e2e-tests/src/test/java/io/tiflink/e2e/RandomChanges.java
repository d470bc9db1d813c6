package io.tiflink.e2e;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.TableInfo;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/**
 * Random inserts, updates and deletes of a table {@code (id BIGINT PRIMARY KEY, item VARCHAR, qty
 * INT, price DECIMAL(10,2))} over ids 1 to 15, a transaction each.
 */
final class RandomChanges {
    private final MiniClusterRows rows;
    private final TableInfo table;
    private final Random random;
    private final Map<Long, Object[]> current = new HashMap<>();

    RandomChanges(MiniTiKVCluster cluster, TableInfo table, long seed) {
        this.rows = new MiniClusterRows(cluster);
        this.table = table;
        this.random = new Random(seed);
    }

    void apply(int n) {
        for (int i = 0; i < n; i++) {
            long id = 1 + random.nextInt(15);
            Object[] before = current.get(id);
            Object[] after = {
                id,
                "item" + random.nextInt(100),
                (long) random.nextInt(50),
                BigDecimal.valueOf(random.nextInt(10_000), 2)
            };
            MiniClusterRows.Txn txn = rows.txn(table);
            if (before == null) {
                txn.insert(after);
                current.put(id, after);
            } else if (random.nextInt(3) == 0) {
                txn.delete(before);
                current.remove(id);
            } else {
                txn.update(before, after);
                current.put(id, after);
            }
            txn.commit();
        }
    }
}
