package org.finlora.lora;

import org.finlora.FinloraException;
import org.finlora.model.LlamaWeights;

import java.util.List;

/**
 * A LoRA adapter's hyper-parameters (PEFT LoraConfig subset).
 *
 * @param rank            r
 * @param alpha           lora_alpha
 * @param dropout         lora_dropout, applied to the LoRA input only
 * @param targetModules   HF module names among q_proj ... down_proj
 * @param useRslora       scale alpha/√r instead of alpha/r
 * @param useDora         weight-decomposed LoRA (PEFT use_dora)
 * @param init            "default" (A kaiming-uniform, B = 0, PEFT init_lora_weights=true) or "gaussian" (A ~ N(0, 1/r))
 * @param baseModel       base_model_name_or_path written to adapter_config.json (may be null)
 */
public record LoraConfig(int rank, float alpha, float dropout, List<String> targetModules,
                         boolean useRslora, boolean useDora, String init, String baseModel) {

    public static final List<String> ALL_TARGETS = List.of(LlamaWeights.LINEAR_NAMES);

    public LoraConfig {
        if (rank <= 0) throw new FinloraException("LoRA rank must be positive, got " + rank);
        if (!(dropout >= 0f && dropout < 1f)) throw new FinloraException("LoRA dropout must be in [0, 1), got " + dropout);
        if (targetModules == null || targetModules.isEmpty()) throw new FinloraException("LoRA target_modules is empty");
        for (String m : targetModules) {
            if (!ALL_TARGETS.contains(m)) {
                throw new FinloraException("LoRA target module '" + m + "' is not one of " + ALL_TARGETS);
            }
        }
        targetModules = List.copyOf(targetModules);
        if (init == null) init = "default";
        if (!init.equals("default") && !init.equals("gaussian")) {
            throw new FinloraException("LoRA init '" + init + "' is not one of [default, gaussian]");
        }
    }

    /** r, alpha, dropout, all seven Llama projections, plain LoRA. */
    public static LoraConfig of(int rank, float alpha, float dropout) {
        return new LoraConfig(rank, alpha, dropout, ALL_TARGETS, false, false, "default", null);
    }

    public LoraConfig withTargets(List<String> targets) {
        return new LoraConfig(rank, alpha, dropout, targets, useRslora, useDora, init, baseModel);
    }

    /** s = alpha/r, or alpha/√r with rsLoRA (PEFT computes it in double, then uses it as a float factor). */
    public float scale() {
        return (float) (useRslora ? alpha / Math.sqrt(rank) : (double) alpha / rank);
    }

    public boolean targets(String module) {
        return targetModules.contains(module);
    }
}
