package org.finlora.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import org.finlora.FinloraException;
import org.finlora.io.AtomicFiles;
import org.finlora.io.InputFiles;
import org.finlora.io.Json;
import org.finlora.io.SafetensorsFile;
import org.finlora.io.SafetensorsWriter;
import org.finlora.model.LlamaConfig;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * HF PEFT adapter folders: {@code adapter_config.json} (every field PEFT writes for a LoRA config,
 * keys sorted, indent 2, as PEFT's save_pretrained) and {@code adapter_model.safetensors} with
 * {@code base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight} [r, in] and
 * {@code ...lora_B.weight} [out, r] (mlp.* for gate/up/down), F32, metadata {"format": "pt"}.
 */
public final class PeftAdapterIO {
    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";
    /** Written last by {@link #save}: sizes and sha256 of the two files above (PEFT ignores it). */
    public static final String MANIFEST_FILE = "adapter_manifest.json";

    private PeftAdapterIO() {
    }

    /**
     * Writes the adapter into dir (created if missing) so that no moment leaves old and new files
     * side by side: the previous manifest, config and weights are removed first, then the new
     * weights, the config and last the manifest (sizes and sha256 of both) are each written to a
     * temp file and renamed into place. {@link #load} checks the manifest when there is one.
     */
    public static void save(LoraAdapter adapter, Path dir) {
        try {
            Files.createDirectories(dir);
            Files.deleteIfExists(dir.resolve(MANIFEST_FILE));
            Files.deleteIfExists(dir.resolve(CONFIG_FILE));
            Files.deleteIfExists(dir.resolve(WEIGHTS_FILE));
        } catch (IOException e) {
            throw new FinloraException(dir + ": cannot write the adapter folder (" + e.getMessage() + ")", e);
        }
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        int r = adapter.config.rank();
        for (int l = 0; l < adapter.nLayers; l++) {
            for (int m = 0; m < 7; m++) {
                float[] a = adapter.a(l, m);
                if (a == null) continue;
                w.add(LoraAdapter.peftName(l, m, "lora_A"), new long[]{r, adapter.inFeatures(m)}, a);
                w.add(LoraAdapter.peftName(l, m, "lora_B"), new long[]{adapter.outFeatures(m), r}, adapter.b(l, m));
                if (adapter.magnitude(l, m) != null) {
                    w.add(LoraAdapter.magnitudeName(l, m), new long[]{adapter.outFeatures(m)}, adapter.magnitude(l, m));
                }
            }
        }
        w.write(dir.resolve(WEIGHTS_FILE));
        AtomicFiles.write(dir.resolve(CONFIG_FILE), configJson(adapter.config));
        AtomicFiles.write(dir.resolve(MANIFEST_FILE), manifestJson(dir));
    }

    /** {"files": {name: {"bytes": n, "sha256": hex}}} of the config and the weights. */
    static String manifestJson(Path dir) {
        com.fasterxml.jackson.databind.node.ObjectNode root = JsonNodeFactory.instance.objectNode();
        com.fasterxml.jackson.databind.node.ObjectNode files = root.putObject("files");
        for (String f : new String[]{CONFIG_FILE, WEIGHTS_FILE}) {
            Path p = dir.resolve(f);
            try {
                files.putObject(f).put("bytes", Files.size(p)).put("sha256", sha256(p));
            } catch (IOException e) {
                throw new FinloraException(p + ": cannot read back (" + e.getMessage() + ")", e);
            }
        }
        return root.toPrettyString();
    }

    /**
     * When the folder has a manifest, the config and weights must be the ones it lists: a folder
     * whose save was cut short, or files mixed from two runs, is refused instead of loaded.
     */
    static void checkManifest(Path dir) {
        Path mf = dir.resolve(MANIFEST_FILE);
        if (!InputFiles.exists(mf)) return;   // a PEFT folder written elsewhere
        JsonNode files = Json.read(mf, InputFiles.SMALL_JSON, "adapter manifest").path("files");
        for (String f : new String[]{CONFIG_FILE, WEIGHTS_FILE}) {
            JsonNode e = files.path(f);
            Path p = dir.resolve(f);
            if (!e.path("bytes").canConvertToLong() || !e.path("sha256").isTextual()) {
                throw new FinloraException(mf + ": no size and sha256 for " + f);
            }
            long size = InputFiles.check(p, Long.MAX_VALUE, "adapter file");
            try {
                if (size != e.path("bytes").asLong() || !sha256(p).equals(e.path("sha256").asText())) {
                    throw new FinloraException(p + ": does not match " + MANIFEST_FILE + " (an interrupted save or files mixed from two runs); "
                            + "train again or copy the whole adapter folder");
                }
            } catch (IOException ex) {
                throw new FinloraException(p + ": cannot read (" + ex.getMessage() + ")", ex);
            }
        }
    }

    private static String sha256(Path file) throws IOException {
        java.security.MessageDigest md;
        try {
            md = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (java.io.InputStream in = Files.newInputStream(file)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) md.update(buf, 0, n);
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    /**
     * adapter_config.json text for a config, formatted as Python's json.dumps(indent=2,
     * sort_keys=True) that PEFT uses.
     */
    public static String configJson(LoraConfig c) {
        Map<String, String> f = new TreeMap<>();
        f.put("alpha_pattern", "{}");
        f.put("auto_mapping", "null");
        f.put("base_model_name_or_path", c.baseModel() == null ? "null" : quote(c.baseModel()));
        f.put("bias", quote("none"));
        f.put("corda_config", "null");
        f.put("eva_config", "null");
        f.put("exclude_modules", "null");
        f.put("fan_in_fan_out", "false");
        f.put("inference_mode", "true");
        f.put("init_lora_weights", c.init().equals("gaussian") ? quote("gaussian") : "true");
        f.put("layer_replication", "null");
        f.put("layers_pattern", "null");
        f.put("layers_to_transform", "null");
        f.put("loftq_config", "{}");
        f.put("lora_alpha", c.alpha() == Math.rint(c.alpha()) ? Long.toString((long) c.alpha()) : Float.toString(c.alpha()));
        f.put("lora_bias", "false");
        f.put("lora_dropout", Float.toString(c.dropout()));
        f.put("megatron_config", "null");
        f.put("megatron_core", quote("megatron.core"));
        f.put("modules_to_save", "null");
        f.put("peft_type", quote("LORA"));
        f.put("r", Integer.toString(c.rank()));
        f.put("rank_pattern", "{}");
        f.put("revision", "null");
        StringBuilder targets = new StringBuilder("[\n");
        for (int i = 0; i < c.targetModules().size(); i++) {
            targets.append("    ").append(quote(c.targetModules().get(i))).append(i + 1 < c.targetModules().size() ? ",\n" : "\n");
        }
        f.put("target_modules", targets.append("  ]").toString());
        f.put("task_type", quote("CAUSAL_LM"));
        f.put("trainable_token_indices", "null");
        f.put("use_dora", Boolean.toString(c.useDora()));
        f.put("use_rslora", Boolean.toString(c.useRslora()));
        StringBuilder sb = new StringBuilder("{\n");
        int i = 0;
        for (var e : f.entrySet()) {
            sb.append("  ").append(quote(e.getKey())).append(": ").append(e.getValue()).append(++i < f.size() ? ",\n" : "\n");
        }
        return sb.append("}").toString();
    }

    private static String quote(String s) {
        return JsonNodeFactory.instance.textNode(s).toString();
    }

    /** Reads and validates adapter_config.json (unknown keys are ignored). */
    public static LoraConfig readConfig(Path dir) {
        Path file = dir.resolve(CONFIG_FILE);
        if (!InputFiles.exists(file)) throw new FinloraException(file + ": file not found (is " + dir + " a PEFT adapter folder?)");
        JsonNode root = Json.read(file, InputFiles.SMALL_JSON, "adapter config");
        if (!root.isObject()) throw new FinloraException(file + ": expected a JSON object");
        String peftType = text(root, "peft_type", file);
        if (peftType != null && !peftType.equals("LORA")) throw new FinloraException(file + ": field 'peft_type' is '" + peftType + "', expected 'LORA'");
        JsonNode r = root.get("r");
        if (r == null || !r.canConvertToInt() || !r.isIntegralNumber() || r.asInt() <= 0) {
            throw new FinloraException(file + ": field 'r' must be a positive integer, got " + r);
        }
        JsonNode alpha = root.get("lora_alpha");
        if (alpha == null || !alpha.isNumber() || !Double.isFinite(alpha.asDouble()) || !Float.isFinite((float) alpha.asDouble())) {
            throw new FinloraException(file + ": field 'lora_alpha' must be a finite number, got " + alpha);
        }
        JsonNode tm = root.get("target_modules");
        List<String> targets = new ArrayList<>();
        if (tm != null && tm.isArray()) {
            for (JsonNode t : tm) {
                if (!t.isTextual()) throw new FinloraException(file + ": field 'target_modules' must list module names, got " + t);
                targets.add(t.asText());
            }
        } else if (tm != null && tm.isTextual() && tm.asText().equals("all-linear")) {
            targets.addAll(LoraConfig.ALL_TARGETS);
        } else {
            throw new FinloraException(file + ": field 'target_modules' must be a list of module names (or \"all-linear\"), got " + tm);
        }
        for (String t : targets) {
            if (!LoraConfig.ALL_TARGETS.contains(t)) {
                throw new FinloraException(file + ": field 'target_modules' names '" + t + "', expected some of " + LoraConfig.ALL_TARGETS);
            }
        }
        // features this engine does not implement: refuse rather than load something different
        requireEmpty(root, "rank_pattern", file);
        requireEmpty(root, "alpha_pattern", file);
        requireNullOrFalse(root, "fan_in_fan_out", file);
        requireNull(root, "layers_to_transform", file);
        String bias = text(root, "bias", file);
        if (bias != null && !bias.equals("none")) throw new FinloraException(file + ": field 'bias' is '" + bias + "'; only \"none\" is supported");
        JsonNode dropout = root.get("lora_dropout");
        if (dropout != null && !dropout.isNull() && !dropout.isNumber()) throw new FinloraException(file + ": field 'lora_dropout' must be a number, got " + dropout);
        float p = dropout == null || dropout.isNull() ? 0f : (float) dropout.asDouble();
        JsonNode init = root.get("init_lora_weights");
        String initName = init != null && init.isTextual() && init.asText().equals("gaussian") ? "gaussian" : "default";
        String base = text(root, "base_model_name_or_path", file);
        try {
            return new LoraConfig(r.asInt(), (float) alpha.asDouble(), p, targets, bool(root, "use_rslora", file), bool(root, "use_dora", file), initName, base);
        } catch (FinloraException e) {
            throw new FinloraException(file + ": " + e.getMessage());
        }
    }

    /** Reads an adapter folder for a model, checking every tensor's name and shape. */
    public static LoraAdapter load(Path dir, LlamaConfig model) {
        checkManifest(dir);
        LoraConfig config = readConfig(dir);
        Path file = dir.resolve(WEIGHTS_FILE);
        if (!InputFiles.exists(file)) throw new FinloraException(file + ": adapter weights file not found");
        try (Arena arena = Arena.ofConfined()) {
            SafetensorsFile st = SafetensorsFile.open(file, arena);
            Map<String, Tensor> tensors = st.tensors();
            checkRank(file, config, model, tensors);
            LoraAdapter adapter = LoraAdapter.zeros(config, model);
            Set<String> used = new HashSet<>();
            int r = config.rank();
            for (int l = 0; l < model.nLayers(); l++) {
                for (int m = 0; m < 7; m++) {
                    if (adapter.a(l, m) == null) continue;
                    fill(file, tensors, LoraAdapter.peftName(l, m, "lora_A"), new long[]{r, adapter.inFeatures(m)}, adapter.a(l, m), used);
                    fill(file, tensors, LoraAdapter.peftName(l, m, "lora_B"), new long[]{adapter.outFeatures(m), r}, adapter.b(l, m), used);
                    if (config.useDora()) {
                        fill(file, tensors, LoraAdapter.magnitudeName(l, m), new long[]{adapter.outFeatures(m)}, adapter.magnitude(l, m), used);
                    }
                }
            }
            for (String name : tensors.keySet()) {
                if (!used.contains(name)) {
                    throw new FinloraException(file + ": unexpected tensor '" + name + "' (model has " + model.nLayers()
                            + " layers; targets " + config.targetModules() + ")");
                }
            }
            return adapter;
        }
    }

    /**
     * The config's r against the model and the weights file before anything is allocated for it:
     * the first targeted lora_A must be [r, in] (an r the file cannot hold would otherwise size
     * every LoRA array).
     */
    private static void checkRank(Path file, LoraConfig config, LlamaConfig model, Map<String, Tensor> tensors) {
        int[][] shapes = LoraAdapter.projectionShapes(model);
        for (int m = 0; m < 7; m++) {
            if (!config.targets(org.finlora.model.LlamaWeights.LINEAR_NAMES[m])) continue;
            String name = LoraAdapter.peftName(0, m, "lora_A");
            Tensor t = tensors.get(name);
            if (t == null) throw new FinloraException(file + ": tensor '" + name + "' is missing");
            long[] want = {config.rank(), shapes[0][m]};
            if (!Arrays.equals(t.shape(), want)) {
                throw new FinloraException(file + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape()) + " but adapter_config.json's r "
                        + config.rank() + " and the model need " + Arrays.toString(want));
            }
            return;
        }
    }

    private static void fill(Path file, Map<String, Tensor> tensors, String name, long[] shape, float[] into, Set<String> used) {
        Tensor t = tensors.get(name);
        if (t == null) throw new FinloraException(file + ": tensor '" + name + "' is missing");
        if (!Arrays.equals(t.shape(), shape)) {
            throw new FinloraException(file + ": tensor '" + name + "' has shape " + Arrays.toString(t.shape())
                    + " but the model needs " + Arrays.toString(shape));
        }
        if (!t.dtype().isFloat()) throw new FinloraException(file + ": tensor '" + name + "' is " + t.dtype() + ", expected F32, F16 or BF16");
        float[] v = Floats.toFloatArray(t);
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new FinloraException(file + ": tensor '" + name + "' holds " + v[i] + " at element " + i + " (a diverged run or a corrupt file)");
            }
        }
        System.arraycopy(v, 0, into, 0, into.length);
        used.add(name);
    }

    private static String text(JsonNode root, String key, Path file) {
        JsonNode n = root.get(key);
        if (n == null || n.isNull()) return null;
        if (!n.isTextual()) throw new FinloraException(file + ": field '" + key + "' must be a string, got " + n);
        return n.asText();
    }

    private static boolean bool(JsonNode root, String key, Path file) {
        JsonNode n = root.get(key);
        if (n != null && !n.isNull() && !n.isBoolean()) throw new FinloraException(file + ": field '" + key + "' must be true or false, got " + n);
        return n != null && n.asBoolean(false);
    }

    private static void requireEmpty(JsonNode root, String key, Path file) {
        JsonNode n = root.get(key);
        if (n != null && !n.isNull() && !(n.isObject() && n.isEmpty())) {
            throw new FinloraException(file + ": field '" + key + "' is " + n + "; per-module patterns are not supported");
        }
    }

    private static void requireNull(JsonNode root, String key, Path file) {
        JsonNode n = root.get(key);
        if (n != null && !n.isNull()) throw new FinloraException(file + ": field '" + key + "' is " + n + "; only null is supported");
    }

    private static void requireNullOrFalse(JsonNode root, String key, Path file) {
        JsonNode n = root.get(key);
        if (n != null && !n.isNull() && n.asBoolean(true)) throw new FinloraException(file + ": field '" + key + "' is " + n + "; only false is supported");
    }

}
