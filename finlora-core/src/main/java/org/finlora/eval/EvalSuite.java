package org.finlora.eval;

import org.finlora.data.Example;
import org.finlora.data.FinTask;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToIntBiFunction;

/**
 * Every model (base and each adapter) on every task in one run: each task's examples are read
 * once, each model's generator is asked for once (so the engine can load the base once and switch
 * adapters), results are written per model and task, and the comparison report at the end.
 */
public final class EvalSuite {
    private EvalSuite() {
    }

    /** Progress of one (model, task) pair, plus its position in the whole run. */
    public interface Progress {
        void update(String model, FinTask task, int done, int total, int pair, int pairs);
    }

    /**
     * @param models       row labels in order, e.g. ["base", "fpb_r8"]
     * @param generatorFor called once per model, in order, before its tasks run
     * @param data         the examples of a task (called once per task)
     * @param outDir       where answers, summaries and the report go; null writes nothing
     */
    public static List<TaskResult> run(List<String> models, Function<String, TextGenerator> generatorFor, List<FinTask> tasks,
                                       Function<FinTask, List<Example>> data, int batchSize, Progress progress, Path outDir) {
        return run(models, generatorFor, tasks, data, batchSize, (t, ex) -> t.maxNewTokens(), progress, outDir);
    }

    /**
     * As above, with the max new tokens of each task chosen by {@code maxNewTokens} (given the task and
     * its examples; called once per task, before any generation), e.g. a {@link NewTokenBudget}.
     */
    public static List<TaskResult> run(List<String> models, Function<String, TextGenerator> generatorFor, List<FinTask> tasks,
                                       Function<FinTask, List<Example>> data, int batchSize,
                                       ToIntBiFunction<FinTask, List<Example>> maxNewTokens, Progress progress, Path outDir) {
        Map<FinTask, List<Example>> examples = new LinkedHashMap<>();
        Map<FinTask, Integer> budgets = new LinkedHashMap<>();
        for (FinTask t : tasks) {
            List<Example> ex = data.apply(t);
            Evaluator.validate(t, ex); // fail on bad data before any generation
            examples.put(t, ex);
            budgets.put(t, maxNewTokens.applyAsInt(t, ex));
        }
        List<TaskResult> results = new ArrayList<>();
        int pairs = models.size() * tasks.size(), pair = 0;
        for (String model : models) {
            TextGenerator gen = generatorFor.apply(model);
            for (FinTask t : tasks) {
                final int p = pair++;
                TaskResult r = Evaluator.evaluate(model, t, examples.get(t), gen, batchSize, budgets.get(t),
                        (done, total) -> progress.update(model, t, done, total, p, pairs));
                if (outDir != null) Evaluator.writeAll(outDir, r);
                results.add(r);
            }
        }
        if (outDir != null) Report.write(outDir, Report.rows(results));
        return results;
    }
}
