package org.finlora.cli;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.kernel.Parallel;
import org.finlora.model.KvCache;
import org.finlora.model.LlamaModel;
import org.finlora.model.LlamaWeights;
import org.finlora.model.Perplexity;
import org.finlora.model.Sampler;
import org.finlora.tensor.WeightMatrix;
import org.finlora.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * {@code finlora bench quant}: one Markdown row per weight format of a model: bits per projection
 * weight (codes + scales + side data, as held in memory), bytes of all weights, perplexity of a text
 * file (optional), prefill and decode tokens/s (best of --repeats), and ratios to the first row.
 */
@Command(name = "quant", description = "Per-format size, perplexity and speed of a model (Markdown table).")
final class BenchQuantCommand implements Runnable {
    @Option(names = "--model", required = true, description = "Model to quantize on load.")
    String model;
    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints.")
    Path tokenizer;
    @Option(names = "--formats", split = ",", defaultValue = "none,f32,q8_0,q4_0,nf4,fp4,int8,int8-block,rtn8,rtn4,rtn3,rtn2",
            description = "Formats, 'none' = as stored (default: ${DEFAULT-VALUE}).")
    List<String> formats;
    @Option(names = "--file", description = "Text file for perplexity (skipped when absent).")
    Path file;
    @Option(names = "--ctx", defaultValue = "128", description = "Perplexity window (default: ${DEFAULT-VALUE}).")
    int ctx;
    @Option(names = "--prompt-tokens", defaultValue = "64", description = "Prefill length (default: ${DEFAULT-VALUE}).")
    int promptTokens;
    @Option(names = "--gen-tokens", defaultValue = "32", description = "Decoded tokens (default: ${DEFAULT-VALUE}).")
    int genTokens;
    @Option(names = "--repeats", defaultValue = "3", description = "Timed runs per format; the best is reported (default: ${DEFAULT-VALUE}).")
    int repeats;
    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    record Row(String format, String note, double bits, long bytes, double ppl, double prefill, double decode, double loadS) {
    }

