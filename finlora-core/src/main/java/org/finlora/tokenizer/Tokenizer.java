package org.finlora.tokenizer;

import java.util.Set;

/** Text to token ids and back. Implementations: byte-level BPE (Llama 3), SentencePiece-style BPE (Llama 2, llama2.c). */
public interface Tokenizer {

    /**
     * Encodes text; prepends BOS when {@code addBos} (callers pass {@link #addsBosByDefault()} for the tokenizer's own rule).
     * Special-token texts such as {@code <|eot_id|>} in the input are encoded as ordinary text.
     */
    int[] encode(String text, boolean addBos);

    /**
     * Encodes text in which special-token texts ({@code <|start_header_id|>}, {@code <s>}...) stand for
     * their ids, as chat templates need. Tokenizers without special tokens encode as {@link #encode}.
     */
    default int[] encodeWithSpecials(String text, boolean addBos) {
        return encode(text, addBos);
    }

    /** Decodes ids to text, as the reference tokenizer does (special tokens included verbatim unless they are BOS/EOS). */
    String decode(int[] ids);

    /** Decodes ids; with {@code skipSpecialTokens} every special/control token is left out, otherwise all are written verbatim. */
    default String decode(int[] ids, boolean skipSpecialTokens) {
        return decode(ids);
    }

    /** The raw bytes one token stands for (for streaming output through a UTF-8 decoder). */
    byte[] tokenBytes(int id);

    /**
     * The bytes token {@code id} adds to the text when it follows {@code prevId} (-1 at the start):
     * SentencePiece decoders drop the leading space of the first piece after BOS.
     */
    default byte[] tokenBytes(int prevId, int id) {
        return tokenBytes(id);
    }

    int vocabSize();

    /** BOS id, or -1 when the tokenizer has none. */
    int bosId();

    /** Ids that end generation (EOS, eot, eom...). */
    Set<Integer> stopIds();

    /** Whether the tokenizer's post-processor adds BOS (HF tokenizer.json) or the format always does. */
    boolean addsBosByDefault();

    /** Whether {@code id} is a special/control token (BOS, EOS, header markers...). */
    default boolean isSpecial(int id) {
        return id == bosId() || stopIds().contains(id);
    }

    /** Id of a special token given its text (e.g. {@code "<|eot_id|>"}), or -1. */
    default int specialTokenId(String text) {
        return -1;
    }

    /** The model's own chat template (Jinja text from tokenizer_config.json or GGUF), or null. */
    default String chatTemplate() {
        return null;
    }
}
