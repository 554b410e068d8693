package org.finlora.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.FinloraException;
import org.finlora.io.AtomicFiles;
import org.finlora.io.Checkpoint;
import org.finlora.io.ModelLoader;
import org.finlora.io.SafetensorsWriter;
import org.finlora.kernel.Bnb4bitMatrix;
import org.finlora.kernel.Int8VectorwiseMatrix;
import org.finlora.kernel.Matrices;
import org.finlora.kernel.Parallel;
import org.finlora.model.LlamaConfig;
import org.finlora.model.LlamaWeights;
import org.finlora.quant.BnbTensors;
import org.finlora.kernel.Bnb4bitMatrix;
import org.finlora.kernel.Int8VectorwiseMatrix;
import org.finlora.kernel.RowMatrix;
import org.finlora.kernel.Simd;
import org.finlora.kernel.WeightFormat;
import org.finlora.kernel.WeightFormats;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tensor.WeightMatrix;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code finlora quantize}: writes an HF folder in the layout transformers + bitsandbytes save
 * (load_in_4bit nf4/fp4 or load_in_8bit): every block projection as its bnb tensor group,
 * embeddings / norms / lm_head in their stored float dtype, config.json with quantization_config.
 * q/k rows of interleaved-RoPE sources (llama2.c, GGUF) are permuted to HF's half-split order
 * first, since an HF folder implies that layout.
 */
@Command(name = "quantize", description = "Quantize a model to nf4 / fp4 / int8 and write an HF folder in the bitsandbytes layout.")
final class QuantizeCommand implements Runnable {
    private static final List<String> TOKENIZER_FILES = List.of("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
            "tokenizer.model", "generation_config.json", "tokenizer.bin");

    @Option(names = "--model", required = true, description = "Source model (HF folder, llama2.c .bin, .gguf, synthetic:<preset>).")
    String model;
    @Option(names = "--tokenizer", description = "Tokenizer file for llama2.c checkpoints (copied into the output as tokenizer.bin).")
    Path tokenizer;
    @Option(names = "--quant", required = true, description = "nf4, fp4 (options blocksize=, double-quant=) or int8 (option threshold=).")
    String quant;
    @Option(names = "--output", required = true, description = "Output folder (must not exist or be empty).")
    Path output;
    @Option(names = "--threads", description = "Worker threads (default: all processors).")
    Integer threads;

    @Override
    public void run() {
        if (threads != null) Parallel.setThreads(threads);
        WeightFormat q = format(quant);
        try {
            if (Files.exists(output) && (!Files.isDirectory(output) || !AtomicFiles.isEmptyDir(output))) {
                throw new FinloraException("--output " + output + ": exists and is not an empty folder");
            }
        } catch (IOException e) {
            throw new FinloraException(output + ": " + e.getMessage(), e);
        }
        long t0 = System.nanoTime();
        try (Checkpoint ck = ModelLoader.load(model, tokenizer)) {
            Path tmp = null;
            try {
                Path parent = output.toAbsolutePath().getParent();
                Files.createDirectories(parent);
                AtomicFiles.cleanStale(output);
                tmp = AtomicFiles.tempFolderBeside(output);
                if (ck.quantizationConfig() != null) {
                    System.err.println("note: " + model + " is already quantized (" + ck.quantizationConfig().path("quant_method").asText("?")
                            + "); its weights are dequantized and quantized again, so rounding errors add up");
                }
                Written w = write(ck, q, tmp);
                String tokNote = copyTokenizer(ck, tmp);
                if (Files.exists(output)) Files.delete(output);   // empty, checked above
                Files.move(tmp, output, StandardCopyOption.ATOMIC_MOVE);
                tmp = null;
                System.out.printf(Locale.ROOT, "quantized %s to %s: %d projections, %.3f bits/weight (codes + scales), model.safetensors %d bytes, %.1f s%n",
                        model, q.spec(), w.projections, 8.0 * w.projectionBytes / w.projectionWeights, w.fileBytes, (System.nanoTime() - t0) / 1e9);
                System.out.println("written to " + output + (tokNote.isEmpty() ? "" : "; " + tokNote));
            } catch (IOException e) {
                throw new FinloraException(output + ": cannot write the quantized model (" + e.getMessage() + ")", e);
            } finally {
                if (tmp != null) AtomicFiles.deleteTreeQuietly(tmp);
            }
        }
    }

