package io.tiflink.minicluster.cdc;

/**
 * One region captured for one EventFeed stream (TiKV's Downstream plus its delegate's resolver).
 */
final class Downstream {
    final long regionId;
    final long requestId;
    final Connection connection;
    final Resolver resolver = new Resolver();

    Downstream(long regionId, long requestId, Connection connection) {
        this.regionId = regionId;
        this.requestId = requestId;
        this.connection = connection;
    }
}
