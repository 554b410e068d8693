package org.finlora;

/**
 * An error the user can cause (bad file, bad flag, missing field). Its message is one line that
 * names the file, field or offset and what was expected; the CLI prints it without a stack trace.
 */
public class FinloraException extends RuntimeException {
    public FinloraException(String message) {
        super(message);
    }

    public FinloraException(String message, Throwable cause) {
        super(message, cause);
    }
}
