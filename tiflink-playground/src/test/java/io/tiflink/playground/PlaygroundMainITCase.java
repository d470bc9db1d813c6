package io.tiflink.playground;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The playground end to end: the join's changelog, snapshot first, then the shop's changes. */
class PlaygroundMainITCase {
    @Test
    void printsTheSnapshotThenLiveChanges() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PlaygroundMain.Options options =
                PlaygroundMain.Options.parse(
                        new String[] {
                            "--pd-port", "0", "--web-port", "0",
                            "--changes-per-second", "5", "--rows", "30"
                        });
        PlaygroundMain.run(options, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> rows = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.startsWith("tiflink-playground:")) {
                rows.add(line);
            }
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .contains("Flink web UI at http://localhost:");
        assertThat(rows).hasSize(30);
        // Every row is an order joined with its customer...
        assertThat(rows)
                .allMatch(r -> r.matches("[-+][IUD]\\[\\d+, \\w+, \\w+, \\w+, \\d+, \\d+\\.99\\]"));
        // ...the snapshot first: the ten orders loaded before the shop starts changing...
        assertThat(rows.subList(0, 10)).allMatch(r -> r.startsWith("+I["));
        // ...and the shop's changes after the snapshot come through: changed or cancelled orders.
        assertThat(rows.subList(10, 30)).anyMatch(r -> r.startsWith("-U[") || r.startsWith("-D["));
    }
}
