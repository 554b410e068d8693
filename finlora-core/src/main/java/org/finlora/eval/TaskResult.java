package org.finlora.eval;

import java.util.List;

/**
 * The outcome of one task for one model (base or adapter).
 *
 * @param model         row label: "base" or the adapter's name
 * @param task          task name (e.g. "nwgi"); {@code title} its column title
 * @param metric        FinTask.Metric name
 * @param examples      number of scored examples (FiNER: number of tags after splitting)
 * @param accuracy      accuracy (TEXT_SIMILARITY: exact-match rate)
 * @param f1            weighted F1 (TEXT_SIMILARITY: mean token F1)
 * @param accuracy3     NWGI mapped to 3 labels, else NaN; {@code f13} likewise
 * @param seconds       wall time spent generating
 * @param answers       per-example answers (empty when read back from a summary)
 */
public record TaskResult(String model, String task, String title, String metric, int examples, double accuracy, double f1,
                         double accuracy3, double f13, int maxNewTokens, int batchSize, double seconds, List<Answer> answers) {
    public TaskResult {
        answers = answers == null ? List.of() : List.copyOf(answers);
    }

    public boolean hasThreeClass() {
        return !Double.isNaN(accuracy3);
    }

    /**
     * One example's outcome.
     *
     * @param output    raw generated text; {@code answer} what was scored (after the last "Answer:", stripped)
     * @param predicted the label found by the earliest-label rule (lowercased), or null
     */
    public record Answer(int index, String origin, String target, String output, String answer, String predicted, boolean correct) {
    }
}
