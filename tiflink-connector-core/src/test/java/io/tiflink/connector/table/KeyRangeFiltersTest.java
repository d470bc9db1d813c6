package io.tiflink.connector.table;

import io.tiflink.connector.source.HandleRange;

import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.expressions.CallExpression;
import org.apache.flink.table.expressions.FieldReferenceExpression;
import org.apache.flink.table.expressions.ResolvedExpression;
import org.apache.flink.table.expressions.ValueLiteralExpression;
import org.apache.flink.table.functions.BuiltInFunctionDefinition;
import org.apache.flink.table.functions.BuiltInFunctionDefinitions;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class KeyRangeFiltersTest {
    private static final FieldReferenceExpression ID =
            new FieldReferenceExpression("id", DataTypes.BIGINT(), 0, 0);
    private static final FieldReferenceExpression OTHER =
            new FieldReferenceExpression("other", DataTypes.BIGINT(), 0, 1);

    private static ResolvedExpression call(
            BuiltInFunctionDefinition f, ResolvedExpression a, ResolvedExpression b) {
        return CallExpression.permanent(f, List.of(a, b), DataTypes.BOOLEAN());
    }

    private static ValueLiteralExpression lit(long v) {
        return new ValueLiteralExpression(v);
    }

    @Test
    void combinesBoundsOnTheKeyFromEitherSide() {
        HandleRange r =
                KeyRangeFilters.handleRange(
                        "ID",
                        List.of(
                                call(BuiltInFunctionDefinitions.GREATER_THAN, ID, lit(5)),
                                call(BuiltInFunctionDefinitions.GREATER_THAN_OR_EQUAL, lit(20), ID),
                                call(BuiltInFunctionDefinitions.LESS_THAN, OTHER, lit(0))));
        assertThat(r.min()).isEqualTo(6);
        assertThat(r.max()).isEqualTo(20);
    }

    @Test
    void anEqualityPinsTheKeyAndOtherColumnsAreIgnored() {
        HandleRange r =
                KeyRangeFilters.handleRange(
                        "id", List.of(call(BuiltInFunctionDefinitions.EQUALS, ID, lit(7))));
        assertThat(r.min()).isEqualTo(7);
        assertThat(r.max()).isEqualTo(7);
        assertThat(
                        KeyRangeFilters.handleRange(
                                        "id",
                                        List.of(
                                                call(
                                                        BuiltInFunctionDefinitions.EQUALS,
                                                        OTHER,
                                                        lit(7))))
                                .isAll())
                .isTrue();
    }
}
