package org.finlora.eval;

import org.finlora.io.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.FinloraException;
import org.finlora.data.Example;
import org.finlora.data.FinTask;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a task's examples through a {@link TextGenerator} in batches, scores them by the task's
 * metric (FinLoRA's rules, see {@link Metrics}) and writes per-example answers (JSONL) and a
 * summary (JSON), both atomically.
 */
public final class Evaluator {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final ObjectMapper JSON_LINE = new ObjectMapper();

    private Evaluator() {
    }

    /** Told after every batch how many examples are done out of the total. */
    public interface Progress {
        void update(int done, int total);

        Progress NONE = (done, total) -> {
        };
    }

    /**
     * Checks that the rows carry what the task needs: a non-empty target for scored-by-label
     * tasks, and for tasks with a fixed label set a target from that set. Errors name "file:line".
     */
    public static void validate(FinTask task, List<Example> examples) {
        if (examples.isEmpty()) throw new FinloraException("task " + task.name() + ": no examples to evaluate");
        for (Example e : examples) {
            String where = e.origin().isEmpty() ? "example" : e.origin();
            if (task.metric() != FinTask.Metric.TEXT_SIMILARITY && AnswerExtractor.pythonStrip(e.target()).isEmpty()) {
                throw new FinloraException(where + ": empty \"target\" (task " + task.name() + " scores answers against the target label)");
            }
            if (!task.labels().isEmpty()) {
                boolean known = false;
                for (String l : task.labels()) known |= l.equalsIgnoreCase(e.target());
                if (!known) {
                    throw new FinloraException(where + ": target \"" + e.target() + "\" is not a label of task " + task.name()
                            + " (" + String.join(", ", task.labels()) + ")");
                }
            }
        }
    }

    /** {@link #evaluate(String, FinTask, List, TextGenerator, int, int, Progress)} with the task's FinLoRA max new tokens. */
    public static TaskResult evaluate(String model, FinTask task, List<Example> examples, TextGenerator generator,
                                      int batchSize, Progress progress) {
        return evaluate(model, task, examples, generator, batchSize, task.maxNewTokens(), progress);
    }

    /**
     * Generates at most {@code maxNewTokens} tokens per example, extracts answers and scores; the
     * result records the budget. {@code model} labels the result row ("base" or an adapter).
     */
    public static TaskResult evaluate(String model, FinTask task, List<Example> examples, TextGenerator generator,
                                      int batchSize, int maxNewTokens, Progress progress) {
        if (batchSize < 1) throw new FinloraException("--batch-size must be at least 1, got " + batchSize);
        if (maxNewTokens < 1) throw new FinloraException("--max-new-tokens must be at least 1, got " + maxNewTokens);
        validate(task, examples);
        int n = examples.size();
        List<String> outputs = new ArrayList<>(n);
        long t0 = System.nanoTime();
        progress.update(0, n);
        for (int start = 0; start < n; start += batchSize) {
            int end = Math.min(n, start + batchSize);
            List<String> prompts = new ArrayList<>(end - start);
            for (int i = start; i < end; i++) prompts.add(examples.get(i).context());
            List<String> out = generator.generate(prompts, maxNewTokens);
            if (out.size() != prompts.size()) {
                throw new IllegalStateException("generator returned " + out.size() + " outputs for " + prompts.size() + " prompts");
            }
            outputs.addAll(out);
            progress.update(end, n);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return score(model, task, examples, outputs, batchSize, maxNewTokens, seconds);
    }

    /** Scores given raw generations (one per example), made with the task's FinLoRA max new tokens. */
    public static TaskResult score(String model, FinTask task, List<Example> examples, List<String> outputs, int batchSize, double seconds) {
        return score(model, task, examples, outputs, batchSize, task.maxNewTokens(), seconds);
    }

    /** Scores given raw generations (one per example), made with at most {@code maxNewTokens} new tokens each. */
    public static TaskResult score(String model, FinTask task, List<Example> examples, List<String> outputs, int batchSize,
                                   int maxNewTokens, double seconds) {
        int n = examples.size();
        List<String> answers = new ArrayList<>(n), targets = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            answers.add(AnswerExtractor.extract(outputs.get(i)));
            targets.add(examples.get(i).target());
        }
        List<TaskResult.Answer> rows = new ArrayList<>(n);
        double acc, f1, acc3 = Double.NaN, f13 = Double.NaN;
        int scored = n;
        switch (task.metric()) {
            case CLASSIFICATION -> {
                Metrics.Scored s = Metrics.classify(answers, targets);
                acc = s.accuracy();
                f1 = s.f1();
                for (int i = 0; i < n; i++) {
                    rows.add(new TaskResult.Answer(i, examples.get(i).origin(), targets.get(i), outputs.get(i), answers.get(i),
                            s.predicted().get(i), s.correct()[i]));
                }
                if (task.threeClassMap() != null) {
                    Metrics.Scored s3 = Metrics.classifyMapped(answers, targets, task.threeClassMap());
                    acc3 = s3.accuracy();
                    f13 = s3.f1();
                }
            }
            case TAG_LIST -> {
                List<List<String>> split = Metrics.splitTagLists(answers, targets);
                Metrics.Scored s = Metrics.classify(split.get(0), split.get(1));
                acc = s.accuracy();
                f1 = s.f1();
                scored = split.get(1).size();
                int k = 0;
                for (int i = 0; i < n; i++) {
                    int parts = Metrics.splitParts(targets.get(i)).size();
                    boolean all = true;
                    List<String> preds = new ArrayList<>();
                    for (int j = 0; j < parts; j++, k++) {
                        all &= s.correct()[k];
                        preds.add(s.predicted().get(k) == null ? "" : s.predicted().get(k));
                    }
                    rows.add(new TaskResult.Answer(i, examples.get(i).origin(), targets.get(i), outputs.get(i), answers.get(i),
                            String.join(",", preds), all));
                }
            }
            case TEXT_SIMILARITY -> {
                Metrics.TextScores s = Metrics.textSimilarity(answers, targets);
                acc = s.exactMatch();
                f1 = s.meanTokenF1();
                for (int i = 0; i < n; i++) {
                    boolean exact = Metrics.lower(answers.get(i)).equals(Metrics.lower(AnswerExtractor.pythonStrip(targets.get(i))));
                    rows.add(new TaskResult.Answer(i, examples.get(i).origin(), targets.get(i), outputs.get(i), answers.get(i), null, exact));
                }
            }
            default -> throw new IllegalStateException();
        }
        return new TaskResult(model, task.name(), task.title(), task.metric().name(), scored, acc, f1, acc3, f13,
                maxNewTokens, batchSize, seconds, rows);
    }

    /** One JSON object per example: index, origin, target, output, answer, predicted, correct. */
    public static void writeAnswers(Path file, TaskResult r) {
        AtomicFiles.write(file, w -> {
            for (TaskResult.Answer a : r.answers()) {
                ObjectNode o = JSON_LINE.createObjectNode();
                o.put("index", a.index());
                o.put("origin", a.origin());
                o.put("target", a.target());
                o.put("output", a.output());
                o.put("answer", a.answer());
                if (a.predicted() == null) o.putNull("predicted");
                else o.put("predicted", a.predicted());
                o.put("correct", a.correct());
                w.write(JSON_LINE.writeValueAsString(o));
                w.write('\n');
            }
        });
    }

    public static void writeSummary(Path file, TaskResult r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", r.model());
        o.put("task", r.task());
        o.put("title", r.title());
        o.put("metric", r.metric());
        o.put("examples", r.examples());
        o.put("accuracy", r.accuracy());
        o.put("f1", r.f1());
        if (r.hasThreeClass()) {
            o.put("accuracy_3class", r.accuracy3());
            o.put("f1_3class", r.f13());
        }
        if (FinTask.Metric.TEXT_SIMILARITY.name().equals(r.metric())) {
            o.put("note", "accuracy = exact match, f1 = mean token F1 (FinLoRA uses BERTScore with ProsusAI/finbert)");
        }
        o.put("max_new_tokens", r.maxNewTokens());
        o.put("batch_size", r.batchSize());
        o.put("seconds", r.seconds());
        o.put("examples_per_second", r.seconds() > 0 ? r.answers().size() / r.seconds() : 0.0);
        AtomicFiles.write(file, w -> w.write(JSON.writeValueAsString(o) + "\n"));
    }

    /** Reads a summary written by {@link #writeSummary} (no per-example answers). */
    public static TaskResult readSummary(Path file) {
        JsonNode o = org.finlora.io.Json.read(file, org.finlora.io.InputFiles.SMALL_JSON, "eval summary");
        for (String f : new String[]{"model", "task", "accuracy", "f1"}) {
            if (o == null || !o.hasNonNull(f)) throw new FinloraException(file + ": summary has no field \"" + f + "\"");
        }
        return new TaskResult(o.get("model").asText(), o.get("task").asText(), o.path("title").asText(o.get("task").asText()),
                o.path("metric").asText(""), o.path("examples").asInt(), o.get("accuracy").asDouble(), o.get("f1").asDouble(),
                o.has("accuracy_3class") ? o.get("accuracy_3class").asDouble() : Double.NaN,
                o.has("f1_3class") ? o.get("f1_3class").asDouble() : Double.NaN,
                o.path("max_new_tokens").asInt(), o.path("batch_size").asInt(), o.path("seconds").asDouble(), List.of());
    }

    /** Writes {@code <model>-<task>-answers.jsonl} and {@code <model>-<task>-summary.json} into {@code dir}; returns them. */
    public static List<Path> writeAll(Path dir, TaskResult r) {
        String stem = safeName(r.model()) + "-" + safeName(r.task());
        Path answers = dir.resolve(stem + "-answers.jsonl");
        Path summary = dir.resolve(stem + "-summary.json");
        writeAnswers(answers, r);
        writeSummary(summary, r);
        return List.of(answers, summary);
    }

    /** A file-name-safe form of a model/adapter label. */
    public static String safeName(String s) {
        String t = s.replaceAll("[^A-Za-z0-9._-]+", "_");
        return t.isEmpty() ? "_" : t;
    }
}
