package org.finlora;

/**
 * An error the user can cause (bad file, bad flag, missing field). Its message is one line that
 * names the file, field or offset and what was expected; the CLI prints it without a stack trace.
 */
public class FinloraException extends RuntimeException {
    public FinloraException(String message) {
        super(oneLine(message));
    }

    public FinloraException(String message, Throwable cause) {
        super(oneLine(message), cause);
    }

    /** Line breaks from a library's message (or a file's content) would break the one-line contract. */
    static String oneLine(String s) {
        if (s == null || (s.indexOf('\n') < 0 && s.indexOf('\r') < 0)) return s;
        return s.replace("\r\n", " ").replace('\n', ' ').replace('\r', ' ');
    }
}
