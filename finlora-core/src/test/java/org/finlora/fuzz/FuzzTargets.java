package org.finlora.fuzz;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.data.CsvReader;
import org.finlora.data.JsonlReader;
import org.finlora.io.Checkpoint;
import org.finlora.io.GgufLoader;
import org.finlora.io.GgufValueType;
import org.finlora.io.GgufWriter;
import org.finlora.io.HfCache;
import org.finlora.io.HfFolderLoader;
import org.finlora.io.HubClient;
import org.finlora.io.Json;
import org.finlora.io.Llama2cLoader;
import org.finlora.io.OptionsFile;
import org.finlora.io.SafetensorsFile;
import org.finlora.io.SafetensorsWriter;
import org.finlora.kernel.Bnb4bitMatrix;
import org.finlora.kernel.Simd;
import org.finlora.kernel.WeightFormat;
import org.finlora.kernel.WeightFormats;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaConfig;
import org.finlora.quant.BnbTensors;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.finlora.tokenizer.Llama2cTokenizer;
import org.finlora.tokenizer.Tokenizer;
import org.finlora.tokenizer.Tokenizers;
import org.finlora.train.TrainCheckpoint;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every parser a user's file (or a Hub reply) reaches, each with valid seeds and a runner that
 * takes one input end to end through the public entry point (written to a scratch folder where
 * the entry point reads files). A runner may throw only FinloraException; AssertionError marks a
 * broken property (e.g. an accepted Hub listing whose paths leave the cache).
 */
final class FuzzTargets {
    static final Path CORE_FIXTURES = Path.of("src/test/resources/fixtures");
    static final String SAMPLE = "Hello world, the company's net sales rose 5.3% to EUR 13.1 mn! \u00e9\u4e2d\uD83D\uDE42\n\n\tend";

    /** One parser: its seeds, whether they are JSON text, and how one input is run. */
    record Target(String name, List<byte[]> seeds, boolean json, Runner runner) {
    }

    @FunctionalInterface
    interface Runner {
        void run(byte[] input, Path scratch) throws Exception;
    }

    private FuzzTargets() {
    }

    static List<Target> all() throws IOException {
        List<Target> t = new ArrayList<>();
        t.add(safetensors());
        t.add(shardedIndex());
        t.add(config());
        t.add(tokenizerJson());
        t.add(tokenizerBin());
        t.add(gguf());
        t.add(llama2c());
        t.add(peftAdapter());
        t.add(bnbQuantState());
        t.add(jsonl());
        t.add(csv());
        t.add(yaml());
        t.add(trainerState());
        t.add(hubListing());
        return t;
    }

    static Path shared() {
        String s = System.getProperty("finlora.shared", "../shared");
        return Path.of(s);
    }

    private static void exercise(Tokenizer tok) {
        int[] ids = tok.encode(SAMPLE, tok.addsBosByDefault());
        tok.decode(ids);
        for (int id : ids) tok.tokenBytes(id);
    }

    // ---- model files --------------------------------------------------------------------------

    static Target safetensors() throws IOException {
        Path tmp = Files.createTempDirectory("fuzz-seed");
        Path f = tmp.resolve("s.safetensors");
        new SafetensorsWriter().add("model.layers.0.w", new long[]{3, 4}, new float[12]).add("b", DType.BF16, new long[]{5}, new byte[10])
                .add("u", DType.U8, new long[]{2, 2}, new byte[4]).add("e", DType.F16, new long[]{0}, new byte[0]).metadata("format", "pt").write(f);
        List<byte[]> seeds = List.of(Files.readAllBytes(f), Files.readAllBytes(CORE_FIXTURES.resolve("tiny-llama3-lora/adapter_model.safetensors")));
        return new Target("safetensors", seeds, false, (in, scratch) -> SafetensorsFile.read("fuzz.safetensors", MemorySegment.ofArray(in)));
    }

