package io.tiflink.playground;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The playground end to end: the join's changelog, snapshot first, then the shop's changes, and the
 * consistent view read with its cut.
 */
class PlaygroundMainITCase {
    @Test
    void printsTheSnapshotThenLiveChangesAndTheView() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PlaygroundMain.Options options =
                PlaygroundMain.Options.parse(
                        new String[] {
                            "--pd-port", "0", "--web-port", "0",
                            "--changes-per-second", "5", "--rows", "100"
                        });
        PlaygroundMain.run(options, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        List<String> rows = new ArrayList<>();
        List<String> views = new ArrayList<>();
        for (String line : bytes.toString(StandardCharsets.UTF_8).split("\n")) {
            if (line.startsWith(PlaygroundMain.VIEW_NAME)) {
                views.add(line);
            } else if (!line.startsWith("tiflink-playground:")) {
                rows.add(line);
            }
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8))
                .contains("Flink web UI at http://localhost:")
                .contains(PlaygroundMain.READ_VIEW);
        assertThat(rows).hasSize(100);
        // Every row is an order joined with its customer...
        assertThat(rows)
                .allMatch(r -> r.matches("[-+][IUD]\\[\\d+, \\w+, \\w+, \\w+, \\d+, \\d+\\.99\\]"));
        // ...the snapshot first: the ten orders loaded before the shop starts changing...
        assertThat(rows.subList(0, 10)).allMatch(r -> r.startsWith("+I["));
        // ...and the shop's changes after the snapshot come through: changed or cancelled orders.
        assertThat(rows.subList(10, 100)).anyMatch(r -> r.startsWith("-U[") || r.startsWith("-D["));
        // The view was read with its progress row's cut: revenue and orders of some city.
        assertThat(views)
                .anyMatch(
                        v ->
                                v.matches(
                                        "shop\\.revenue at T=\\d+ \\(\\S+, \\d+\\.\\d s ago\\):"
                                                + " \\w+ \\d+\\.\\d\\d \\(\\d+ orders?\\).*"));
    }
}
