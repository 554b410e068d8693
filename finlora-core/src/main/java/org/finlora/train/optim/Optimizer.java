package org.finlora.train.optim;

import java.util.List;

/** An optimizer over a fixed list of f32 parameter tensors (bound at construction). */
public interface Optimizer {
    /** One update with the given gradients (same order and sizes as the parameters) and learning rate. */
    void step(List<float[]> grads, double lr);

    /** Bytes of optimizer state. */
    long stateBytes();

    /** Writes the state (moments, step counters) to a file for resuming; atomic. */
    void saveState(java.nio.file.Path file);

    /** Restores a state written by saveState for the same parameter shapes. */
    void loadState(java.nio.file.Path file);

    /** Steps taken so far. */
    long steps();

    /** Writes every state array and counter, so that readState continues bit for bit (checkpoints). */
    void writeState(java.io.DataOutputStream out) throws java.io.IOException;

    /** Restores what writeState wrote for the same parameter shapes. */
    void readState(java.io.DataInputStream in) throws java.io.IOException;
}
