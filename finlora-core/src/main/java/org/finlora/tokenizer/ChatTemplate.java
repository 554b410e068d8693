package org.finlora.tokenizer;

import org.finlora.FinloraException;

import java.util.List;

/**
 * Llama chat prompt formats, written out in code (no Jinja engine).
 * <ul>
 * <li>Llama 3 (llama-models models/llama3/chat_format.py; HF Llama 3 template): {@code <|begin_of_text|>}, then per
 * message {@code <|start_header_id|>role<|end_header_id|>\n\n} + stripped content + {@code <|eot_id|>}, then the
 * assistant header. Encode the result with {@link Tokenizer#encodeWithSpecials(String, boolean)} and addBos=false.</li>
 * <li>Llama 3.1 HF template: the same, but a system block always comes first and starts with
 * "Cutting Knowledge Date: December 2023\nToday Date: {date}\n\n".</li>
 * <li>Llama 2 (llama generation.py chat_completion): {@code [INST] <<SYS>>\n...\n<</SYS>>\n\n...}, each exchange
 * encoded separately with BOS/EOS.</li>
 * </ul>
 */
public final class ChatTemplate {
    /** One chat message; role is "system", "user", "assistant" (or "ipython"/"tool" for Llama 3). */
    public record Message(String role, String content) {
        public Message {
            if (role == null || content == null) throw new FinloraException("chat message needs a role and content");
        }
    }

    /** The date the HF Llama 3.1 template uses when none is given. */
    public static final String LLAMA31_DEFAULT_DATE = "26 Jul 2024";

    private ChatTemplate() {
    }

    /** Llama 3 format with the assistant header appended (ready for generation). */
    public static String llama3(List<Message> messages) {
        return llama3(messages, true);
    }

    public static String llama3(List<Message> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder("<|begin_of_text|>");
        for (Message m : messages) appendLlama3(sb, m.role(), pyStrip(m.content()));
        if (addGenerationPrompt) sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return sb.toString();
    }

    /**
     * The HF Llama 3.1 template without tools: a system block always, holding the knowledge-cutoff and
     * date lines followed by the (stripped) system message if the first message is a system one.
     */
    public static String llama31(List<Message> messages, String todayDate, boolean addGenerationPrompt) {
        String system = "";
        List<Message> rest = messages;
        if (!messages.isEmpty() && messages.get(0).role().equals("system")) {
            system = pyStrip(messages.get(0).content());
            rest = messages.subList(1, messages.size());
        }
        StringBuilder sb = new StringBuilder("<|begin_of_text|>");
        appendLlama3(sb, "system", "Cutting Knowledge Date: December 2023\nToday Date: " + todayDate + "\n\n" + system);
        for (Message m : rest) appendLlama3(sb, m.role(), pyStrip(m.content()));
        if (addGenerationPrompt) sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return sb.toString();
    }

    public static String llama31(List<Message> messages) {
        return llama31(messages, LLAMA31_DEFAULT_DATE, true);
    }

    private static void appendLlama3(StringBuilder sb, String role, String content) {
        sb.append("<|start_header_id|>").append(role).append("<|end_header_id|>\n\n").append(content).append("<|eot_id|>");
    }

    public static final String B_INST = "[INST]", E_INST = "[/INST]";
    public static final String B_SYS = "<<SYS>>\n", E_SYS = "\n<</SYS>>\n\n";

    /**
     * Llama 2 chat ids as Meta's reference builds them: an optional system message is folded into the
     * first user message; each (user, assistant) pair is {@code BOS "[INST] u [/INST] a " EOS}; the
     * final user message is {@code BOS "[INST] u [/INST]"}. Roles must alternate user/assistant and end with user.
     */
    public static int[] llama2(List<Message> messages, Tokenizer tokenizer) {
        List<Message> dialog = new java.util.ArrayList<>(messages);
        if (!dialog.isEmpty() && dialog.get(0).role().equals("system")) {
            if (dialog.size() < 2) throw new FinloraException("Llama 2 chat: a system message must be followed by a user message");
            Message sys = dialog.remove(0);
            Message first = dialog.remove(0);
            dialog.add(0, new Message(first.role(), B_SYS + sys.content() + E_SYS + first.content()));
        }
        for (int i = 0; i < dialog.size(); i++) {
            String want = i % 2 == 0 ? "user" : "assistant";
            if (!dialog.get(i).role().equals(want)) {
                throw new FinloraException("Llama 2 chat: message " + i + " has role " + dialog.get(i).role() + ", expected " + want);
            }
        }
        if (dialog.isEmpty() || dialog.size() % 2 == 0) throw new FinloraException("Llama 2 chat: the last message must be from the user");
        int eos = tokenizer.specialTokenId("</s>");
        if (eos < 0) throw new FinloraException("Llama 2 chat: the tokenizer has no </s> token");
        IntList out = new IntList();
        for (int i = 0; i + 1 < dialog.size(); i += 2) {
            String text = B_INST + " " + pyStrip(dialog.get(i).content()) + " " + E_INST + " "
                    + pyStrip(dialog.get(i + 1).content()) + " ";
            for (int id : tokenizer.encode(text, true)) out.add(id);
            out.add(eos);
        }
        String last = B_INST + " " + pyStrip(dialog.get(dialog.size() - 1).content()) + " " + E_INST;
        for (int id : tokenizer.encode(last, true)) out.add(id);
        return out.toArray();
    }

    /** Python str.strip(): removes leading and trailing whitespace as str.isspace() defines it (Jinja's trim). */
    static String pyStrip(String s) {
        int start = 0, end = s.length();
        while (start < end && ByteLevelBpeTokenizer.isPythonSpace(s.codePointAt(start))) start += Character.charCount(s.codePointAt(start));
        while (end > start && ByteLevelBpeTokenizer.isPythonSpace(s.codePointBefore(end))) end -= Character.charCount(s.codePointBefore(end));
        return s.substring(start, end);
    }
}
