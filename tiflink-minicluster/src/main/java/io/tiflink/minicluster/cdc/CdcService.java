package io.tiflink.minicluster.cdc;

import org.tikv.kvproto.Cdcpb;
import org.tikv.kvproto.ChangeDataGrpc;
import org.tikv.shade.io.grpc.stub.StreamObserver;

/** The {@code cdcpb.ChangeData} service of one store. */
public final class CdcService extends ChangeDataGrpc.ChangeDataImplBase {
    private final CdcEndpoint endpoint;
    private final long storeId;

    public CdcService(CdcEndpoint endpoint, long storeId) {
        this.endpoint = endpoint;
        this.storeId = storeId;
    }

    @Override
    public StreamObserver<Cdcpb.ChangeDataRequest> eventFeed(
            StreamObserver<Cdcpb.ChangeDataEvent> responses) {
        return endpoint.connect(storeId, responses);
    }
}
