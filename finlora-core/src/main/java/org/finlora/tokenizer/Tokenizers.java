package org.finlora.tokenizer;

import org.finlora.FinloraException;

import java.nio.file.Path;
import java.util.Map;

/**
 * Finds and builds the tokenizer of a model source. The entry points the io loaders call.
 */
public final class Tokenizers {
    private Tokenizers() {
    }

    /**
     * The tokenizer of an HF model folder: tokenizer.json (+ tokenizer_config.json for BOS/EOS and
     * the chat template), else tokenizer.model (Meta tiktoken ranks or SentencePiece protobuf).
     */
    public static Tokenizer fromHfFolder(Path dir) {
        throw new FinloraException(dir + ": HF tokenizers are not supported by this build yet");
    }

    /**
     * The tokenizer stored in GGUF metadata (tokenizer.ggml.*). Values: integers as Long, f32 as
     * Float, f64 as Double, bool as Boolean, strings as String, arrays as java.util.List.
     */
    public static Tokenizer fromGgufMetadata(Map<String, Object> metadata, String source) {
        throw new FinloraException(source + ": GGUF tokenizers are not supported by this build yet");
    }
}
