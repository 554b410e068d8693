package org.finlora.eval;

/**
 * Turns a generation into the answer FinLoRA scores: the text after the <b>last</b> "Answer:",
 * stripped of whitespace as Python's {@code str.strip()} does.
 *
 * <p>FinLoRA decodes prompt+generation and takes {@code text.split("Answer:")[-1].strip()}. Every
 * FinLoRA prompt we score ends with "Answer:" or "Answer: ", so that equals taking the generation
 * after its own last "Answer:" (or all of it). We work on the generation alone; the one deliberate
 * difference: for a prompt without any "Answer:" (FinLoRA's FiNER prompts end "Output US GAAP
 * tags:") FinLoRA would score the whole decoded prompt, we score only the generation.
 */
public final class AnswerExtractor {
    public static final String DELIMITER = "Answer:";

    private AnswerExtractor() {
    }

    public static String extract(String generated) {
        int at = generated.lastIndexOf(DELIMITER);
        String tail = at >= 0 ? generated.substring(at + DELIMITER.length()) : generated;
        return pythonStrip(tail);
    }

    /** Python's str.strip(): removes leading/trailing chars for which str.isspace() is true. */
    public static String pythonStrip(String s) {
        int start = 0, end = s.length();
        while (start < end && isPythonSpace(s.charAt(start))) start++;
        while (end > start && isPythonSpace(s.charAt(end - 1))) end--;
        return s.substring(start, end);
    }

    /** Python str.isspace() for one BMP char: general category Zs, or bidi class WS, B or S. */
    static boolean isPythonSpace(char c) {
        if (Character.getType(c) == Character.SPACE_SEPARATOR) return true;
        byte bidi = Character.getDirectionality(c);
        return bidi == Character.DIRECTIONALITY_WHITESPACE
                || bidi == Character.DIRECTIONALITY_PARAGRAPH_SEPARATOR
                || bidi == Character.DIRECTIONALITY_SEGMENT_SEPARATOR;
    }
}
