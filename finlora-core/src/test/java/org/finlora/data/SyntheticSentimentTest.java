package org.finlora.data;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class SyntheticSentimentTest {
    @Test
    void deterministicBalancedDisjointAndInFpbFormat() {
        var a = SyntheticSentiment.split(300, 60, 42);
        var b = SyntheticSentiment.split(300, 60, 42);
        assertEquals(a, b);
        assertNotEquals(a.train(), SyntheticSentiment.split(300, 60, 43).train());
        assertEquals(300, a.train().size());
        assertEquals(60, a.dev().size());
        Map<String, Integer> counts = new HashMap<>();
        for (Example e : a.train()) counts.merge(e.target(), 1, Integer::sum);
        assertEquals(Map.of("negative", 100, "neutral", 100, "positive", 100), counts);
        Set<String> train = new HashSet<>();
        FinTask fpb = FinTask.byName("fpb");
        for (Example e : a.train()) {
            assertTrue(fpb.matchesFormat(e.context()), e.context());
            assertTrue(train.add(e.context()), "duplicate " + e.context());
        }
        for (Example e : a.dev()) assertFalse(train.contains(e.context()), "dev sentence in train: " + e.context());
    }

    @Test
    void inputsNeverContainALabelWordAndUseTheFpbInstruction() {
        for (Example e : SyntheticSentiment.generate(900, 7)) {
            String input = e.context().substring(e.context().indexOf("\nInput: ") + 8);
            for (String l : List.of("negative", "neutral", "positive")) assertFalse(input.toLowerCase().contains(l), input);
            assertTrue(e.context().startsWith("Instruction: What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\nInput: "));
        }
    }

    /** A metric word alone does not give the label: the same metric occurs with both polar labels. */
    @Test
    void needsMoreThanOneToken() {
        Map<String, Set<String>> labelsByMetricVerb = new HashMap<>();
        Set<String> labelsWithRose = new HashSet<>();
        for (Example e : SyntheticSentiment.generate(3000, 1)) {
            String s = e.context();
            if (s.contains(" rose by ")) labelsWithRose.add(e.target());
            if (s.contains("operating costs")) labelsByMetricVerb.computeIfAbsent("operating costs", k -> new HashSet<>()).add(e.target());
        }
        assertEquals(Set.of("negative", "positive"), labelsWithRose, "'rose' occurs with both polarities");
        assertTrue(labelsByMetricVerb.get("operating costs").containsAll(Set.of("negative", "positive")));
    }
}