    /** The formats an HF bitsandbytes folder can hold; a one-line error for the others. */
    static WeightFormat format(String spec) {
        WeightFormat q = WeightFormats.parse(spec);
        if (!(q instanceof Bnb4bitMatrix.Format) && !(q instanceof Int8VectorwiseMatrix.Format)) {
            throw new FinloraException("--quant " + spec + ": " + q.name() + " has no bitsandbytes layout; quantize writes bitsandbytes HF folders "
                    + "(nf4, fp4, int8); use --quant " + spec + " on load instead");
        }
        return q;
    }

    record Written(int projections, long projectionWeights, long projectionBytes, long fileBytes) {
    }

    /** Writes model.safetensors and config.json of {@code ck} quantized to {@code q} into {@code dir}. */
    static Written write(Checkpoint ck, WeightFormat q, Path dir) throws IOException {
        LlamaConfig c = ck.config();
        Simd simd = Simd.configured();
        // every projection in its stored kernel format (bnb sources read as bnb), for dequantizing when needed
        LlamaWeights stored = LlamaWeights.load(ck, null, simd);
        String dtype = dtypeName(ck.tensor("model.layers.0.self_attn.q_proj.weight").dtype());
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        int n = 0;
        long weights = 0, bytes = 0;
        for (int l = 0; l < c.nLayers(); l++) {
            for (int m = 0; m < LlamaWeights.LINEAR_NAMES.length; m++) {
                String mod = LlamaWeights.LINEAR_NAMES[m];
                String name = "model.layers." + l + (m < 4 ? ".self_attn." : ".mlp.") + mod + ".weight";
                Tensor src = floatSource(ck.tensor(name), stored.layers[l].linear(mod), m, c);
                RowMatrix qm = q.quantize(src, simd);
                Map<String, Tensor> group = q.store(qm, name, dtype);
                for (Tensor t : group.values()) {
                    w.add(t);
                    bytes += t.data().byteSize();
                }
                n++;
                weights += (long) qm.rows * qm.cols;
            }
            String p = "model.layers." + l + ".";
            addFloat(w, ck.tensor(p + "input_layernorm.weight"));
            addFloat(w, ck.tensor(p + "post_attention_layernorm.weight"));
        }
        addFloat(w, ck.tensor("model.embed_tokens.weight"));
        addFloat(w, ck.tensor("model.norm.weight"));
        if (!c.tiedEmbeddings()) addFloat(w, ck.tensor("lm_head.weight"));
        Path file = dir.resolve("model.safetensors");
        w.write(file);
        Files.writeString(dir.resolve("config.json"), configJson(ck, q, dtype));
        return new Written(n, weights, bytes, Files.size(file));
    }

    /**
     * The projection as the float tensor to quantize: the stored tensor itself when it is
     * f32/bf16/f16 in HF order (so codes equal quantize-on-load bit for bit), else its dequantized
     * rows as f32, with q/k rows moved from interleaved to half-split RoPE order.
     */
    private static Tensor floatSource(Tensor t, WeightMatrix stored, int module, LlamaConfig c) {
        boolean permute = c.ropeInterleaved() && module <= 1;
        boolean plainFloat = t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.F16;
        if (plainFloat && !permute) return t;
        float[] all = new float[Math.toIntExact((long) stored.rows * stored.cols)];
        for (int r = 0; r < stored.rows; r++) stored.dequantizeRow(r, all, r * stored.cols);
        if (permute) all = MergeCommand.toHalfSplitRope(all, module == 0 ? c.nHeads() : c.nKvHeads(), c.headDim(), stored.cols);
        return new Tensor(t.name(), DType.F32, new long[]{stored.rows, stored.cols}, MemorySegment.ofArray(all));
    }

