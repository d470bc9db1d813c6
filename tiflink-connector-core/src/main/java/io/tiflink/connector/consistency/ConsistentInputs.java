package io.tiflink.connector.consistency;

import io.tiflink.connector.TiKVOptions;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperatorFactory;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.api.transformations.PhysicalTransformation;
import org.apache.flink.streaming.api.transformations.TwoInputTransformation;
import org.apache.flink.table.functions.UserDefinedFunction;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a consistent sink's input must be: rows as of the job's cuts, so every source it reads from
 * is a TiKV source with consistent snapshots (whose {@link CutAligner} ends the walk upstream), and
 * nothing between computes a value that is not a function of those rows: no non-deterministic
 * function (Flink's list: "Determinism in Continuous Queries"), no processing time, no lookup join
 * (it reads its table at processing time, not at the cut). The sink checks it when Flink builds the
 * job's graph, so a job that cannot keep the guarantee is refused at submission.
 */
@Internal
public final class ConsistentInputs {
    /**
     * Flink's non-deterministic built-in calls as its plans print them. {@code UNIX_TIMESTAMP} only
     * without arguments; {@code CURRENT_DATABASE} is left out: it is fixed for a job.
     */
    private static final Pattern NON_DETERMINISTIC_CALL =
            Pattern.compile(
                    "\\b(RAND_INTEGER|RAND|UUID|NOW|CURRENT_TIMESTAMP|CURRENT_ROW_TIMESTAMP"
                            + "|CURRENT_DATE|CURRENT_TIME|LOCALTIME|LOCALTIMESTAMP"
                            + "|PROCTIME|PROCTIME_MATERIALIZE)\\(|\\b(UNIX_TIMESTAMP)\\(\\)");

    /** A lookup join as Flink's planner describes it, with the table it reads. */
    private static final Pattern LOOKUP_JOIN =
            Pattern.compile("LookupJoin\\(table=\\[([^\\]]+)\\]");

    /** How deep the walk looks into an operator for user-defined functions. */
    private static final int MAX_DEPTH = 8;

    private ConsistentInputs() {}

    /**
     * Fails with a message naming the sink and what breaks the guarantee when {@code input}'s graph
     * cannot keep it.
     */
    public static void require(Transformation<?> input, String sink) {
        visit(input, sink, new HashSet<>());
    }

    private static void visit(Transformation<?> t, String sink, Set<Transformation<?>> seen) {
        if (!seen.add(t) || isCutAligner(t)) {
            return;
        }
        Optional<String> lookup = lookupJoin(t);
        if (lookup.isPresent()) {
            throw new IllegalArgumentException(
                    refusal(sink)
                            + "its query looks up rows of "
                            + lookup.get()
                            + " in a lookup join, which reads them at processing time (a TiKV"
                            + " table's at a fresh TSO per batch), not at the view's snapshot:"
                            + " join the table as a consistent source instead");
        }
        Optional<String> call = nonDeterministicCall(t);
        if (call.isPresent()) {
            throw new IllegalArgumentException(
                    refusal(sink)
                            + "its query calls "
                            + call.get()
                            + ", which is not deterministic: the view would not be its query"
                            + " over the sources at any snapshot");
        }
        if (t.getInputs().isEmpty()) {
            throw new IllegalArgumentException(
                    refusal(sink)
                            + "its rows come from source '"
                            + t.getName()
                            + "', which is not a TiKV source with that option: its rows would be"
                            + " as of no source snapshot (from the DataStream API, read TiKV"
                            + " sources with TiKVSource#stream)");
        }
        for (Transformation<?> in : t.getInputs()) {
            visit(in, sink, seen);
        }
    }

    /** The table a lookup join reads, if {@code t} is one. */
    private static Optional<String> lookupJoin(Transformation<?> t) {
        String description = t.getDescription() == null ? "" : t.getDescription();
        Matcher m = LOOKUP_JOIN.matcher(description);
        if (m.find()) {
            return Optional.of(m.group(1));
        }
        return t.getName() != null && t.getName().startsWith("LookupJoin")
                ? Optional.of("a table (" + t.getName() + ")")
                : Optional.empty();
    }

    private static String refusal(String sink) {
        return "TiKV sink into "
                + sink
                + " has '"
                + TiKVOptions.CONSISTENCY.key()
                + "' = 'snapshot', but ";
    }

    private static boolean isCutAligner(Transformation<?> t) {
        return t instanceof OneInputTransformation
                && ((OneInputTransformation<?, ?>) t).getOperatorFactory()
                        instanceof CutAligner.Factory;
    }

    /**
     * A built-in call found in the description Flink's planner gives the operator, or a
     * user-defined function that says it is not deterministic, found in the operator (the code the
     * planner generated holds the function objects it calls).
     */
    private static Optional<String> nonDeterministicCall(Transformation<?> t) {
        if (t.getDescription() != null) {
            Matcher m = NON_DETERMINISTIC_CALL.matcher(t.getDescription());
            if (m.find()) {
                return Optional.of(m.group(1) != null ? m.group(1) : m.group(2));
            }
        }
        if (!(t instanceof PhysicalTransformation)) {
            return Optional.empty();
        }
        Object operator = operatorOf(t);
        if (operator == null
                || !operator.getClass().getName().startsWith("org.apache.flink.table.")) {
            return Optional.empty(); // not a Table API operator: no functions of the planner's
        }
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        return nonDeterministicFunction(operator, seen, 0);
    }

    private static Object operatorOf(Transformation<?> t) {
        StreamOperatorFactory<?> factory;
        if (t instanceof OneInputTransformation) {
            factory = ((OneInputTransformation<?, ?>) t).getOperatorFactory();
        } else if (t instanceof TwoInputTransformation) {
            factory = ((TwoInputTransformation<?, ?, ?>) t).getOperatorFactory();
        } else {
            return null;
        }
        return factory instanceof SimpleOperatorFactory
                ? ((SimpleOperatorFactory<?>) factory).getOperator()
                : factory;
    }

    private static Optional<String> nonDeterministicFunction(
            Object o, Set<Object> seen, int depth) {
        if (o == null || depth > MAX_DEPTH || !seen.add(o)) {
            return Optional.empty();
        }
        if (o instanceof UserDefinedFunction) {
            UserDefinedFunction f = (UserDefinedFunction) o;
            if (!f.isDeterministic()) {
                return Optional.of(f.functionIdentifier());
            }
        }
        if (o instanceof Object[]) {
            for (Object e : (Object[]) o) {
                Optional<String> found = nonDeterministicFunction(e, seen, depth + 1);
                if (found.isPresent()) {
                    return found;
                }
            }
            return Optional.empty();
        }
        if (!o.getClass().getName().startsWith("org.apache.flink.")) {
            return Optional.empty();
        }
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                if (Modifier.isStatic(field.getModifiers()) || field.getType().isPrimitive()) {
                    continue;
                }
                Optional<String> found;
                try {
                    field.setAccessible(true);
                    found = nonDeterministicFunction(field.get(o), seen, depth + 1);
                } catch (RuntimeException | IllegalAccessException e) {
                    continue; // a field Java will not open: not one of the planner's
                }
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }
}
