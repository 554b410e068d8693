package org.finlora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.FinloraException;
import org.finlora.io.AtomicFiles;
import org.finlora.io.Checkpoint;
import org.finlora.io.HfFolderLoader;
import org.finlora.io.ModelLoader;
import org.finlora.io.SafetensorsWriter;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.Parallel;
import org.finlora.lora.AdaptedWeights;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaModel;
import org.finlora.model.LlamaWeights;
import org.finlora.tensor.Tensor;
import org.finlora.train.AdapterMerge;
import org.finlora.train.BaseWeights;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code finlora merge}: W + s·B·A folded into the base (dequantized from --quant when the adapter
 * was trained over a quantized base), written as an HF folder with f32 projections, then the
 * merged model is compared with the unmerged adapter-on-base on a few prompts.
 */
@Command(name = "merge", description = "Merge a LoRA adapter into its base model and write an HF folder.")
final class MergeCommand implements Runnable {
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "tokenizer.model", "generation_config.json");
    private static final List<String> PROMPTS = List.of(
            "Instruction: What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}.\nInput: Operating profit rose to EUR 13.1 mn.\nAnswer: ",
            "Once upon a time", "The company said its net sales fell");

    @Option(names = "--model", required = true, description = "Base model the adapter was trained on.")
    String model;
    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints.")
    Path tokenizer;
    @Option(names = "--adapter", required = true, description = "Adapter folder (PEFT layout).")
    Path adapterDir;
    @Option(names = "--output", required = true, description = "Output folder (must not exist or be empty).")
    Path output;
    @Option(names = "--quant", description = "Quantization the adapter was trained over: the base is quantized, dequantized and merged; "
            + "the merged model is also re-quantized to it for the error report.")
    String quant;
    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    @Override
    public void run() {
        if (threads != null) Parallel.setThreads(threads);
        try {
            if (Files.exists(output) && (!Files.isDirectory(output) || !AtomicFiles.isEmptyDir(output))) {
                throw new FinloraException("--output " + output + ": exists and is not an empty folder");
            }
        } catch (IOException e) {
            throw new FinloraException(output + ": " + e.getMessage(), e);
        }
        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            LlamaConfig c = ck.config();
            LlamaWeights base = BaseWeights.load(ck, quant, false);
            LoraAdapter adapter = PeftAdapterIO.load(adapterDir, c);
            Path tmp = writeMerged(ck, base, adapter);
            try {
                Path parent = output.toAbsolutePath().getParent();
                if (Files.exists(output)) Files.delete(output);   // empty, checked above
                Files.move(tmp, output, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                throw new FinloraException(output + ": cannot move the merged model into place (" + e.getMessage() + ")", e);
            }
            System.err.println("merged model written to " + output);
            report(ck, base, adapter);
        }
    }

    private Path writeMerged(Checkpoint ck, LlamaWeights base, LoraAdapter adapter) {
        LlamaConfig c = ck.config();
        Path tmp = null;
        try {
            Path parent = output.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            AtomicFiles.cleanStale(output);
            tmp = AtomicFiles.tempFolderBeside(output);
            SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
            for (Map.Entry<String, Tensor> e : ck.tensors().entrySet()) {
                int[] lm = projection(e.getKey(), c.nLayers());
                if (lm == null) {
                    Tensor t = e.getValue();
                    w.add(e.getKey(), t.dtype(), t.shape(), t.data());
                    continue;
                }
                // every projection as the base the adapter saw (dequantized when --quant), merged where targeted
                var bm = base.layers[lm[0]].linear(LlamaWeights.LINEAR_NAMES[lm[1]]);
                float[] merged = AdapterMerge.merged(bm, adapter, lm[0], lm[1]);
                if (c.ropeInterleaved() && lm[1] <= 1) merged = toHalfSplitRope(merged, lm[1] == 0 ? c.nHeads() : c.nKvHeads(), c.headDim(), bm.cols);
                w.add(e.getKey(), new long[]{bm.rows, bm.cols}, merged);
            }
            w.write(tmp.resolve("model.safetensors"));
            Files.writeString(tmp.resolve("config.json"), configJson(ck));
            Path src = Path.of(ck.source());
            if (Files.isDirectory(src)) {
                for (String f : TOKENIZER_FILES) if (Files.isRegularFile(src.resolve(f))) Files.copy(src.resolve(f), tmp.resolve(f));
            }
            Path done = tmp;
            tmp = null;
            return done;
        } catch (IOException e) {
            throw new FinloraException(output + ": cannot write the merged model (" + e.getMessage() + ")", e);
        } finally {
            if (tmp != null) AtomicFiles.deleteTreeQuietly(tmp);
        }
    }

    /**
     * q/k rows from Meta's interleaved RoPE pairs (llama2.c, GGUF) to the HF half-split layout an HF
     * folder implies: within each head, row 2j+i moves to i·(headDim/2)+j (HF's convert permute).
     */
    static float[] toHalfSplitRope(float[] w, int heads, int headDim, int cols) {
        float[] out = new float[w.length];
        int half = headDim / 2;
        for (int h = 0; h < heads; h++) {
            for (int j = 0; j < half; j++) {
                for (int i = 0; i < 2; i++) {
                    int from = h * headDim + 2 * j + i, to = h * headDim + i * half + j;
                    System.arraycopy(w, from * cols, out, to * cols, cols);
                }
            }
        }
        return out;
    }

    /** [layer, module] of an HF projection weight name, or null. */
    static int[] projection(String name, int nLayers) {
        if (!name.startsWith("model.layers.") || !name.endsWith("_proj.weight")) return null;
        String rest = name.substring("model.layers.".length());
        int dot = rest.indexOf('.');
        int layer = Integer.parseInt(rest.substring(0, dot));
        String mod = rest.substring(rest.lastIndexOf('.', rest.length() - ".weight".length() - 1) + 1, rest.length() - ".weight".length());
        for (int m = 0; m < 7; m++) if (LlamaWeights.LINEAR_NAMES[m].equals(mod) && layer < nLayers) return new int[]{layer, m};
        return null;
    }

    private static String configJson(Checkpoint ck) {
        ObjectNode n = org.finlora.io.HfConfigJson.of(ck);
        n.put("torch_dtype", "float32");
        return n.toPrettyString();
    }

    /** Max |logit difference| over a few prompts: unmerged adapter-on-base vs the merged folder as written. */
    private void report(Checkpoint ck, LlamaWeights base, LoraAdapter adapter) {
        if (adapter.config.useDora()) {
            System.out.println("merge error: not measured (DoRA adapters have no unmerged inference path in this build)");
            return;
        }
        LlamaModel unmerged = new LlamaModel(AdaptedWeights.with(base, adapter));
        var tok = ck.tokenizer();
        try (Checkpoint merged = HfFolderLoader.load(output, false)) {
            LlamaModel m = new LlamaModel(LlamaWeights.load(merged, null, base.simd));
            LlamaModel mq = quant == null || quant.equals("none") ? null : new LlamaModel(BaseWeights.load(merged, quant, false));
            double err = 0, errQ = 0, maxRef = 0;
            for (String p : PROMPTS) {
                int[] ids = tok.encode(p, tok.addsBosByDefault());
                if (ids.length > c(ck).maxSeqLen()) ids = java.util.Arrays.copyOf(ids, c(ck).maxSeqLen());
                float[] ref = unmerged.forwardAll(ids), got = m.forwardAll(ids);
                for (int i = 0; i < ref.length; i++) {
                    err = Math.max(err, Math.abs(ref[i] - got[i]));
                    maxRef = Math.max(maxRef, Math.abs(ref[i]));
                }
                if (mq != null) {
                    float[] q = mq.forwardAll(ids);
                    for (int i = 0; i < ref.length; i++) errQ = Math.max(errQ, Math.abs(ref[i] - q[i]));
                }
            }
            System.out.printf(Locale.ROOT, "merge error: max |logit diff| %.3g (merged f32 vs adapter on base, %d prompts, max |logit| %.3g)%n",
                    err, PROMPTS.size(), maxRef);
            if (mq != null) System.out.printf(Locale.ROOT, "merge error re-quantized to %s: max |logit diff| %.3g%n", quant, errQ);
        }
    }

    private static LlamaConfig c(Checkpoint ck) {
        return ck.config();
    }

}
