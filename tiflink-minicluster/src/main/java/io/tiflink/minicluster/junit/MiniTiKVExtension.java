package io.tiflink.minicluster.junit;

import io.tiflink.minicluster.MiniTiKVCluster;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.util.function.UnaryOperator;

/**
 * Starts a {@link MiniTiKVCluster} once for a test class and stops it afterwards.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final MiniTiKVExtension TIKV = new MiniTiKVExtension(b -> b.stores(3));
 *
 * @Test
 * void reads(MiniTiKVCluster cluster) { ... TIKV.cluster().pdAddress() ... }
 * }</pre>
 */
public final class MiniTiKVExtension
        implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private final UnaryOperator<MiniTiKVCluster.Builder> settings;
    private MiniTiKVCluster cluster;

    /** A cluster with the defaults (3 stores). */
    public MiniTiKVExtension() {
        this(UnaryOperator.identity());
    }

    public MiniTiKVExtension(UnaryOperator<MiniTiKVCluster.Builder> settings) {
        this.settings = settings;
    }

    public MiniTiKVCluster cluster() {
        if (cluster == null) {
            throw new IllegalStateException(
                    "the minicluster is not running: register MiniTiKVExtension as a static field");
        }
        return cluster;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        cluster = settings.apply(MiniTiKVCluster.builder()).start();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (cluster != null) {
            cluster.close();
            cluster = null;
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == MiniTiKVCluster.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return cluster();
    }
}
