package io.tiflink.connector.table;

import io.tiflink.connector.source.HandleRange;

import org.apache.flink.table.expressions.CallExpression;
import org.apache.flink.table.expressions.FieldReferenceExpression;
import org.apache.flink.table.expressions.ResolvedExpression;
import org.apache.flink.table.expressions.ValueLiteralExpression;
import org.apache.flink.table.functions.BuiltInFunctionDefinitions;
import org.apache.flink.table.functions.FunctionDefinition;

import java.util.List;
import java.util.Optional;

/**
 * The range of an integer primary key that a query's filters allow: comparisons of the key with
 * literals ({@code =, <, <=, >, >=}, either side), all of which must hold.
 */
final class KeyRangeFilters {
    private KeyRangeFilters() {}

    static HandleRange handleRange(String key, List<ResolvedExpression> filters) {
        long min = Long.MIN_VALUE;
        long max = Long.MAX_VALUE;
        for (ResolvedExpression filter : filters) {
            if (!(filter instanceof CallExpression)) {
                continue;
            }
            CallExpression call = (CallExpression) filter;
            List<ResolvedExpression> args = call.getResolvedChildren();
            if (args.size() != 2) {
                continue;
            }
            FunctionDefinition f = call.getFunctionDefinition();
            boolean keyFirst = isKey(args.get(0), key);
            if (!keyFirst && !isKey(args.get(1), key)) {
                continue;
            }
            Optional<Long> literal = literal(args.get(keyFirst ? 1 : 0));
            if (!literal.isPresent()) {
                continue;
            }
            long v = literal.get();
            if (!keyFirst) {
                f = mirror(f);
            }
            if (f == BuiltInFunctionDefinitions.EQUALS) {
                min = Math.max(min, v);
                max = Math.min(max, v);
            } else if (f == BuiltInFunctionDefinitions.GREATER_THAN) {
                min = Math.max(min, v == Long.MAX_VALUE ? v : v + 1);
            } else if (f == BuiltInFunctionDefinitions.GREATER_THAN_OR_EQUAL) {
                min = Math.max(min, v);
            } else if (f == BuiltInFunctionDefinitions.LESS_THAN) {
                max = Math.min(max, v == Long.MIN_VALUE ? v : v - 1);
            } else if (f == BuiltInFunctionDefinitions.LESS_THAN_OR_EQUAL) {
                max = Math.min(max, v);
            }
        }
        if (min > max) {
            // Nothing matches; read one key's worth rather than an empty range.
            return new HandleRange(min, min);
        }
        return new HandleRange(min, max);
    }

    private static boolean isKey(ResolvedExpression e, String key) {
        return e instanceof FieldReferenceExpression
                && ((FieldReferenceExpression) e).getName().equalsIgnoreCase(key);
    }

    private static Optional<Long> literal(ResolvedExpression e) {
        if (!(e instanceof ValueLiteralExpression)) {
            return Optional.empty();
        }
        ValueLiteralExpression v = (ValueLiteralExpression) e;
        for (Class<? extends Number> c :
                List.of(Long.class, Integer.class, Short.class, Byte.class)) {
            Optional<? extends Number> n = v.getValueAs(c);
            if (n.isPresent()) {
                return Optional.of(n.get().longValue());
            }
        }
        return Optional.empty();
    }

    private static FunctionDefinition mirror(FunctionDefinition f) {
        if (f == BuiltInFunctionDefinitions.GREATER_THAN) {
            return BuiltInFunctionDefinitions.LESS_THAN;
        }
        if (f == BuiltInFunctionDefinitions.GREATER_THAN_OR_EQUAL) {
            return BuiltInFunctionDefinitions.LESS_THAN_OR_EQUAL;
        }
        if (f == BuiltInFunctionDefinitions.LESS_THAN) {
            return BuiltInFunctionDefinitions.GREATER_THAN;
        }
        if (f == BuiltInFunctionDefinitions.LESS_THAN_OR_EQUAL) {
            return BuiltInFunctionDefinitions.GREATER_THAN_OR_EQUAL;
        }
        return f;
    }
}
