package org.finlora.cli;

import org.finlora.data.FinTask;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;

/** {@code finlora tasks}: the known evaluation tasks with label sets, max new tokens and metric. */
@Command(name = "tasks", description = "List the known FinLoRA tasks: labels, max new tokens, metric, default data file.")
final class TasksCommand implements Runnable {
    @Option(names = {"-v", "--verbose"}, description = "Also show prompt formats and Hugging Face sources.")
    boolean verbose;

    @Override
    public void run() {
        print(System.out, verbose);
    }

    static void print(PrintStream out, boolean verbose) {
        out.printf("%-18s %-21s %-16s %4s  %-24s %s%n", "task", "title", "metric", "max", "default data", "labels");
        for (FinTask t : FinTask.all()) {
            String labels = t.metric() == FinTask.Metric.TEXT_SIMILARITY ? "(free text)"
                    : t.labels().isEmpty() ? "(set of targets in the data)" : String.join(", ", t.labels());
            out.printf("%-18s %-21s %-16s %4d  %-24s %s%n", t.name(), t.title(), metricName(t.metric()), t.maxNewTokens(),
                    t.devFile() == null ? "-" : t.devFile(), labels);
            if (verbose) {
                if (!t.aliases().isEmpty()) out.println("    aliases: " + String.join(", ", t.aliases()));
                out.println("    " + t.description());
                for (String f : t.promptFormats()) out.println("    prompt: " + f.replace("\n", "\\n"));
                for (FinTask.HfSource s : t.hfSources()) {
                    out.println("    hf: " + s.repo() + (s.config() != null ? " [" + s.config() + "]" : "")
                            + (s.split() != null ? " split " + s.split() : "") + (s.file() != null ? " file " + s.file() : "")
                            + " (" + s.note() + ")");
                }
                if (t.threeClassMap() != null) out.println("    also scored on 3 labels: " + t.threeClassMap());
            }
        }
        out.println();
        out.println("metric: accuracy = FinLoRA's earliest-label substring rule over the targets' label set; f1 = sklearn weighted F1.");
        out.println("tag-list: comma-separated tags padded/cut to the target count, then the same rule per tag.");
        out.println("text: exact match and mean token F1 (FinLoRA uses BERTScore with FinBERT, which is not available here).");
    }

    private static String metricName(FinTask.Metric m) {
        return switch (m) {
            case CLASSIFICATION -> "accuracy+F1";
            case TAG_LIST -> "tag-list acc+F1";
            case TEXT_SIMILARITY -> "text (EM+tokF1)";
        };
    }
}
