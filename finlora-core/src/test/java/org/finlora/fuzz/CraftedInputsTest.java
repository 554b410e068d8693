package org.finlora.fuzz;

import org.finlora.FinloraException;
import org.finlora.io.HfFolderLoader;
import org.finlora.io.Json;
import org.finlora.io.SafetensorsFile;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaConfig;
import org.finlora.tokenizer.Llama2cTokenizer;
import org.finlora.tokenizer.Tokenizers;
import org.finlora.train.TrainCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The crafted files of the fault campaign, one by one: each ends in a one-line FinloraException naming what is wrong. */
class CraftedInputsTest {
    @TempDir
    Path tmp;

    private static String error(Executable e, String... fragments) {
        FinloraException x = assertThrows(FinloraException.class, e);
        assertFalse(x.getMessage().contains("\n"), x.getMessage());
        for (String f : fragments) assertTrue(x.getMessage().contains(f), "'" + f + "' not in: " + x.getMessage());
        return x.getMessage();
    }

    @Test
    void aNulInAShardNameIsAnError() throws Exception {
        Path index = Files.writeString(tmp.resolve("model.safetensors.index.json"), "{\"weight_map\": {\"w\": \"model\\u0000.safetensors\"}}");
        error(() -> SafetensorsFile.openSharded(index, Arena.global()), "is not a plain file name");
        Files.writeString(index, "{\"weight_map\": {\"w\": \"../x.safetensors\"}}");
        error(() -> SafetensorsFile.openSharded(index, Arena.global()), "is not a plain file name");
    }

    @Test
    void llama2cVocabularyTooSmallForTheByteFallbacks() throws Exception {
        Path tok = FuzzTargets.shared().resolve("models/stories260K/tok512.bin");
        for (int v : new int[]{1, 65}) error(() -> Llama2cTokenizer.load(tok, v), "vocab_size " + v, "at least 259");
        error(() -> Llama2cTokenizer.load(tok, 100_000), "cannot hold 100000 tokens");
    }

    @Test
    void aHugeTokenIdInTokenizerJson() throws Exception {
        Path f = Files.writeString(tmp.resolve("tokenizer.json"),
                "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 2147483647}, \"merges\": []}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
        error(() -> Tokenizers.fromTokenizerJson(f), "model.vocab[\"b\"]", "is not a token id");
    }

    @Test
    void aSplitRegexThatOverflowsTheStackIsNamed() throws Exception {
        String json = new String(Files.readAllBytes(FuzzTargets.CORE_FIXTURES.resolve("tiny-llama3/tokenizer.json")), StandardCharsets.UTF_8);
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) Json.MAPPER.readTree(json);
        root.putObject("pre_tokenizer").put("type", "Sequence").putArray("pretokenizers")
                .add(Json.MAPPER.createObjectNode().put("type", "Split").put("behavior", "Isolated").put("invert", false)
                        .set("pattern", Json.MAPPER.createObjectNode().put("Regex", "(?:.|\\n)*")))
                .add(Json.MAPPER.createObjectNode().put("type", "ByteLevel").put("add_prefix_space", false).put("use_regex", false));
        Path f = Files.writeString(tmp.resolve("tokenizer.json"), root.toString());
        var tok = Tokenizers.fromTokenizerJson(f);
        String prompt = "The company said its net sales rose. ".repeat(2000);
        error(() -> tok.encode(prompt, false), "Split regex", "recursed too deep");
    }

    @Test
    void adapterConfigRankTheWeightsCannotHold() throws Exception {
        Path src = FuzzTargets.CORE_FIXTURES.resolve("tiny-llama3-lora");
        Path dir = Files.createDirectories(tmp.resolve("adapter"));
        Files.copy(src.resolve(PeftAdapterIO.WEIGHTS_FILE), dir.resolve(PeftAdapterIO.WEIGHTS_FILE));
        Files.writeString(dir.resolve(PeftAdapterIO.CONFIG_FILE), Files.readString(src.resolve(PeftAdapterIO.CONFIG_FILE)).replaceFirst("\"r\": \\d+", "\"r\": 2147483647"));
        Path tiny = FuzzTargets.CORE_FIXTURES.resolve("tiny-llama3");
        LlamaConfig model = HfFolderLoader.config(tiny.resolve("config.json"), HfFolderLoader.readConfigJson(tiny));
        error(() -> PeftAdapterIO.load(dir, model), "r 2147483647", "lora_A");
    }

    @Test
    void trainerStateFieldsAreTypeChecked() throws Exception {
        String good = "{\"step\": 4, \"epoch\": 1, \"batch_index\": 2, \"micro_steps\": 8, \"seed\": 42, \"total_steps\": 8, \"optimizer\": \"adamw\", "
                + "\"tokens\": 916, \"train_curve\": [[1.0, 5.3]], \"eval_curve\": []}";
        Files.writeString(tmp.resolve(TrainCheckpoint.STATE_FILE), good);
        assertEquals(2, TrainCheckpoint.readState(tmp).batchIndex());
        for (String[] c : new String[][]{{"\"train_curve\": [[1.0, 5.3]]", "\"train_curve\": [[1.0]]", "train_curve[0]"},
                {"\"epoch\": 1", "\"epoch\": \"x\"", "\"epoch\""}, {"\"batch_index\": 2", "\"batch_index\": 99999999999", "\"batch_index\""},
                {"\"step\": 4", "\"step\": -1", "negative"}, {"\"optimizer\": \"adamw\"", "\"optimizer\": 3", "\"optimizer\""}}) {
            Files.writeString(tmp.resolve(TrainCheckpoint.STATE_FILE), good.replace(c[0], c[1]));
            error(() -> TrainCheckpoint.readState(tmp), c[2]);
        }
    }

    @Test
    void jsonErrorsAreOneLineWithLineAndColumn() throws Exception {
        Path cfg = Files.writeString(tmp.resolve("config.json"), "{\n  \"hidden_size\": 64,\n  \"x\": tru\n}");
        assertEquals(cfg + ":3:11: malformed JSON (Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false'))",
                error(() -> Json.read(cfg, 1 << 20, "model config")));
        Files.writeString(cfg, "[".repeat(100_000));
        error(() -> Json.read(cfg, 1 << 20, "model config"), "malformed JSON", "nesting depth");
        Files.writeString(cfg, "{\"model_type\": \"llama\", \"hidden_size\": 64, \"intermediate_size\": 128, \"num_hidden_layers\": 1, "
                + "\"num_attention_heads\": 4, \"vocab_size\": 300, \"max_position_embeddings\": 1}");
        error(() -> HfFolderLoader.config(cfg, Json.read(cfg, 1 << 20, "model config")), "max_position_embeddings 1");
    }
}
