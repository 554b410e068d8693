package org.finlora.kernel;

import com.fasterxml.jackson.databind.JsonNode;
import org.finlora.tensor.Tensor;

import java.util.Map;

/**
 * A checkpoint's tensors as the weight formats read them: the tensors by name, the folder's
 * quantization_config (bitsandbytes options; null when absent), and where they came from, for messages.
 */
public record StoredWeights(String source, Map<String, Tensor> tensors, JsonNode quantizationConfig) {
    public Tensor tensor(String name) {
        return tensors.get(name);
    }
}
