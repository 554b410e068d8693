"""Writes a tiny random Llama-3-style HF model folder plus reference logits.

Usage: /usr/bin/python3 tools/make_tiny_llama3.py
Output: finlora-core/src/test/resources/fixtures/tiny-llama3/ (config.json, generation_config.json,
  model-0000{1,2}-of-00002.safetensors (BF16), model.safetensors.index.json, tokenizer.json,
  tokenizer_config.json, special_tokens_map.json) and fixtures/tiny-llama3-ref.safetensors (ids + logits),
  fixtures/tiny-llama3-tokenizer.json (encode cases). Seeded; rerunning gives identical bytes.
Reference math: bf16 weights upcast to f32, all activations f32 (torch_llama.forward, dtype float32).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe_llama3 as bpe  # noqa: E402
import torch_llama as tl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "finlora-core", "src", "test", "resources", "fixtures")
OUT = os.path.join(FIX, "tiny-llama3")

N_BPE = 297  # 256 byte tokens + 41 merges
SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"]
BOS, EOS_TEXT, EOT = N_BPE, N_BPE + 1, N_BPE + 2

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "attention_bias": False,
    "attention_dropout": 0.0,
    "bos_token_id": BOS,
    "eos_token_id": [EOS_TEXT, EOT],
    "head_dim": 16,
    "hidden_act": "silu",
    "hidden_size": 64,
    "initializer_range": 0.02,
    "intermediate_size": 160,
    "max_position_embeddings": 8192,
    "mlp_bias": False,
    "model_type": "llama",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "num_key_value_heads": 2,
    "pretraining_tp": 1,
    "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 1024, "rope_type": "llama3"},
    "rope_theta": 500000.0,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "transformers_version": "4.46.0",
    "use_cache": True,
    "vocab_size": N_BPE + len(SPECIALS),
}

ENCODE_CASES = [
    "Once upon a time, there was a little dog named Pip.",
    "Hello world! It's 2024, and we'll see 1234567 things.",
    "  two  spaces\n\nnew lines\tand a tab  ",
    "naïve café — ünïcödé 😀 日本",
    "Sam's KITE flew up, UP, up!\r\n",
    "Hi<|eot_id|>there<|end_of_text|>",
]


def write_json(path, obj, **kw):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, **kw)
        f.write("\n")
    os.replace(tmp, path)


def make_weights(cfg: tl.LlamaCfg, gen):
    """Random weights with O(1) activations: linears N(0,1/in), embeddings N(0,1), norms 1+0.1·N(0,1)."""
    def lin(o, i):
        return torch.randn(o, i, generator=gen) / (i ** 0.5)

    D, F, hd = cfg.hidden_size, cfg.intermediate_size, cfg.head_dim
    w = {"model.embed_tokens.weight": torch.randn(cfg.vocab_size, D, generator=gen)}
    for i in range(cfg.num_hidden_layers):
        p = "model.layers.%d." % i
        w[p + "input_layernorm.weight"] = 1 + 0.1 * torch.randn(D, generator=gen)
        w[p + "self_attn.q_proj.weight"] = lin(cfg.num_attention_heads * hd, D)
        w[p + "self_attn.k_proj.weight"] = lin(cfg.num_key_value_heads * hd, D)
        w[p + "self_attn.v_proj.weight"] = lin(cfg.num_key_value_heads * hd, D)
        w[p + "self_attn.o_proj.weight"] = lin(D, cfg.num_attention_heads * hd)
        w[p + "post_attention_layernorm.weight"] = 1 + 0.1 * torch.randn(D, generator=gen)
        w[p + "mlp.gate_proj.weight"] = lin(F, D)
        w[p + "mlp.up_proj.weight"] = lin(F, D)
        w[p + "mlp.down_proj.weight"] = lin(D, F)
    w["model.norm.weight"] = 1 + 0.1 * torch.randn(D, generator=gen)
    w["lm_head.weight"] = lin(cfg.vocab_size, D)
    return {k: v.to(torch.bfloat16) for k, v in w.items()}


def tokenizer_files(text):
    merges = bpe.train_bpe(text, N_BPE - 256)
    vocab = {}
    for b in bpe.BYTE_ORDER:
        vocab[bpe.BYTE_TO_CHAR[b]] = len(vocab)
    for a, b in merges:
        vocab[a + b] = len(vocab)
    assert len(vocab) == N_BPE, len(vocab)
    specials = {s: N_BPE + k for k, s in enumerate(SPECIALS)}
    added = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for s, i in specials.items()]
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": bpe.LLAMA3_PATTERN}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
        "post_processor": {"type": "Sequence", "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                        {"Sequence": {"id": "A", "type_id": 0}}],
             "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                      {"Sequence": {"id": "A", "type_id": 0}},
                      {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}},
                      {"Sequence": {"id": "B", "type_id": 1}}],
             "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [BOS],
                                                      "tokens": ["<|begin_of_text|>"]}}}]},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": True,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }
    chat_template = ("{{ bos_token }}{% for message in messages %}"
                     "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim"
                     " + '<|eot_id|>' }}{% endfor %}")
    tcfg = {
        "added_tokens_decoder": {str(i): {"content": s, "lstrip": False, "normalized": False, "rstrip": False,
                                          "single_word": False, "special": True} for s, i in specials.items()},
        "bos_token": "<|begin_of_text|>",
        "chat_template": chat_template,
        "clean_up_tokenization_spaces": True,
        "eos_token": "<|end_of_text|>",
        "model_input_names": ["input_ids", "attention_mask"],
        "model_max_length": 8192,
        "tokenizer_class": "PreTrainedTokenizerFast",
    }
    stm = {"bos_token": {"content": "<|begin_of_text|>", "lstrip": False, "normalized": False, "rstrip": False,
                         "single_word": False},
           "eos_token": {"content": "<|end_of_text|>", "lstrip": False, "normalized": False, "rstrip": False,
                         "single_word": False}}
    return tok, tcfg, stm, bpe.ByteLevelBPE(vocab, merges, specials)


def main():
    os.makedirs(OUT, exist_ok=True)
    cfg = tl.LlamaCfg.from_hf_config(CONFIG)

    # RoPE branch check: all three llama3 branches must occur for head_dim 16
    d = cfg.head_dim
    raw = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.int64).to(torch.float32) / d))
    scaled, branch = tl.llama3_scale(raw, cfg.rope_scaling)
    names = ["kept", "smoothed", "divided"]
    for i in range(d // 2):
        print("rope i=%d inv_freq=%.9g wavelen=%.2f -> %s %.9g" % (i, raw[i], 2 * 3.141592653589793 / raw[i],
                                                                   names[branch[i]], scaled[i]))
    counts = [int((branch == k).sum()) for k in range(3)]
    print("branches kept/smoothed/divided:", counts)
    assert all(c > 0 for c in counts), "not all three llama3 rope branches occur"

    gen = torch.Generator().manual_seed(20261123)
    w = make_weights(cfg, gen)

    # shards: embeddings + layer 0 in shard 1; layer 1 + final norm + lm_head in shard 2
    shard_names = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    parts = [{}, {}]
    for k, v in w.items():
        parts[0 if (k.startswith("model.embed_tokens") or k.startswith("model.layers.0.")) else 1][k] = v
    total = 0
    weight_map = {}
    for sn, part in zip(shard_names, parts):
        total += tl.save_safetensors(os.path.join(OUT, sn), part, {"format": "pt"})
        for k in part:
            weight_map[k] = sn
    write_json(os.path.join(OUT, "model.safetensors.index.json"),
               {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=2)
    write_json(os.path.join(OUT, "config.json"), CONFIG, indent=2, sort_keys=True)
    write_json(os.path.join(OUT, "generation_config.json"),
               {"bos_token_id": BOS, "do_sample": True, "eos_token_id": [EOS_TEXT, EOT], "temperature": 0.6,
                "top_p": 0.9, "transformers_version": "4.46.0"}, indent=2)

    text = open(os.path.join(ROOT, "tools", "data", "tinystories-sample.txt"), encoding="utf-8").read()
    tok, tcfg, stm, bpe_tok = tokenizer_files(text)
    write_json(os.path.join(OUT, "tokenizer.json"), tok, indent=2, ensure_ascii=False)
    write_json(os.path.join(OUT, "tokenizer_config.json"), tcfg, indent=2, ensure_ascii=False)
    write_json(os.path.join(OUT, "special_tokens_map.json"), stm, indent=2)

    # round trip through our own reader
    cfgd, w2 = tl.load_hf_folder(OUT)
    assert set(w2) == set(w) and all(torch.equal(w2[k].view(torch.int16), w[k].view(torch.int16)) for k in w)

    # tokenizer cases
    cases = []
    for s in ENCODE_CASES:
        ids = bpe_tok.encode(s)
        assert bpe_tok.decode(ids) == s
        cases.append({"text": s, "pieces": bpe.split_llama3(s) if "<|" not in s else None,
                      "ids": ids, "ids_with_bos": [BOS] + ids})
        print(repr(s), ids)
    write_json(os.path.join(FIX, "tiny-llama3-tokenizer.json"),
               {"tokenizer": "tiny-llama3/tokenizer.json", "bos_id": BOS,
                "note": "ids = HF encode(text, add_special_tokens=False) (special-token strings in the text are "
                        "matched as added tokens); ids_with_bos = encode(text) with the post-processor's BOS; "
                        "pieces = Llama 3 split regex output (null when the text holds special tokens)",
                "cases": cases}, indent=1, ensure_ascii=False)

    # reference logits: bf16 weights -> f32, f32 activations
    wf = {k: v.to(torch.float32) for k, v in w.items()}
    g2 = torch.Generator().manual_seed(7)
    seqs = [[BOS] + bpe_tok.encode("Once upon a time, there was a little dog")[:11],
            torch.randint(0, N_BPE, (12,), generator=g2).tolist(),
            [BOS] + torch.randint(0, CONFIG["vocab_size"], (6,), generator=g2).tolist()]
    ref = {"rope_inv_freq": scaled.to(torch.float32), "rope_inv_freq_unscaled": raw.to(torch.float32),
           "rope_branch": branch.to(torch.int32)}
    for k, s in enumerate(seqs):
        logits = tl.forward(wf, cfg, torch.tensor([s], dtype=torch.int64))[0]
        ref["ids_%d" % k] = torch.tensor(s, dtype=torch.int64)
        ref["logits_%d" % k] = logits.contiguous()
        print("seq %d len %d: %s argmax %s" % (k, len(s), s, logits.argmax(-1).tolist()))
    tl.save_safetensors(os.path.join(FIX, "tiny-llama3-ref.safetensors"), ref,
                        {"weights": "tiny-llama3 bf16 upcast to f32", "activations": "f32"})


if __name__ == "__main__":
    main()
