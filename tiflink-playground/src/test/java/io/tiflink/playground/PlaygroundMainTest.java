package io.tiflink.playground;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The playground's command line. */
class PlaygroundMainTest {
    @Test
    void badArgumentsAreNamed() {
        assertThatThrownBy(() -> PlaygroundMain.Options.parse(new String[] {"--rows", "0"}))
                .hasMessage("--rows must be positive, got 0");
        assertThatThrownBy(() -> PlaygroundMain.Options.parse(new String[] {"--colour", "1"}))
                .hasMessage("unknown option '--colour'");
    }
}
