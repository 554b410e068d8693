package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.train.MemoryPlan;
import org.finlora.train.TrainerListener;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;

/**
 * Console progress (step, loss, tokens/s, ETA) on stderr and one JSON line per step / evaluation in
 * metrics.jsonl. On a terminal the bar redraws in place; otherwise about twenty lines per run.
 */
final class TrainProgress implements TrainerListener, AutoCloseable {
    private final PrintStream err;
    private final BufferedWriter metrics;
    private final boolean tty = System.console() != null;
    private int total, start;
    private long t0;
    private long tokens;
    private int stepsThisRun;

    /** Opens metrics.jsonl: truncated on a fresh run; on resume, kept up to resumeStep (later lines belong to the lost future). */
    TrainProgress(Path metricsFile, int resumeStep, PrintStream err) {
        this.err = err;
        try {
            List<String> keep = List.of();
            if (resumeStep > 0 && Files.exists(metricsFile)) {
                keep = Files.readAllLines(metricsFile).stream().filter(l -> stepOf(l) <= resumeStep).toList();
            }
            metrics = Files.newBufferedWriter(metricsFile, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
            for (String l : keep) metrics.write(l + "\n");
            metrics.flush();
        } catch (IOException e) {
            throw new FinloraException(metricsFile + ": cannot write metrics (" + e.getMessage() + ")", e);
        }
    }

    private static int stepOf(String line) {
        int i = line.indexOf("\"step\":");
        if (i < 0) return Integer.MAX_VALUE;
        int j = i + 7, k = j;
        while (k < line.length() && Character.isDigit(line.charAt(k))) k++;
        return k == j ? Integer.MAX_VALUE : Integer.parseInt(line.substring(j, k));
    }

    @Override
    public void onStart(MemoryPlan plan, int totalSteps, int startStep) {
        total = totalSteps;
        start = startStep;
        t0 = System.nanoTime();
        err.println(plan);
        err.printf(Locale.ROOT, "training: %d optimizer steps%s%n", totalSteps, startStep > 0 ? " (resuming after step " + startStep + ")" : "");
    }

    @Override
    public void onStep(StepMetrics m) {
        tokens += m.tokens();
        stepsThisRun++;
        double el = (System.nanoTime() - t0) / 1e9;
        double tps = tokens / Math.max(1e-9, el);
        double eta = el / stepsThisRun * (total - m.step());
        String line = String.format(Locale.ROOT, "step %d/%d | epoch %d | loss %.4f | lr %.3g | grad norm %.3f | %.0f tok/s | ETA %s",
                m.step(), total, m.epoch() + 1, m.loss(), m.lr(), m.gradNorm(), tps, hms(eta));
        if (tty) {
            err.print("\r" + bar(m.step(), total) + " " + line + "   ");
            if (m.step() == total) err.println();
        } else if (m.step() == total || m.step() == start + 1 || m.step() % Math.max(1, total / 20) == 0) {
            err.println(line);
        }
        write(String.format(Locale.ROOT, "{\"step\":%d,\"epoch\":%d,\"loss\":%s,\"lr\":%s,\"grad_norm\":%s,\"tokens\":%d,\"target_tokens\":%d,\"seconds\":%s,\"tokens_per_s\":%s}",
                m.step(), m.epoch(), num(m.loss()), num(m.lr()), num(m.gradNorm()), m.tokens(), m.targetTokens(), num(m.seconds()),
                num(m.tokens() / Math.max(1e-9, m.seconds()))));
    }

    @Override
    public void onEval(int step, double loss) {
        if (tty) err.println();
        err.printf(Locale.ROOT, "eval at step %d: loss %.4f%n", step, loss);
        write(String.format(Locale.ROOT, "{\"step\":%d,\"eval_loss\":%s}", step, num(loss)));
    }

    @Override
    public void onCheckpoint(int step, Path dir) {
        if (tty) err.println();
        err.println("checkpoint: " + dir);
    }

    private void write(String json) {
        try {
            metrics.write(json + "\n");
            metrics.flush();
        } catch (IOException e) {
            throw new FinloraException("cannot write metrics (" + e.getMessage() + ")", e);
        }
    }

    private static String num(double x) {
        return Double.isFinite(x) ? Double.toString(x) : "null";
    }

    private static String bar(int done, int total) {
        int w = 20, f = total == 0 ? w : (int) ((long) done * w / total);
        return "[" + "#".repeat(f) + ".".repeat(w - f) + "]";
    }

    static String hms(double s) {
        long t = Math.round(Math.max(0, s));
        return String.format(Locale.ROOT, "%02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
    }

    @Override
    public void close() {
        try {
            metrics.close();
        } catch (IOException ignored) {
            // flushed after every line
        }
    }
}
