package io.tiflink.playground;

import io.tiflink.minicluster.MiniTiKVCluster;
import io.tiflink.minicluster.tidb.MiniClusterRows;
import io.tiflink.tidb.meta.TableInfo;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Keeps the playground's shop busy, as an application on TiDB would: new orders, changed
 * quantities, cancelled orders, each a transaction.
 */
final class ShopWriter {
    private static final String[] CUSTOMERS = {"alice", "bob", "carol", "dave", "erin"};
    private static final String[] CITIES = {"Berlin", "Lisbon", "Oslo", "Seoul", "Lima"};
    private static final String[] ITEMS = {"keyboard", "mouse", "monitor", "laptop", "cable"};

    private final MiniClusterRows rows;
    private final TableInfo customers;
    private final TableInfo orders;
    private final Random random = new Random(7);

    /** The orders as they are now, by id: {customer, item, qty, price}. */
    private final Map<Long, Object[]> current = new LinkedHashMap<>();

    private long nextOrder = 1001;

    ShopWriter(MiniTiKVCluster cluster, TableInfo customers, TableInfo orders) {
        this.rows = new MiniClusterRows(cluster);
        this.customers = customers;
        this.orders = orders;
    }

    /** The starting data: five customers and their first orders. */
    void load(int firstOrders) {
        MiniClusterRows.Txn c = rows.txn(customers);
        for (int i = 0; i < CUSTOMERS.length; i++) {
            c.insert((long) i + 1, CUSTOMERS[i], CITIES[i]);
        }
        c.commit();
        MiniClusterRows.Txn o = rows.txn(orders);
        for (int i = 0; i < firstOrders; i++) {
            o.insert(newOrder());
        }
        o.commit();
    }

    /** One transaction: a new order, a changed quantity or a cancelled order. */
    void change() {
        MiniClusterRows.Txn txn = rows.txn(orders);
        int op = random.nextInt(100);
        if (op < 50 || current.size() < 5) {
            txn.insert(newOrder());
        } else {
            List<Long> ids = new ArrayList<>(current.keySet());
            long id = ids.get(random.nextInt(ids.size()));
            Object[] before = current.get(id);
            if (op < 80) {
                Object[] after = before.clone();
                after[3] = (Long) before[3] + 1 + random.nextInt(3);
                txn.update(before, after);
                current.put(id, after);
            } else {
                txn.delete(before);
                current.remove(id);
            }
        }
        txn.commit();
    }

    private Object[] newOrder() {
        long id = nextOrder++;
        Object[] row = {
            id,
            (long) 1 + random.nextInt(CUSTOMERS.length),
            ITEMS[random.nextInt(ITEMS.length)],
            (long) 1 + random.nextInt(4),
            new BigDecimal(random.nextInt(500) + ".99")
        };
        current.put(id, row);
        return row;
    }
}
