package io.tiflink.minicluster.region;

import java.util.concurrent.atomic.AtomicLong;

/** PD's id allocator: store, region and peer ids all come from one increasing sequence. */
public final class IdAllocator {
    private final AtomicLong next;

    public IdAllocator(long first) {
        this.next = new AtomicLong(first);
    }

    public long allocate() {
        return next.getAndIncrement();
    }
}