    @Override
    public void run() {
        if (threads != null) Parallel.setThreads(threads);
        if (promptTokens < 1 || genTokens < 1 || repeats < 1) throw new FinloraException("--prompt-tokens, --gen-tokens and --repeats must be >= 1");
        List<Row> rows = new ArrayList<>();
        String text = null;
        if (file != null) text = org.finlora.io.InputFiles.readString(file, org.finlora.io.InputFiles.TEXT, "--file text");
        String source = null;
        for (String f : formats) {
            long t0 = System.nanoTime();
            try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
                source = ck.source();
                LlamaModel m;
                try {
                    m = LlamaModel.load(ck, f.equals("none") ? null : f);
                } catch (FinloraException e) {
                    rows.add(new Row(f, e.getMessage(), Double.NaN, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN));
                    System.err.println(f + ": not applicable: " + e.getMessage());
                    continue;
                }
                double loadS = (System.nanoTime() - t0) / 1e9;
                double ppl = Double.NaN;
                if (text != null) {
                    Tokenizer tok = ck.tokenizer();
                    int[] ids = tok.encode(text, tok.addsBosByDefault());
                    ppl = Perplexity.compute(m, ids, ctx, (done, total, nll) -> { }).perplexity();
                }
                double[] speed = speed(m);
                Row r = new Row(f, m.weights.layers[0].wq().format(), bitsPerProjectionWeight(m.weights), m.weights.byteSize(), ppl, speed[0], speed[1], loadS);
                rows.add(r);
                System.err.printf(Locale.ROOT, "%s: %.3f bits/weight, %d bytes, ppl %.4f, prefill %.1f tok/s, decode %.1f tok/s, load %.1f s%n",
                        f, r.bits, r.bytes, r.ppl, r.prefill, r.decode, r.loadS);
            }
        }
        print(source, rows);
    }

    /** Bits per weight of the block projections in their kernel formats (codes plus every scale/offset array). */
    static double bitsPerProjectionWeight(LlamaWeights w) {
        long bytes = 0, weights = 0;
        for (LlamaWeights.Layer l : w.layers) {
            for (String n : LlamaWeights.LINEAR_NAMES) {
                WeightMatrix m = l.linear(n);
                bytes += m.byteSize();
                weights += (long) m.rows * m.cols;
            }
        }
        return 8.0 * bytes / weights;
    }

    /** {prefill tok/s, decode tok/s}, each the best of --repeats runs after a JIT warm-up. */
    private double[] speed(LlamaModel m) {
        int vocab = m.config.vocabSize();
        int prompt = Math.min(promptTokens, m.config.maxSeqLen() - genTokens);
        if (prompt < 1) throw new FinloraException("--prompt-tokens + --gen-tokens exceed the model context " + m.config.maxSeqLen());
        SplittableRandom rnd = new SplittableRandom(1);
        int[] ids = new int[prompt];
        for (int i = 0; i < prompt; i++) ids[i] = rnd.nextInt(Math.min(vocab, 256));
        KvCache warm = m.newCache(12);
        m.forward(warm, ids, 0, Math.min(8, prompt), 0, false);
        int[] one = {0};
        for (int i = 0; i < 3; i++) m.forward(warm, one, 0, 1, Math.min(8, prompt) + i, false);
        double bestPrefill = 0, bestDecode = 0;
        for (int rep = 0; rep < repeats; rep++) {
            KvCache cache = m.newCache(prompt + genTokens);
            long p0 = System.nanoTime();
            float[] logits = null;
            for (int p = 0; p < prompt; p += 256) logits = m.forward(cache, ids, p, Math.min(256, prompt - p), p, false);
            long p1 = System.nanoTime();
            int pos = prompt;
            for (int i = 0; i < genTokens; i++) {
                one[0] = Sampler.argmax(logits, 0, vocab);
                logits = m.forward(cache, one, 0, 1, pos++, false);
            }
            long d1 = System.nanoTime();
            bestPrefill = Math.max(bestPrefill, prompt / ((p1 - p0) / 1e9));
            bestDecode = Math.max(bestDecode, genTokens / ((d1 - p1) / 1e9));
        }
        return new double[]{bestPrefill, bestDecode};
    }

    private void print(String source, List<Row> rows) {
        Row base = rows.stream().filter(r -> !Double.isNaN(r.bits)).findFirst().orElse(null);
        System.out.println("model: " + source + ", threads " + Parallel.threads() + ", ppl ctx " + ctx + (file == null ? " (no text file: ppl skipped)" : " on " + file.getFileName())
                + ", prefill " + promptTokens + " tokens, decode " + genTokens + " tokens, best of " + repeats);
        System.out.println();
        System.out.println("| --quant | projections stored as | bits/weight (proj.) | weight bytes | × bytes | perplexity | × ppl | prefill tok/s | × prefill | decode tok/s | × decode | load s |");
        System.out.println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for (Row r : rows) {
            if (Double.isNaN(r.bits)) {
                System.out.println("| " + r.format + " | not applicable: " + r.note.replace("|", "\\|") + " | | | | | | | | | | |");
                continue;
            }
            System.out.printf(Locale.ROOT, "| %s | %s | %.3f | %d | %.3f | %s | %s | %.1f | %.2f | %.1f | %.2f | %.1f |%n",
                    r.format, r.note, r.bits, r.bytes, (double) r.bytes / base.bytes,
                    Double.isNaN(r.ppl) ? "–" : String.format(Locale.ROOT, "%.4f", r.ppl),
                    Double.isNaN(r.ppl) ? "–" : String.format(Locale.ROOT, "%.4f", r.ppl / base.ppl),
                    r.prefill, r.prefill / base.prefill, r.decode, r.decode / base.decode, r.loadS);
        }
    }
}
