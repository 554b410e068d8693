package org.finlora.eval;

import org.finlora.FinloraException;
import org.finlora.data.Example;
import org.finlora.data.FinTask;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.ToIntFunction;

import static org.junit.jupiter.api.Assertions.*;

class NewTokenBudgetTest {
    /** One "token" per character: the counts below are the labels' lengths. */
    static final ToIntFunction<String> CHARS = String::length;

    @Test
    void parsesTheFlag() {
        assertSame(NewTokenBudget.FINLORA, NewTokenBudget.parse(null));
        assertSame(NewTokenBudget.AUTO, NewTokenBudget.parse("auto"));
        assertSame(NewTokenBudget.AUTO, NewTokenBudget.parse(" AUTO "));
        assertEquals(NewTokenBudget.fixed(24), NewTokenBudget.parse("24"));
        for (String bad : new String[]{"0", "-3", "ten", ""}) {
            var e = assertThrows(FinloraException.class, () -> NewTokenBudget.parse(bad), bad);
            assertTrue(e.getMessage().startsWith("--max-new-tokens " + bad + ": expected a number >= 1 or auto"), e.getMessage());
        }
    }

    @Test
    void perTaskValues() {
        FinTask fpb = FinTask.byName("fpb"), nwgi = FinTask.byName("nwgi"), value = FinTask.byName("xbrl_value");
        List<Example> none = List.of();
        assertEquals(10, NewTokenBudget.FINLORA.forTask(nwgi, none, CHARS));
        assertEquals(20, NewTokenBudget.FINLORA.forTask(value, none, CHARS));
        assertEquals(3, NewTokenBudget.fixed(3).forTask(nwgi, none, CHARS));
        // "moderately negative"/"moderately positive"/"mildly negative"... longest 19 chars -> 19 + 1
        assertEquals(19, NewTokenBudget.longestLabel(nwgi, none, CHARS));
        assertEquals(20, NewTokenBudget.AUTO.forTask(nwgi, none, CHARS));
        // fpb's longest label "negative"/"positive" is 8 chars: 8 + 1 < 10, FinLoRA's value stays
        assertEquals(8, NewTokenBudget.longestLabel(fpb, none, CHARS));
        assertEquals(10, NewTokenBudget.AUTO.forTask(fpb, none, CHARS));
        // a task without a fixed label set uses the examples' targets
        List<Example> ex = List.of(new Example("c1", "12.5"), new Example("c2", "123456789012345678901234567890"));
        assertEquals(30, NewTokenBudget.longestLabel(value, ex, CHARS));
        assertEquals(31, NewTokenBudget.AUTO.forTask(value, ex, CHARS));
    }
}
