package org.finlora.tokenizer;

import java.util.Set;

/** Text to token ids and back. Implementations: byte-level BPE (Llama 3), SentencePiece-style BPE (Llama 2, llama2.c). */
public interface Tokenizer {

    /** Encodes text; prepends BOS when {@code addBos} (callers pass {@link #addsBosByDefault()} for the tokenizer's own rule). */
    int[] encode(String text, boolean addBos);

    /** Decodes ids to text, as the reference tokenizer does (special tokens included verbatim unless they are BOS/EOS). */
    String decode(int[] ids);

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
}
