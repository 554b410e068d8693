"""References on the real stories260K llama2.c model (read from the shared folder at run time, never copied).

Usage: /usr/bin/python3 tools/ref_stories260k.py [--shared /work/shared]
Writes into finlora-core/src/test/resources/fixtures/:
  stories260k-logits.safetensors   ids I64 [T], logits F32 [T,512]  (BOS + encode("Once upon a time"))
  stories260k-ppl.json             GPTQ-convention perplexity of tools/data/tinystories-sample.txt, ctx 128 and 64
  stories260k-greedy.json          tokenizer ids for 3 prompts + 30 greedy ids each, and the 20-id BOS self-check
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_llama as tl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "finlora-core", "src", "test", "resources", "fixtures")
README_GREEDY = [403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337]
PROMPTS = ["Once upon a time", "The little dog", "Lily and Tom went to the park"]


def token_nll(weights, cfg, window):
    """window: list of ids -> per-position NLL (float32) of predicting window[1:] from window[:-1]."""
    logits = tl.forward(weights, cfg, torch.tensor([window], dtype=torch.int64))[0]
    logp = torch.log_softmax(logits[:-1].to(torch.float32), dim=-1)
    tgt = torch.tensor(window[1:], dtype=torch.int64)
    return -logp.gather(1, tgt[:, None])[:, 0]


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    default_shared = os.path.join(os.path.dirname(ROOT), "shared")
    if not os.path.isdir(default_shared):
        default_shared = "/work/shared"
    ap.add_argument("--shared", default=default_shared)
    args = ap.parse_args()
    d = os.path.join(args.shared, "models", "stories260K")
    cfg, w, seq_len = tl.load_llama2c(os.path.join(d, "stories260K.bin"))
    tok = tl.Llama2cTokenizer(os.path.join(d, "tok512.bin"), cfg.vocab_size)
    torch.set_num_threads(1)

    # self-check against the README's golden greedy ids
    g = tl.greedy(w, cfg, [1], 20)
    print("greedy from BOS:", g)
    assert g == README_GREEDY, "reference does not reproduce the README greedy ids"

    # self-check: HF half-split RoPE on per-head permuted wq/wk == interleaved RoPE on Meta order
    hf_w = dict(w)
    hs = cfg.head_dim
    for i in range(cfg.num_hidden_layers):
        for proj, nh in (("q_proj", cfg.num_attention_heads), ("k_proj", cfg.num_key_value_heads)):
            k = "model.layers.%d.self_attn.%s.weight" % (i, proj)
            # Meta row h*hd + 2j + c  ->  HF row h*hd + c*hd/2 + j
            hf_w[k] = w[k].view(nh, hs // 2, 2, -1).transpose(1, 2).reshape(nh * hs, -1)
    hf_cfg = tl.LlamaCfg(**{**cfg.__dict__, "rope_style": "half"})
    probe = torch.tensor([[1, 403, 407, 261, 378, 432, 383, 286, 261, 376]], dtype=torch.int64)
    diff = (tl.forward(w, cfg, probe) - tl.forward(hf_w, hf_cfg, probe)).abs().max().item()
    print("interleaved vs permuted half-split RoPE max |dlogit| = %.3g" % diff)
    assert diff < 1e-4

    # (a) logits
    ids = tok.encode("Once upon a time", bos=True)
    print("ids('Once upon a time') =", ids)
    logits = tl.forward(w, cfg, torch.tensor([ids], dtype=torch.int64))[0]
    tl.save_safetensors(os.path.join(FIX, "stories260k-logits.safetensors"),
                        {"ids": torch.tensor(ids, dtype=torch.int64), "logits": logits.contiguous()},
                        {"text": "Once upon a time", "model": "stories260K.bin", "rope": "interleaved theta 1e4"})

    # (b) perplexity, GPTQ convention
    text = open(os.path.join(ROOT, "tools", "data", "tinystories-sample.txt"), encoding="utf-8").read()
    all_ids = tok.encode(text, bos=True, eos=False)
    n = len(all_ids)
    ppl = {"file": "tools/data/tinystories-sample.txt", "file_bytes": len(text.encode("utf-8")),
           "tokenization": "llama2.c run.c encode of the whole file once, BOS=1 prepended, no EOS",
           "n_tokens": n, "first_ids": all_ids[:16], "last_ids": all_ids[-8:], "results": []}
    for ctx in (128, 64):
        windows = n // ctx
        nll_sum = 0.0
        per_window = []
        for wi in range(windows):
            nll = token_nll(w, cfg, all_ids[wi * ctx:(wi + 1) * ctx])
            s = float(nll.to(torch.float64).sum())
            per_window.append(s)
            nll_sum += s
        count = windows * (ctx - 1)
        res = {"ctx": ctx, "windows": windows, "predicted_tokens": count, "nll_sum": nll_sum,
               "mean_nll": nll_sum / count, "ppl": math.exp(nll_sum / count), "window_nll_sums": per_window}
        print("ctx %d: n=%d windows=%d ppl=%.6f" % (ctx, n, windows, res["ppl"]))
        ppl["results"].append(res)
    write_json(os.path.join(FIX, "stories260k-ppl.json"), ppl)

    # (c) greedy continuations
    out = {"model": "stories260K.bin", "bos_greedy_20": g, "prompts": []}
    for p in PROMPTS:
        pids = tok.encode(p, bos=True)
        margins = []
        gen = tl.greedy(w, cfg, pids, 30, margins)
        text_out = b"".join(tok.decode_piece(a, b) for a, b in zip([pids[-1]] + gen[:-1], gen)).decode("utf-8", "replace")
        print(repr(p), pids, "->", gen, repr(text_out))
        out["prompts"].append({"prompt": p, "prompt_ids": pids, "greedy_ids": gen, "greedy_text": text_out,
                               "min_top2_logit_gap": min(margins)})
        print("   min top1-top2 logit gap %.4f" % min(margins))
    write_json(os.path.join(FIX, "stories260k-greedy.json"), out)


if __name__ == "__main__":
    main()
