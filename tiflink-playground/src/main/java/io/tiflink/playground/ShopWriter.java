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
 * quantities, cancelled orders, and customers moving to another city with a new order, each a
 * transaction.
 */
final class ShopWriter {
    private static final String[] CUSTOMERS = {"alice", "bob", "carol", "dave", "erin"};
    private static final String[] CITIES = {"Berlin", "Lisbon", "Oslo", "Seoul", "Lima"};
    private static final String[] ITEMS = {"keyboard", "mouse", "monitor", "laptop", "cable"};

    /** Past this many orders the shop stops adding them, so that a move's changelog stays short. */
    private static final int MAX_ORDERS = 25;

    private final MiniClusterRows rows;
    private final TableInfo customers;
    private final TableInfo orders;
    private final Random random = new Random(7);

    /** The orders as they are now, by id: {id, customer, item, qty, price}. */
    private final Map<Long, Object[]> current = new LinkedHashMap<>();

    /** Each customer's city now, an index into {@link #CITIES}. */
    private final int[] cityOf = new int[CUSTOMERS.length];

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
            cityOf[i] = i;
            c.insert(customer(i));
        }
        c.commit();
        MiniClusterRows.Txn o = rows.txn(orders);
        for (int i = 0; i < firstOrders; i++) {
            o.insert(newOrder(random.nextInt(CUSTOMERS.length)));
        }
        o.commit();
    }

    /**
     * One transaction: a new order, a changed quantity, a cancelled order, or a customer moving to
     * another city together with a new order of theirs.
     */
    void change() {
        MiniClusterRows.Txn txn = rows.txn(orders);
        int op = random.nextInt(100);
        if (op < 5) {
            // Both tables in one transaction: the consistent view moves the customer's orders, the
            // new one with them, to the new city at once, never half of it.
            int who = random.nextInt(CUSTOMERS.length);
            Object[] before = customer(who);
            cityOf[who] = (cityOf[who] + 1 + random.nextInt(CITIES.length - 1)) % CITIES.length;
            txn.insert(newOrder(who)).in(customers).update(before, customer(who));
        } else if (current.size() < 5 || (op < 50 && current.size() < MAX_ORDERS)) {
            txn.insert(newOrder(random.nextInt(CUSTOMERS.length)));
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

    /** Customer {@code i}'s row now: {id, name, city}. */
    private Object[] customer(int i) {
        return new Object[] {(long) i + 1, CUSTOMERS[i], CITIES[cityOf[i]]};
    }

    /** A new order of customer {@code i}. */
    private Object[] newOrder(int i) {
        long id = nextOrder++;
        Object[] row = {
            id,
            (long) i + 1,
            ITEMS[random.nextInt(ITEMS.length)],
            (long) 1 + random.nextInt(4),
            new BigDecimal(random.nextInt(500) + ".99")
        };
        current.put(id, row);
        return row;
    }
}