    /** Embeddings, norms and lm_head as stored when f32/bf16/f16; other dtypes (GGUF blocks) dequantized to f32. */
    private static void addFloat(SafetensorsWriter w, Tensor t) {
        if (t.dtype() == DType.F32 || t.dtype() == DType.BF16 || t.dtype() == DType.F16) {
            w.add(t);
            return;
        }
        if (t.shape().length == 1) {
            w.add(t.name(), t.shape(), org.finlora.tensor.Floats.toFloatArray(t));
            return;
        }
        WeightMatrix m = Matrices.of(t, Simd.SCALAR);
        float[] all = new float[Math.toIntExact((long) m.rows * m.cols)];
        for (int r = 0; r < m.rows; r++) m.dequantizeRow(r, all, r * m.cols);
        w.add(t.name(), new long[]{m.rows, m.cols}, all);
    }

    static String dtypeName(DType d) {
        return switch (d) {
            case BF16 -> "bfloat16";
            case F16 -> "float16";
            default -> "float32";
        };
    }

    /** The source's HF config (or one built from LlamaConfig) with quantization_config as transformers writes it. */
    static String configJson(Checkpoint ck, WeightFormat q, String dtype) {
        ObjectNode n = org.finlora.io.HfConfigJson.of(ck);
        n.put("torch_dtype", dtype);
        // BitsAndBytesConfig.to_dict(), keys sorted as transformers' to_json_string writes them
        Bnb4bitMatrix.Format q4 = q instanceof Bnb4bitMatrix.Format f ? f : null;
        float threshold = q instanceof Int8VectorwiseMatrix.Format f ? f.threshold() : 6.0f;
        boolean four = q4 != null;
        ObjectNode qc = n.putObject("quantization_config");
        qc.put("_load_in_4bit", four);
        qc.put("_load_in_8bit", !four);
        qc.put("bnb_4bit_compute_dtype", four ? dtype : "float32");
        qc.put("bnb_4bit_quant_storage", "uint8");
        qc.put("bnb_4bit_quant_type", four ? q4.name() : "fp4");
        qc.put("bnb_4bit_use_double_quant", four && q4.doubleQuant());
        qc.put("llm_int8_enable_fp32_cpu_offload", false);
        qc.put("llm_int8_has_fp16_weight", false);
        qc.putNull("llm_int8_skip_modules");
        qc.put("llm_int8_threshold", four ? 6.0 : (double) threshold);
        qc.put("load_in_4bit", four);
        qc.put("load_in_8bit", !four);
        qc.put("quant_method", "bitsandbytes");
        return n.toPrettyString();
    }

    /** Copies the source's tokenizer files; returns a note for the user when the folder gets no HF tokenizer. */
    private String copyTokenizer(Checkpoint ck, Path dir) throws IOException {
        Path src = Path.of(ck.source());
        if (Files.isDirectory(src)) {
            List<String> copied = new ArrayList<>();
            for (String f : TOKENIZER_FILES) {
                if (Files.isRegularFile(src.resolve(f))) {
                    Files.copy(src.resolve(f), dir.resolve(f));
                    copied.add(f);
                }
            }
            return copied.isEmpty() ? "the source folder had no tokenizer files: pass --tokenizer FILE when loading" : "";
        }
        if ("llama2.c".equals(ck.format())) {
            Path tok = tokenizer != null ? tokenizer : src.resolveSibling("tokenizer.bin");
            if (tokenizer == null && !Files.isRegularFile(tok)) tok = src.resolveSibling("tok512.bin");
            Files.copy(tok, dir.resolve("tokenizer.bin"));
            return "tokenizer copied as tokenizer.bin (llama2.c format: finlora reads it, Python/transformers needs a tokenizer.json)";
        }
        return "no tokenizer written (" + ck.format() + " source): pass --tokenizer FILE when loading";
    }

}
