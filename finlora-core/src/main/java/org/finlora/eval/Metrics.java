package org.finlora.eval;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * FinLoRA's scoring rules (test/test_dataset.py) and sklearn's weighted F1.
 *
 * <p><b>Classification</b> ({@link #classify}): labels are set(targets), lowercased. For each
 * label, find its first index in the lowercased answer; the label found earliest is the
 * prediction; correct iff it equals the lowercased target. Substring matching is FinLoRA's: "not
 * positive" predicts positive, and "non-negative" counts as negative. Ties at the same index (one
 * label a prefix of another, e.g. "no" and "none") depend on Python's set iteration order in
 * FinLoRA, which changes between runs; we break them deterministically: the <b>longest</b> label
 * wins, then the smaller label in code-point order. The F1 "response" is the target when correct,
 * else the raw answer, and F1 is sklearn {@code f1_score(targets, responses, average="weighted")}.
 */
public final class Metrics {
    private Metrics() {
    }

    /** Per-example outcome of the earliest-label rule. */
    public record Scored(List<String> predicted, boolean[] correct, List<String> responses, double accuracy, double f1) {
    }

    /** FinLoRA's rule over answers and targets; labels = set(targets) lowercased. */
    public static Scored classify(List<String> answers, List<String> targets) {
        if (answers.size() != targets.size()) {
            throw new IllegalArgumentException("answers (" + answers.size() + ") and targets (" + targets.size() + ") differ in length");
        }
        Set<String> labels = new LinkedHashSet<>();
        for (String t : targets) labels.add(lower(t));
        List<String> labelList = new ArrayList<>(labels);
        int n = answers.size();
        List<String> predicted = new ArrayList<>(n);
        boolean[] correct = new boolean[n];
        List<String> responses = new ArrayList<>(n);
        int right = 0;
        for (int i = 0; i < n; i++) {
            String label = earliestLabel(answers.get(i), labelList);
            predicted.add(label);
            correct[i] = label != null && label.equals(lower(targets.get(i)));
            if (correct[i]) right++;
            responses.add(correct[i] ? targets.get(i) : answers.get(i));
        }
        double acc = n == 0 ? 0.0 : (double) right / n;
        return new Scored(predicted, correct, responses, acc, weightedF1(targets, responses));
    }

    /**
     * The lowercased label that occurs earliest in the lowercased answer, or null if none occurs.
     * Equal index: longest label, then code-point order (FinLoRA: Python set order).
     */
    public static String earliestLabel(String answer, List<String> lowercasedLabels) {
        String a = lower(answer);
        String best = null;
        int bestAt = Integer.MAX_VALUE;
        for (String label : lowercasedLabels) {
            int at = a.indexOf(label);
            if (at < 0) continue;
            if (at < bestAt || (at == bestAt && (label.length() > best.length()
                    || (label.length() == best.length() && compareCodePoints(label, best) < 0)))) {
                best = label;
                bestAt = at;
            }
        }
        return best;
    }

    /**
     * NWGI scored after FinLoRA's 7→3 mapping: the target and the earliest label found in the
     * answer (labels: the mapping's 7 keys plus set(targets), lowercased) are both mapped; correct
     * iff equal. Responses: mapped target if correct, else the
     * raw answer (as in {@link #classify}).
     */
    public static Scored classifyMapped(List<String> answers, List<String> targets, Map<String, String> mapping) {
        Set<String> labels = new LinkedHashSet<>();
        for (String k : mapping.keySet()) labels.add(lower(k));
        for (String t : targets) labels.add(lower(t));
        List<String> labelList = new ArrayList<>(labels);
        int n = answers.size();
        List<String> predicted = new ArrayList<>(n);
        boolean[] correct = new boolean[n];
        List<String> responses = new ArrayList<>(n);
        List<String> mappedTargets = new ArrayList<>(n);
        int right = 0;
        for (int i = 0; i < n; i++) {
            String target3 = mapping.getOrDefault(lower(targets.get(i)), lower(targets.get(i)));
            mappedTargets.add(target3);
            String label = earliestLabel(answers.get(i), labelList);
            String pred3 = label == null ? null : mapping.getOrDefault(label, label);
            predicted.add(pred3);
            correct[i] = target3.equals(pred3);
            if (correct[i]) right++;
            responses.add(correct[i] ? target3 : answers.get(i));
        }
        double acc = n == 0 ? 0.0 : (double) right / n;
        return new Scored(predicted, correct, responses, acc, weightedF1(mappedTargets, responses));
    }

    /**
     * sklearn {@code f1_score(yTrue, yPred, average="weighted")}: labels = sorted union of both
     * lists; per label F1 = 2·tp / (2·tp + fp + fn) (0 when undefined, i.e. zero_division → 0);
     * the average is weighted by each label's support in yTrue, so labels seen only in yPred weigh 0
     * but still take their false positives away from the labels' precision.
     */
    public static double weightedF1(List<String> yTrue, List<String> yPred) {
        if (yTrue.size() != yPred.size()) {
            throw new IllegalArgumentException("y_true (" + yTrue.size() + ") and y_pred (" + yPred.size() + ") differ in length");
        }
        Map<String, long[]> counts = new TreeMap<>(Metrics::compareCodePoints); // label -> {tp, predicted, true}
        for (int i = 0; i < yTrue.size(); i++) {
            String t = yTrue.get(i), p = yPred.get(i);
            counts.computeIfAbsent(t, k -> new long[3])[2]++;
            counts.computeIfAbsent(p, k -> new long[3])[1]++;
            if (t.equals(p)) counts.get(t)[0]++;
        }
        double weighted = 0.0;
        long support = 0;
        for (long[] c : counts.values()) {
            long tp = c[0], fp = c[1] - tp, fn = c[2] - tp;
            long denom = 2 * tp + fp + fn;
            double f1 = denom == 0 ? 0.0 : 2.0 * tp / denom;
            weighted += f1 * c[2];
            support += c[2];
        }
        return support == 0 ? 0.0 : weighted / support;
    }

    /**
     * FinLoRA's process_batched for FiNER/FNXL: split answer and target on ',', strip each part
     * and delete newlines; pad the answer parts with "" or cut them to the target's count. Returns
     * {flattened answers, flattened targets}.
     */
    public static List<List<String>> splitTagLists(List<String> answers, List<String> targets) {
        List<String> outA = new ArrayList<>(), outT = new ArrayList<>();
        for (int i = 0; i < answers.size(); i++) {
            List<String> a = splitParts(answers.get(i));
            List<String> t = splitParts(targets.get(i));
            outT.addAll(t);
            for (int k = 0; k < t.size(); k++) outA.add(k < a.size() ? a.get(k) : "");
        }
        return List.of(outA, outT);
    }

    /** Python: [x.strip().replace("\n", "") for x in s.split(",")] — keeps empty parts. */
    static List<String> splitParts(String s) {
        List<String> out = new ArrayList<>();
        int from = 0;
        while (true) {
            int comma = s.indexOf(',', from);
            String part = comma < 0 ? s.substring(from) : s.substring(from, comma);
            out.add(AnswerExtractor.pythonStrip(part).replace("\n", ""));
            if (comma < 0) break;
            from = comma + 1;
        }
        return out;
    }

    /** Text-similarity substitute for BERTScore: exact match rate and mean token F1. */
    public record TextScores(double exactMatch, double meanTokenF1, double[] tokenF1) {
    }

    /**
     * FinLoRA scores xbrl_term and financebench with BERTScore (ProsusAI/finbert), which needs the
     * FinBERT model. Our documented substitute: exact match after strip+lowercase, and SQuAD-style
     * token F1 (lowercase, punctuation removed, articles a/an/the dropped, whitespace tokens,
     * multiset overlap). The two are not comparable with the paper's BERTScore numbers.
     */
    public static TextScores textSimilarity(List<String> answers, List<String> targets) {
        int n = answers.size();
        double[] f1 = new double[n];
        int exact = 0;
        double sum = 0;
        for (int i = 0; i < n; i++) {
            if (lower(AnswerExtractor.pythonStrip(answers.get(i))).equals(lower(AnswerExtractor.pythonStrip(targets.get(i))))) exact++;
            f1[i] = tokenF1(answers.get(i), targets.get(i));
            sum += f1[i];
        }
        return new TextScores(n == 0 ? 0 : (double) exact / n, n == 0 ? 0 : sum / n, f1);
    }

    /** SQuAD token F1 between two texts (1.0 when both have no tokens). */
    public static double tokenF1(String prediction, String reference) {
        List<String> p = tokens(prediction), r = tokens(reference);
        if (p.isEmpty() || r.isEmpty()) return p.isEmpty() && r.isEmpty() ? 1.0 : 0.0;
        Map<String, Integer> ref = new HashMap<>();
        for (String t : r) ref.merge(t, 1, Integer::sum);
        int common = 0;
        for (String t : p) {
            Integer c = ref.get(t);
            if (c != null && c > 0) {
                common++;
                ref.put(t, c - 1);
            }
        }
        if (common == 0) return 0.0;
        double precision = (double) common / p.size(), recall = (double) common / r.size();
        return 2 * precision * recall / (precision + recall);
    }

    static List<String> tokens(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int type = Character.getType(c);
            boolean punct = type == Character.CONNECTOR_PUNCTUATION || type == Character.DASH_PUNCTUATION
                    || type == Character.START_PUNCTUATION || type == Character.END_PUNCTUATION
                    || type == Character.INITIAL_QUOTE_PUNCTUATION || type == Character.FINAL_QUOTE_PUNCTUATION
                    || type == Character.OTHER_PUNCTUATION || (c < 128 && "$+<=>^`|~".indexOf(c) >= 0);
            if (!punct) b.append(c);
        }
        List<String> out = new ArrayList<>();
        for (String t : lower(b.toString()).split("\\s+")) {
            if (t.isEmpty() || t.equals("a") || t.equals("an") || t.equals("the")) continue;
            out.add(t);
        }
        return out;
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    /** Python string order (by code point), which Java's compareTo is not for surrogate pairs. */
    static int compareCodePoints(String a, String b) {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
