package io.tiflink.connector.consistency;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class SnapshotCutsTest {
    private final SnapshotCuts cuts = new SnapshotCuts();

    @Test
    void noCutUntilEverySubtaskReported() {
        cuts.join("a", 2);
        cuts.join("b", 1);
        cuts.report("a", 0, 100);
        cuts.report("b", 0, 100);
        cuts.report("a", 0, 150);
        assertThat(cuts.cutFor(1)).isEqualTo(SnapshotCuts.NONE);
        cuts.report("a", 1, 110);
        cuts.report("a", 1, 120);
        cuts.report("b", 0, 130);
        // The lowest watermark, not below any first one plus a millisecond.
        assertThat(cuts.cutFor(2)).isEqualTo(120);
    }

    @Test
    void anIdleSubtaskHoldsNothingBack() {
        cuts.join("a", 2);
        cuts.report("a", 0, 100);
        cuts.report("a", 0, 140);
        cuts.report("a", 1, SnapshotCuts.IDLE);
        assertThat(cuts.cutFor(1)).isEqualTo(140);
    }

    @Test
    void aCutIsNeverBelowAMembersFirstWatermark() {
        cuts.join("a", 1);
        cuts.join("b", 1);
        cuts.report("a", 0, 100); // a's snapshot is older than b's
        cuts.report("b", 0, 200);
        assertThat(cuts.cutFor(1)).isEqualTo(SnapshotCuts.NONE);
        cuts.report("a", 0, 200);
        assertThat(cuts.cutFor(2)).isEqualTo(SnapshotCuts.NONE);
        cuts.report("a", 0, 201);
        cuts.report("b", 0, 205);
        assertThat(cuts.cutFor(3)).isEqualTo(201);
    }

    @Test
    void aCheckpointKeepsItsCutAndCutsNeverGoBack() {
        cuts.join("a", 1);
        cuts.report("a", 0, 100);
        cuts.report("a", 0, 150);
        assertThat(cuts.cutFor(1)).isEqualTo(150);
        cuts.report("a", 0, 170);
        assertThat(cuts.cutFor(1)).isEqualTo(150);
        assertThat(cuts.cutFor(2)).isEqualTo(170);
        cuts.forget("a", 0); // a restart: nothing known until it reports again
        assertThat(cuts.cutFor(3)).isEqualTo(170);
        cuts.report("a", 0, 160);
        cuts.report("a", 0, 165);
        assertThat(cuts.cutFor(4)).isEqualTo(170);
    }

    @Test
    void aRestoreGoesOnFromTheRestoredCut() {
        cuts.join("a", 1);
        cuts.report("a", 0, 100);
        cuts.report("a", 0, 150);
        assertThat(cuts.cutFor(5)).isEqualTo(150);
        cuts.restore(4, 120);
        cuts.forget("a", 0);
        assertThat(cuts.cutAt(4)).isEqualTo(120);
        assertThat(cuts.cutAt(5)).isEqualTo(SnapshotCuts.NONE);
        cuts.report("a", 0, 130);
        cuts.report("a", 0, 140);
        assertThat(cuts.cutFor(6)).isEqualTo(140);
    }

    @Test
    void aSubtaskRestartedFromACheckpointTakesTheCutsBackToItsCut() {
        cuts.join("a", 1);
        cuts.join("b", 1);
        cuts.report("a", 0, 100);
        cuts.report("b", 0, 100);
        cuts.report("a", 0, 150);
        cuts.report("b", 0, 150);
        assertThat(cuts.cutFor(12)).isEqualTo(150);
        cuts.report("a", 0, 200);
        cuts.report("b", 0, 200);
        assertThat(cuts.cutFor(13)).isEqualTo(200);
        // Checkpoint 13 never completed: a fails over to 12 and reads again from its positions.
        cuts.reset("a", 0, 12);
        assertThat(cuts.cutAt(12)).isEqualTo(150);
        assertThat(cuts.cutAt(13)).isEqualTo(SnapshotCuts.NONE);
        assertThat(cuts.cutFor(14)).isEqualTo(150);
        cuts.report("a", 0, 170);
        cuts.report("a", 0, 175);
        assertThat(cuts.cutFor(15)).isEqualTo(175);
        // Without a checkpoint, everything starts again.
        cuts.reset("a", 0, -1);
        assertThat(cuts.cutFor(16)).isEqualTo(SnapshotCuts.NONE);
    }

    @Test
    void aCutStandsForTheCommitsBeforeItsMillisecond() {
        assertThat(SnapshotCuts.tso(2)).isEqualTo((2L << 18) - 1);
        assertThat(SnapshotCuts.tso(SnapshotCuts.NONE)).isEqualTo(SnapshotCuts.NONE);
    }
}