    static Target shardedIndex() throws IOException {
        // two small shards (the index is what is fuzzed; the shards only have to exist and be valid)
        Path dir = Files.createTempDirectory("fuzz-seed");
        String[] shards = {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"};
        new SafetensorsWriter().add("model.embed_tokens.weight", new long[]{4, 2}, new float[8])
                .add("model.norm.weight", new long[]{2}, new float[2]).write(dir.resolve(shards[0]));
        new SafetensorsWriter().add("lm_head.weight", new long[]{4, 2}, new float[8]).write(dir.resolve(shards[1]));
        Map<String, String> map = Map.of("model.embed_tokens.weight", shards[0], "model.norm.weight", shards[0], "lm_head.weight", shards[1]);
        SafetensorsWriter.writeIndex(dir.resolve("model.safetensors.index.json"), 72, map);
        return new Target("sharded index", List.of(Files.readAllBytes(dir.resolve("model.safetensors.index.json"))), true, (in, scratch) -> {
            for (String shard : shards) if (!Files.exists(scratch.resolve(shard))) Files.copy(dir.resolve(shard), scratch.resolve(shard));
            Path index = Files.write(scratch.resolve("model.safetensors.index.json"), in);
            try (Arena a = Arena.ofConfined()) {
                SafetensorsFile.openSharded(index, a);
            }
        });
    }

    static Target config() throws IOException {
        return new Target("config.json", List.of(Files.readAllBytes(CORE_FIXTURES.resolve("tiny-llama3/config.json"))), true, (in, scratch) -> {
            LlamaConfig c = HfFolderLoader.config(Path.of("config.json"), Json.parse("config.json", in, 1 << 20));
            if (c.dim() <= 0 || c.nLayers() <= 0 || c.maxSeqLen() < 2 || c.headDim() % 2 != 0 || c.nHeads() % c.nKvHeads() != 0) {
                throw new AssertionError("accepted an invalid config " + c);
            }
        });
    }

    static Target gguf() throws IOException {
        int dim = 8, hid = 16, heads = 2, kv = 1, hd = 4;
        List<String> tokens = List.of("<unk>", "<s>", "</s>", "\u2581", "a", "b", "\u2581a", "ab");
        GgufWriter w = new GgufWriter().putString("general.architecture", "llama").putU32("llama.context_length", 64)
                .putU32("llama.embedding_length", dim).putU32("llama.block_count", 1).putU32("llama.feed_forward_length", hid)
                .putU32("llama.rope.dimension_count", hd).putU32("llama.attention.head_count", heads).putU32("llama.attention.head_count_kv", kv)
                .putF32("llama.rope.freq_base", 10000f).putF32("llama.attention.layer_norm_rms_epsilon", 1e-5f)
                .putString("tokenizer.ggml.model", "llama").putArray("tokenizer.ggml.tokens", GgufValueType.STRING, tokens)
                .putArray("tokenizer.ggml.scores", GgufValueType.FLOAT32, List.of(0f, 0f, 0f, -1f, -2f, -2f, -0.5f, -1.5f))
                .putArray("tokenizer.ggml.token_type", GgufValueType.INT32, List.of(2, 3, 3, 1, 1, 1, 1, 1))
                .putU32("tokenizer.ggml.bos_token_id", 1).putU32("tokenizer.ggml.eos_token_id", 2).putU32("tokenizer.ggml.unknown_token_id", 0);
        w.addTensor("token_embd.weight", new long[]{tokens.size(), dim}, values(tokens.size() * dim));
        w.addTensor("output_norm.weight", new long[]{dim}, values(dim));
        String[][] blk = {{"attn_q", "" + heads * hd, "" + dim}, {"attn_k", "" + kv * hd, "" + dim}, {"attn_v", "" + kv * hd, "" + dim},
                {"attn_output", "" + dim, "" + heads * hd}, {"ffn_gate", "" + hid, "" + dim}, {"ffn_up", "" + hid, "" + dim}, {"ffn_down", "" + dim, "" + hid}};
        for (String[] b : blk) {
            long r = Long.parseLong(b[1]), c = Long.parseLong(b[2]);
            w.addTensor("blk.0." + b[0] + ".weight", new long[]{r, c}, values((int) (r * c)));
        }
        w.addTensor("blk.0.attn_norm.weight", new long[]{dim}, values(dim));
        w.addTensor("blk.0.ffn_norm.weight", new long[]{dim}, values(dim));
        Path f = Files.createTempDirectory("fuzz-seed").resolve("m.gguf");
        w.write(f);
        return new Target("GGUF", List.of(Files.readAllBytes(f)), false, (in, scratch) -> {
            Path p = Files.write(scratch.resolve("m.gguf"), in);
            try (Checkpoint ck = GgufLoader.load(p, true)) {
                exercise(ck.tokenizer());
            }
        });
    }

    private static float[] values(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) Math.sin(i * 0.37) * 0.1f;
        return v;
    }

