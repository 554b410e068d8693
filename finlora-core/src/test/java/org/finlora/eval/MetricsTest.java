package org.finlora.eval;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Hand-computed cases for FinLoRA's accuracy rule and sklearn's weighted F1. */
class MetricsTest {
    private static final List<String> SENT = List.of("negative", "neutral", "positive");

    @Test
    void earliestLabelSubstringRules() {
        assertEquals("negative", Metrics.earliestLabel("non-negative outlook", SENT));
        assertEquals("positive", Metrics.earliestLabel("not positive", SENT));
        assertEquals("neutral", Metrics.earliestLabel("Neutral to positive", SENT));
        assertEquals("positive", Metrics.earliestLabel("POSITIVELY negative", SENT));
        assertNull(Metrics.earliestLabel("bullish", SENT));
        // Yes/No: "no" inside "Not" comes first
        assertEquals("no", Metrics.earliestLabel("Not sure, yes", List.of("yes", "no")));
    }

    @Test
    void tieAtSameIndexPicksLongestThenCodePointOrder() {
        assertEquals("none", Metrics.earliestLabel("none of them", List.of("no", "none")));
        assertEquals("none", Metrics.earliestLabel("none of them", List.of("none", "no")));
        assertEquals("mildly negative", Metrics.earliestLabel("mildly negative", List.of("mildly negative", "mildly negative".substring(0, 6))));
    }

    @Test
    void accuracyAndWeightedF1WithUnseenPrediction() {
        var s = Metrics.classify(List.of("positive", "negative", "negative!", "I think so"),
                List.of("positive", "positive", "negative", "neutral"));
        assertArrayEquals(new boolean[]{true, false, true, false}, s.correct());
        assertEquals(List.of("positive", "negative", "negative", "I think so"), s.responses());
        assertEquals(0.5, s.accuracy(), 1e-15);
        // labels "I think so", negative, neutral, positive: F1 0 (w0), 2/3 (w1), 0 (w1), 2/3 (w2) -> (2/3+4/3)/4
        assertEquals(0.5, s.f1(), 1e-15);
    }

    @Test
    void targetCaseIsKeptInResponses() {
        var s = Metrics.classify(List.of("yes.", "NO", "maybe"), List.of("Yes", "No", "No"));
        assertEquals(List.of("Yes", "No", "maybe"), s.responses());
        assertEquals(2.0 / 3, s.accuracy(), 1e-15);
        // y_true Yes,No,No; y_pred Yes,No,maybe: Yes f1 1 (w1), No tp1 fp0 fn1 -> 2/3 (w2), maybe w0 -> (1+4/3)/3
        assertEquals((1 + 4.0 / 3) / 3, s.f1(), 1e-15);
    }

    @Test
    void weightedF1LikeSklearn() {
        // a: tp2 fp0 fn1 -> 0.8 (w3); b: tp1 fp1 fn1 -> 0.5 (w2); c: 1 (w1); zz: only predicted, w0
        assertEquals((0.8 * 3 + 0.5 * 2 + 1) / 6,
                Metrics.weightedF1(List.of("a", "a", "a", "b", "b", "c"), List.of("a", "a", "b", "b", "zz", "c")), 1e-15);
        assertEquals(1.0, Metrics.weightedF1(List.of("x", "y"), List.of("x", "y")), 0);
        assertEquals(0.0, Metrics.weightedF1(List.of("x", "y"), List.of("p", "q")), 0);
        assertEquals(0.0, Metrics.weightedF1(List.of(), List.of()), 0);
    }

    @Test
    void tagListsArePaddedAndCut() {
        var split = Metrics.splitTagLists(List.of("A, B", "C,D,E"), List.of("A,B,C", "C,X"));
        assertEquals(List.of("A", "B", "", "C", "D"), split.get(0));
        assertEquals(List.of("A", "B", "C", "C", "X"), split.get(1));
        var s = Metrics.classify(split.get(0), split.get(1));
        assertEquals(0.6, s.accuracy(), 1e-15);
        // A 1 (w1), B 1 (w1), C tp1 fn1 -> 2/3 (w2), X 0 (w1); "" and D weigh 0
        assertEquals((1 + 1 + 4.0 / 3) / 5, s.f1(), 1e-15);
        assertEquals(List.of("a", "", "bc", ""), Metrics.splitParts(" a ,\n, b\nc ,"), "strip, then newlines removed, empty parts kept");
    }

    @Test
    void nwgiMappedToThree() {
        Map<String, String> m = Map.of("strong negative", "negative", "moderately negative", "negative", "mildly negative", "neutral",
                "neutral", "neutral", "mildly positive", "neutral", "moderately positive", "positive", "strong positive", "positive");
        var s = Metrics.classifyMapped(List.of("strong positive", "mildly negative", "moderately negative", "up"),
                List.of("moderately positive", "neutral", "mildly negative", "strong positive"), m);
        assertArrayEquals(new boolean[]{true, true, false, false}, s.correct());
        assertEquals(0.5, s.accuracy(), 1e-15);
        // y_true positive, neutral, neutral, positive; y_pred positive, neutral, "moderately negative", "up"
        // positive tp1 fn1 -> 2/3 (w2); neutral tp1 fn1 -> 2/3 (w2) -> 2/3
        assertEquals(2.0 / 3, s.f1(), 1e-15);
    }

    @Test
    void textSimilaritySubstitute() {
        assertEquals(1.0, Metrics.tokenF1("The cash, paid.", "cash paid"), 0);
        // pred {amount, of, cash} ref {amount, of, debt, paid}: common 2, P 2/3, R 1/2 -> 4/7
        assertEquals(4.0 / 7, Metrics.tokenF1("Amount of cash", "amount of debt paid"), 1e-15);
        assertEquals(0.0, Metrics.tokenF1("", "x"), 0);
        var t = Metrics.textSimilarity(List.of(" Yes ", "no idea"), List.of("yes", "No."));
        assertEquals(0.5, t.exactMatch(), 0);
        assertEquals((1.0 + 2.0 / 3) / 2, t.meanTokenF1(), 1e-15); // "no idea" vs "no": P 1/2 R 1 -> 2/3
    }
}
