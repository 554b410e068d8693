package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.data.Example;
import org.finlora.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Tokenized training sequences (FinLoRA legacy script semantics): BOS when the tokenizer adds it,
 * then encode(context), encode(target) and the EOS id. Labels are -100 on the prompt (BOS + context)
 * unless training on inputs; the HF shift happens in the loss. Sequences longer than maxSeqLen are
 * truncated (keeping the start) or skipped; a truncated sequence that keeps no target token is
 * skipped too. Several files are mixed by concatenation and a per-epoch shuffle.
 */
public final class TrainData {
    public static final int IGNORE = -100;

    public enum LengthPolicy { TRUNCATE, SKIP }

    /** One tokenized example: ids and labels of the same length, and where it came from. */
    public record Sequence(int[] ids, int[] labels, String origin) {
        public int length() {
            return ids.length;
        }
    }

    public final List<Sequence> sequences;
    /** Examples cut to maxSeqLen, and examples left out (too long under SKIP, or no target left after the cut). */
    public final int truncated, skipped;
    public final int padId;
    private final int maxLength;

    private TrainData(List<Sequence> sequences, int truncated, int skipped, int padId) {
        this.sequences = List.copyOf(sequences);
        this.truncated = truncated;
        this.skipped = skipped;
        this.padId = padId;
        int max = 0;
        for (Sequence s : sequences) max = Math.max(max, s.length());
        this.maxLength = max;
    }

    /**
     * The id appended after every target: {@code <|end_of_text|>} when the vocabulary has it (the legacy
     * FinLoRA script appends 128001), else {@code </s>}, else the smallest stop id.
     */
    public static int eosId(Tokenizer tok) {
        int id = tok.specialTokenId("<|end_of_text|>");
        if (id >= 0) return id;
        id = tok.specialTokenId("</s>");
        if (id >= 0) return id;
        int best = -1;
        for (int s : tok.stopIds()) if (best < 0 || s < best) best = s;
        if (best < 0) throw new FinloraException("the tokenizer has no EOS token to end training targets with");
        return best;
    }

    /** Tokenizes the examples of every file (in order); the result mixes them by per-epoch shuffles. */
    public static TrainData build(List<List<Example>> files, Tokenizer tok, int maxSeqLen, boolean trainOnInputs, LengthPolicy policy) {
        if (maxSeqLen < 2) throw new FinloraException("--max-seq-len " + maxSeqLen + ": expected at least 2");
        int eos = eosId(tok);
        boolean bos = tok.addsBosByDefault() && tok.bosId() >= 0;
        List<Sequence> out = new ArrayList<>();
        int truncated = 0, skipped = 0;
        for (List<Example> file : files) {
            for (Example e : file) {
                int[] ctx = tok.encode(e.context(), false);
                int[] tgt = tok.encode(e.target(), false);
                int promptLen = (bos ? 1 : 0) + ctx.length;
                int n = promptLen + tgt.length + 1;
                int[] ids = new int[n];
                int p = 0;
                if (bos) ids[p++] = tok.bosId();
                System.arraycopy(ctx, 0, ids, p, ctx.length);
                p += ctx.length;
                System.arraycopy(tgt, 0, ids, p, tgt.length);
                ids[n - 1] = eos;
                if (n > maxSeqLen) {
                    if (policy == LengthPolicy.SKIP || promptLen >= maxSeqLen) {
                        skipped++;
                        continue;
                    }
                    ids = java.util.Arrays.copyOf(ids, maxSeqLen);
                    n = maxSeqLen;
                    truncated++;
                }
                int[] labels = ids.clone();
                if (!trainOnInputs) java.util.Arrays.fill(labels, 0, Math.min(promptLen, n), IGNORE);
                out.add(new Sequence(ids, labels, e.origin()));
            }
        }
        return new TrainData(out, truncated, skipped, eos);
    }

    public int size() {
        return sequences.size();
    }

    /** Longest sequence (the T the model must be allocated for). */
    public int maxLength() {
        return maxLength;
    }

    /** Non-padding tokens of all sequences. */
    public long tokenCount() {
        long n = 0;
        for (Sequence s : sequences) n += s.length();
        return n;
    }

    /** The visiting order of an epoch: a Fisher-Yates shuffle seeded by (seed, epoch), or 0..n-1 when !shuffle. */
    public int[] epochOrder(long seed, int epoch, boolean shuffle) {
        int n = sequences.size();
        int[] order = new int[n];
        for (int i = 0; i < n; i++) order[i] = i;
        if (!shuffle) return order;
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    /** Number of micro-batches of size B in an epoch (the last may be smaller). */
    public int batchesPerEpoch(int B) {
        return (sequences.size() + B - 1) / B;
    }

    /** Micro-batch number {@code index} of an epoch order: right-padded to its longest sequence with padId, labels -100. */
    public Batch batch(int[] order, int index, int B) {
        int from = index * B, to = Math.min(order.length, from + B);
        int rows = to - from;
        int T = 1;
        for (int i = from; i < to; i++) T = Math.max(T, sequences.get(order[i]).length());
        int[] tokens = new int[rows * T], labels = new int[rows * T], lengths = new int[rows];
        java.util.Arrays.fill(tokens, padId);
        java.util.Arrays.fill(labels, IGNORE);
        for (int r = 0; r < rows; r++) {
            Sequence s = sequences.get(order[from + r]);
            System.arraycopy(s.ids(), 0, tokens, r * T, s.length());
            System.arraycopy(s.labels(), 0, labels, r * T, s.length());
            lengths[r] = s.length();
        }
        return new Batch(tokens, labels, lengths, rows, T);
    }

    /** Origin ("file:line") of the first sequence of a micro-batch, for error messages. */
    public String origin(int[] order, int index, int B) {
        return sequences.get(order[index * B]).origin();
    }
}