    static Target llama2c() throws IOException {
        int dim = 8, hid = 16, layers = 1, heads = 2, kv = 2, vocab = 512, seq = 16, hs = dim / heads;
        long floats = (long) vocab * dim + layers * dim + layers * dim * dim + 2L * layers * kv * hs * dim + layers * dim * dim + layers * dim
                + 3L * layers * hid * dim + dim + 2L * seq * hs / 2;
        ByteBuffer b = ByteBuffer.allocate((int) (28 + 4 * floats)).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : new int[]{dim, hid, layers, heads, kv, vocab, seq}) b.putInt(v);
        for (long i = 0; i < floats; i++) b.putFloat((float) Math.sin(i * 0.11) * 0.1f);
        Path tok = shared().resolve("models/stories260K/tok512.bin");
        return new Target("llama2.c checkpoint", List.of(b.array()), false, (in, scratch) -> {
            if (!Files.exists(scratch.resolve("tokenizer.bin"))) Files.copy(tok, scratch.resolve("tokenizer.bin"));
            Path p = Files.write(scratch.resolve("m.bin"), in);
            try (Checkpoint ck = Llama2cLoader.load(p, null)) {
                exercise(ck.tokenizer());
            }
        });
    }

    static Target peftAdapter() throws IOException {
        Path dir = CORE_FIXTURES.resolve("tiny-llama3-lora");
        byte[] cfg = Files.readAllBytes(dir.resolve("adapter_config.json")), weights = Files.readAllBytes(dir.resolve("adapter_model.safetensors"));
        Path tiny = CORE_FIXTURES.resolve("tiny-llama3");
        LlamaConfig model = HfFolderLoader.config(tiny.resolve("config.json"), HfFolderLoader.readConfigJson(tiny));
        // one parser, two files: an input that looks like JSON replaces the config, anything else the weights
        return new Target("PEFT adapter", List.of(cfg, weights), true, (in, scratch) -> {
            boolean isConfig = in.length > 0 && (in[0] == '{' || in[0] == '[' || in[0] == ' ' || in[0] == '\n');
            Files.write(scratch.resolve(PeftAdapterIO.CONFIG_FILE), isConfig ? in : cfg);
            Files.write(scratch.resolve(PeftAdapterIO.WEIGHTS_FILE), isConfig ? weights : in);
            PeftAdapterIO.load(scratch, model);
        });
    }

    static Target bnbQuantState() {
        String name = "model.layers.0.mlp.up_proj.weight";
        float[] w = values(8 * 64);
        Tensor src = new Tensor(name, DType.F32, new long[]{8, 64}, MemorySegment.ofArray(w));
        List<byte[]> seeds = new ArrayList<>();
        List<Map<String, Tensor>> groups = new ArrayList<>();
        for (String q : new String[]{"nf4", "fp4:double-quant=false"}) {
            WeightFormat f = WeightFormats.parse(q);
            Map<String, Tensor> g = f.store(f.quantize(src, Simd.SCALAR), name, "float32");
            groups.add(g);
            seeds.add(BnbTensors.quantState(g, name).data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        }
        return new Target("bitsandbytes quant_state", seeds, true, (in, scratch) -> {
            // the group whose seed the input most likely came from (its key suffix names the type)
            Map<String, Tensor> g = new LinkedHashMap<>(groups.get(new String(in, StandardCharsets.ISO_8859_1).contains("fp4") ? 1 : 0));
            String key = BnbTensors.quantState(g, name).name();
            g.remove(key);
            g.put(key, new Tensor(key, DType.U8, new long[]{in.length}, MemorySegment.ofArray(in)));
            Bnb4bitMatrix.fromBnb(BnbTensors.read4bit(g, name), Simd.SCALAR);
        });
    }

    // ---- tokenizers ---------------------------------------------------------------------------

    static Target tokenizerJson() throws IOException {
        List<byte[]> seeds = List.of(Files.readAllBytes(CORE_FIXTURES.resolve("tiny-llama3/tokenizer.json")), sentencePieceJson());
        return new Target("tokenizer.json", seeds, true, (in, scratch) -> exercise(Tokenizers.fromTokenizerJson(Files.write(scratch.resolve("tokenizer.json"), in))));
    }

    /** A small Llama 2 style tokenizer.json: Metaspace, byte fallback, a few merges. */
    private static byte[] sentencePieceJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode root = m.createObjectNode();
        ArrayNode added = root.putArray("added_tokens");
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (int i = 0; i < 3; i++) added.addObject().put("id", i).put("content", specials[i]).put("special", true);
        root.putObject("pre_tokenizer").put("type", "Metaspace").put("replacement", "\u2581").put("prepend_scheme", "first").put("split", false);
        root.putObject("post_processor").put("type", "TemplateProcessing").putArray("single")
                .add(m.createObjectNode().set("SpecialToken", m.createObjectNode().put("id", "<s>").put("type_id", 0)))
                .add(m.createObjectNode().set("Sequence", m.createObjectNode().put("id", "A").put("type_id", 0)));
        ObjectNode model = root.putObject("model").put("type", "BPE").put("unk_token", "<unk>").put("byte_fallback", true);
        ObjectNode vocab = model.putObject("vocab");
        int id = 0;
        for (String s : specials) vocab.put(s, id++);
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), id++);
        for (String p : new String[]{"\u2581", "a", "b", "e", "\u2581a", "ab", "\u2581ab"}) vocab.put(p, id++);
        model.putArray("merges").add("\u2581 a").add("a b").add("\u2581a b");
        return root.toString().getBytes(StandardCharsets.UTF_8);
    }

    static Target tokenizerBin() throws IOException {
        Path tok = shared().resolve("models/stories260K/tok512.bin");
        return new Target("tokenizer.bin", List.of(Files.readAllBytes(tok)), false,
                (in, scratch) -> exercise(Llama2cTokenizer.load(Files.write(scratch.resolve("tokenizer.bin"), in), 512)));
    }

    // ---- data and run files -------------------------------------------------------------------

    static Target jsonl() throws IOException {
        List<String> lines = Files.readAllLines(shared().resolve("data/fpb_dev.jsonl")).subList(0, 6);
        byte[] fpb = (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8);
        byte[] fingpt = "{\"instruction\": \"What is the sentiment?\", \"input\": \"Sales rose.\", \"output\": \"positive\"}\r\n\n{\"context\": \"a\", \"target\": \"b\", \"id\": 3}"
                .getBytes(StandardCharsets.UTF_8);
        return new Target("JSONL", List.of(fpb, fingpt), true, (in, scratch) -> JsonlReader.read(Files.write(scratch.resolve("d.jsonl"), in)));
    }

    static Target csv() {
        byte[] seed = "context,target,id\n\"Input: sales rose\nAnswer: \",positive,1\n\"He said \"\"no\"\"\",negative,2\n".getBytes(StandardCharsets.UTF_8);
        return new Target("CSV", List.of(seed), false, (in, scratch) -> CsvReader.read(Files.write(scratch.resolve("d.csv"), in), 0));
    }

    static Target yaml() {
        List<byte[]> seeds = List.of(
                "rank: 8\nalpha: 16\ndropout: 0.0\nlr: 0.005\nlr_schedule: constant\ntarget-modules: [q, v]\ntrain:\n  - a.jsonl\n  - b.jsonl\n".getBytes(StandardCharsets.UTF_8),
                "{\"rank\": 4, \"no-shuffle\": true, \"epochs\": 2}".getBytes(StandardCharsets.UTF_8),
                "base: &b [x, y]\nother: *b\nmore: !!str 5\n".getBytes(StandardCharsets.UTF_8));
        return new Target("YAML --config", seeds, false, (in, scratch) -> OptionsFile.read(Files.write(scratch.resolve("run.yaml"), in)));
    }

    static Target trainerState() {
        byte[] seed = ("{\"step\": 4, \"epoch\": 1, \"batch_index\": 2, \"micro_steps\": 8, \"seed\": 42, \"total_steps\": 8, \"optimizer\": \"adamw\", "
                + "\"tokens\": 916, \"train_curve\": [[1.0, 5.31], [2.0, 5.2], [3.0, 5.1], [4.0, 4.9]], \"eval_curve\": [[3.0, 5.0]]}")
                .getBytes(StandardCharsets.UTF_8);
        return new Target("trainer_state.json", List.of(seed), true, (in, scratch) -> {
            Files.write(scratch.resolve(TrainCheckpoint.STATE_FILE), in);
            TrainCheckpoint.readState(scratch);
        });
    }

    static Target hubListing() {
        String sha = "0123456789abcdef0123456789abcdef01234567";
        byte[] seed = ("{\"id\": \"acme/tiny\", \"sha\": \"" + sha + "\", \"private\": false, \"siblings\": [{\"rfilename\": \"config.json\"}, "
                + "{\"rfilename\": \"model.safetensors\"}, {\"rfilename\": \"original/params.json\"}, {\"rfilename\": \"tokenizer.json\"}]}")
                .getBytes(StandardCharsets.UTF_8);
        return new Target("Hub listing", List.of(seed), true, (in, scratch) -> {
            HubClient.RepoInfo info = HubClient.parseRepoInfo("http://127.0.0.1/api/models/acme/tiny", "acme/tiny", in);
            // the property the traversal broke: every name an accepted reply carries maps inside the cache
            HfCache cache = new HfCache(scratch.resolve("hub"));
            Path root = cache.root().toAbsolutePath().normalize();
            for (String f : info.files()) {
                Path p = cache.snapshotFile(HfCache.RepoType.MODEL, "acme/tiny", info.sha(), f).toAbsolutePath().normalize();
                if (!p.startsWith(root.resolve("models--acme--tiny/snapshots/" + info.sha()))) throw new AssertionError(f + " maps to " + p);
            }
        });
    }

}
