package io.tiflink.minicluster.standalone;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MiniClusterMainTest {
    @Test
    void rejectsBadArgumentsNamingTheOption() {
        PrintStream out =
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
        assertThatThrownBy(() -> MiniClusterMain.start(new String[] {"--pd-port", "x"}, out))
                .hasMessageContaining("--pd-port");
        assertThatThrownBy(() -> MiniClusterMain.start(new String[] {"--stores", "0"}, out))
                .hasMessageContaining("--stores");
        assertThatThrownBy(
                        () ->
                                MiniClusterMain.start(
                                        new String[] {"--stores", "2", "--store-ports", "1"}, out))
                .hasMessageContaining("--store-ports");
        assertThatThrownBy(() -> MiniClusterMain.start(new String[] {"--bogus"}, out))
                .hasMessageContaining("--bogus");
    }
}
