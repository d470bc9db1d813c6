package io.tiflink.connector.testutils;

import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/** What a failed job said: the messages of an exception, its causes and suppressed ones. */
public final class Failures {
    private Failures() {}

    /** Every message in the exception's graph, one per line. */
    public static String messages(Throwable t) {
        StringBuilder out = new StringBuilder();
        collect(t, out, Collections.newSetFromMap(new IdentityHashMap<>()));
        return out.toString();
    }

    private static void collect(Throwable t, StringBuilder out, Set<Throwable> seen) {
        if (t == null || !seen.add(t)) {
            return;
        }
        out.append(t.getClass().getSimpleName()).append(": ").append(t.getMessage()).append('\n');
        collect(t.getCause(), out, seen);
        for (Throwable s : t.getSuppressed()) {
            collect(s, out, seen);
        }
    }
}
