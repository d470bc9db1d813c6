package io.tiflink.cdc.client;

import io.tiflink.tikv.Sessions;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A client of TiKV's change data service. {@link #subscribe} delivers every committed change of
 * some key ranges after a start ts, and the resolved ts that says when a consumer has all changes
 * up to it.
 *
 * <pre>{@code
 * try (CdcClient client = CdcClient.create(TiConfiguration.createDefault("pd:2379"),
 *                                          CdcClientConfig.defaults());
 *      ChangeStream changes = client.subscribe(List.of(KeyRange.all()), client.currentTs())) {
 *     ChangeEvent e = changes.poll(Duration.ofSeconds(1));
 * }
 * }</pre>
 *
 * <p>Regions are found through PD and followed through splits, merges and leader moves; each
 * subscription opens one EventFeed stream per store. TLS, timeouts and PD addresses come from
 * tikv-client-java's {@link TiConfiguration}.
 */
public final class CdcClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(CdcClient.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final TiSession session;
    private final boolean ownsSession;
    private final CdcClientConfig config;
    private final ScheduledThreadPoolExecutor scheduler;
    private final Set<Subscription> subscriptions = ConcurrentHashMap.newKeySet();

    private CdcClient(TiSession session, boolean ownsSession, CdcClientConfig config) {
        this.session = session;
        this.ownsSession = ownsSession;
        this.config = config;
        ScheduledThreadPoolExecutor scheduler =
                new ScheduledThreadPoolExecutor(
                        2,
                        r -> {
                            Thread t = new Thread(r, "tiflink-cdc-" + THREADS.incrementAndGet());
                            t.setDaemon(true);
                            return t;
                        });
        // A closed subscription's periodic tasks leave the queue at once, not at their next run.
        scheduler.setRemoveOnCancelPolicy(true);
        this.scheduler = scheduler;
    }

    /** Tasks waiting in the client's scheduler (the subscriptions' periodic and retry tasks). */
    int scheduledTasks() {
        return scheduler.getQueue().size();
    }

    /** A client with its own session to the cluster that {@code conf} names. */
    public static CdcClient create(TiConfiguration conf, CdcClientConfig config) {
        return new CdcClient(Sessions.open(conf), true, config);
    }

    /** A client on a session the caller keeps (and closes). */
    public static CdcClient create(TiSession session, CdcClientConfig config) {
        return new CdcClient(session, false, config);
    }

    /** A fresh TSO from PD. */
    public long currentTs() {
        return session.getTimestamp().getVersion();
    }

    /**
     * Subscribes to every change of {@code ranges} committed after {@code startTs}.
     *
     * @throws CdcException if {@code startTs} is below the GC safe point
     */
    public ChangeStream subscribe(List<KeyRange> ranges, long startTs) {
        if (ranges.isEmpty()) {
            throw new IllegalArgumentException("subscribe needs at least one key range");
        }
        if (startTs <= 0) {
            throw new IllegalArgumentException("start ts must be positive, got " + startTs);
        }
        Subscription s =
                new Subscription(
                        session, config, scheduler, ranges, startTs, subscriptions::remove);
        s.start();
        subscriptions.add(s);
        return s;
    }

    @Override
    public void close() {
        for (Subscription s : new ArrayList<>(subscriptions)) {
            s.close();
        }
        scheduler.shutdownNow();
        if (ownsSession) {
            try {
                session.close();
            } catch (Exception e) {
                LOG.warn("closing the TiKV session failed", e);
            }
        }
    }
}
