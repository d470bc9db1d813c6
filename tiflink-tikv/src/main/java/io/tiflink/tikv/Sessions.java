package io.tiflink.tikv;

import org.tikv.common.TiConfiguration;
import org.tikv.common.TiSession;
import org.tikv.kvproto.PDGrpc;
import org.tikv.kvproto.Pdpb;
import org.tikv.shade.io.grpc.ManagedChannel;
import org.tikv.shade.io.grpc.Status;
import org.tikv.shade.io.grpc.StatusRuntimeException;
import org.tikv.shade.io.grpc.netty.GrpcSslContexts;
import org.tikv.shade.io.grpc.netty.NettyChannelBuilder;

import javax.net.ssl.SSLException;

import java.io.File;
import java.net.ConnectException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Opens tikv-client-java sessions and, when PD cannot be reached, says why. tikv-client-java's own
 * failure ("Failed to init client for PD cluster") hides a refused TLS handshake or a plaintext
 * client at a TLS-only PD; one GetMembers call per PD address, on a channel set up as
 * tikv-client-java sets up its own, finds the cause.
 */
public final class Sessions {
    private static final long PROBE_TIMEOUT_MILLIS = 5_000;

    private Sessions() {}

    /**
     * A session to the cluster {@code conf} names.
     *
     * @throws PdUnreachableException naming each PD address and why it cannot be reached (refused,
     *     no answer in time, not a PD, TLS), when that is the reason the session cannot be opened
     */
    public static TiSession open(TiConfiguration conf) {
        // Asked first: tikv-client-java retries an address that accepts but never answers for
        // minutes; the probe gives each address 5 s.
        String why = unreachable(conf);
        if (why != null) {
            throw new PdUnreachableException(addresses(conf), why, null);
        }
        try {
            return TiSession.create(conf);
        } catch (RuntimeException e) {
            why = unreachable(conf);
            if (why == null) {
                throw e;
            }
            throw new PdUnreachableException(addresses(conf), why, e);
        }
    }

    /** Why no PD address answers GetMembers; null when one does. */
    static String unreachable(TiConfiguration conf) {
        List<String> problems = new ArrayList<>();
        for (URI pd : conf.getPdAddrs()) {
            String address = address(pd);
            ManagedChannel channel;
            try {
                channel = channel(conf, address);
            } catch (SSLException | IllegalArgumentException e) {
                return "cannot set up TLS from tikv.trust_cert_collection '"
                        + conf.getTrustCertCollectionFile()
                        + "', tikv.key_cert_chain '"
                        + conf.getKeyCertChainFile()
                        + "' and tikv.key_file '"
                        + conf.getKeyFile()
                        + "' (PEM certificates and a PKCS#8 PEM key): "
                        + rootMessage(e);
            }
            try {
                PDGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(PROBE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                        .getMembers(Pdpb.GetMembersRequest.getDefaultInstance());
                return null;
            } catch (StatusRuntimeException e) {
                problems.add(describe(conf, address, e));
            } finally {
                channel.shutdownNow();
            }
        }
        return String.join("; ", problems);
    }

    private static String address(URI pd) {
        return pd.getHost() + ":" + pd.getPort();
    }

    /** The PD addresses of {@code conf} as host:port pairs, comma separated. */
    public static String addresses(TiConfiguration conf) {
        List<String> all = new ArrayList<>();
        for (URI pd : conf.getPdAddrs()) {
            all.add(address(pd));
        }
        return String.join(",", all);
    }

    private static ManagedChannel channel(TiConfiguration conf, String address)
            throws SSLException {
        NettyChannelBuilder b = NettyChannelBuilder.forTarget(address);
        if (!conf.isTlsEnable()) {
            return b.usePlaintext().build();
        }
        return b.sslContext(
                        GrpcSslContexts.forClient()
                                .trustManager(new File(conf.getTrustCertCollectionFile()))
                                .keyManager(
                                        new File(conf.getKeyCertChainFile()),
                                        new File(conf.getKeyFile()))
                                .build())
                .build();
    }

    private static String describe(TiConfiguration conf, String address, StatusRuntimeException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SSLException) {
                return "TLS handshake failed with PD at " + address + ": " + rootMessage(t);
            }
            if (t instanceof ConnectException) {
                return "cannot reach PD at " + address + ": connection refused";
            }
        }
        String problem = "cannot reach PD at " + address + ": ";
        Status.Code code = e.getStatus().getCode();
        if (code == Status.Code.DEADLINE_EXCEEDED) {
            problem += "timed out (no answer in " + PROBE_TIMEOUT_MILLIS / 1000 + " s)";
        } else if (code == Status.Code.UNIMPLEMENTED || code == Status.Code.INTERNAL) {
            // A gRPC server without PD's service, or a server that does not speak gRPC at all.
            problem += "not a PD (" + rootMessage(e) + ")";
        } else {
            problem += rootMessage(e);
        }
        if (!conf.isTlsEnable() && code != Status.Code.DEADLINE_EXCEEDED) {
            problem +=
                    " (if the cluster serves TLS, set tikv.tls_enable with"
                            + " tikv.trust_cert_collection, tikv.key_cert_chain and tikv.key_file)";
        }
        return problem;
    }

    /** A failure's message, followed by its root cause's (e.g. "Connection refused"). */
    public static String rootMessage(Throwable t) {
        Throwable root = t;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root == t || root.getMessage() == null
                ? String.valueOf(t.getMessage())
                : t.getMessage() + ": " + root.getMessage();
    }
}
