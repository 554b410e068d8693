"""PyTorch CPU LoRA training-step benchmark (the yardstick for the Java trainer).

fp32 frozen base with synthetic random weights, LoRA r (default 8, alpha 16, dropout 0) on all seven projections,
HF-style forward (torch_llama.forward: RMSNorm, RoPE half-split + llama3 scaling, GQA, SwiGLU), HF loss on every
token, backward into the LoRA weights only, then one torch.optim.AdamW step. No gradient checkpointing.
Default shapes are Llama-3.2-1B (hidden 2048, 16 layers, 32/8 heads, head_dim 64, intermediate 8192,
vocab 128256, tied embeddings): about 5 GB of fp32 weights.

Usage: /usr/bin/python3 tools/bench_torch_lora.py [--seq 128] [--batch 1] [--threads 2] [--layers 16]
                                                  [--warmup 1] [--steps 2] [--rank 8] [--vocab 128256]
Prints per-step seconds, tokens/s (batch*seq / mean timed step), the process CPU seconds of each step (all
threads; on a shared machine CPU-seconds per token is steadier than wall time) and peak RSS (getrusage ru_maxrss).
"""
import argparse
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_llama as tl  # noqa: E402


def rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--hidden", type=int, default=2048)
    ap.add_argument("--intermediate", type=int, default=8192)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--kv-heads", type=int, default=8)
    ap.add_argument("--vocab", type=int, default=128256)
    ap.add_argument("--rank", type=int, default=8)
    ap.add_argument("--alpha", type=float, default=16.0)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    cfg = tl.LlamaCfg(hidden_size=args.hidden, intermediate_size=args.intermediate, num_hidden_layers=args.layers,
                      num_attention_heads=args.heads, num_key_value_heads=args.kv_heads, vocab_size=args.vocab,
                      rms_norm_eps=1e-5, rope_theta=500000.0,
                      rope_scaling={"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0,
                                    "high_freq_factor": 4.0, "original_max_position_embeddings": 8192},
                      tie_word_embeddings=True)
    D, F, hd = cfg.hidden_size, cfg.intermediate_size, cfg.head_dim
    shapes = {"q_proj": (cfg.num_attention_heads * hd, D), "k_proj": (cfg.num_key_value_heads * hd, D),
              "v_proj": (cfg.num_key_value_heads * hd, D), "o_proj": (D, cfg.num_attention_heads * hd),
              "gate_proj": (F, D), "up_proj": (F, D), "down_proj": (D, F)}
    t0 = time.time()
    w = {"model.embed_tokens.weight": torch.empty(cfg.vocab_size, D).normal_(0, 0.02),
         "model.norm.weight": torch.ones(D)}
    lora = {}
    for i in range(cfg.num_hidden_layers):
        p = "model.layers.%d." % i
        w[p + "input_layernorm.weight"] = torch.ones(D)
        w[p + "post_attention_layernorm.weight"] = torch.ones(D)
        for proj, (o, n) in shapes.items():
            w[p + "%s.%s.weight" % (tl.proj_prefix(proj), proj)] = torch.empty(o, n).uniform_(-n ** -0.5, n ** -0.5)
            a = torch.empty(args.rank, n).uniform_(-n ** -0.5, n ** -0.5).requires_grad_(True)
            b = torch.zeros(o, args.rank).requires_grad_(True)
            lora["layers.%d.%s" % (i, proj)] = (a, b)
    n_base = sum(t.numel() for t in w.values())
    n_lora = sum(a.numel() + b.numel() for a, b in lora.values())
    print("config: layers %d hidden %d inter %d heads %d/%d vocab %d | seq %d batch %d threads %d rank %d" % (
        cfg.num_hidden_layers, D, F, cfg.num_attention_heads, cfg.num_key_value_heads, cfg.vocab_size,
        args.seq, args.batch, args.threads, args.rank))
    print("base params %.1fM (fp32 %.2f GB), lora params %.2fM; init %.1fs" % (
        n_base / 1e6, n_base * 4 / 1e9, n_lora / 1e6, time.time() - t0))
    opt = torch.optim.AdamW([t for ab in lora.values() for t in ab], lr=1e-4, weight_decay=0.0)
    L = tl.Lora(lora, args.alpha / args.rank)
    gen = torch.Generator().manual_seed(1)
    ids = torch.randint(0, cfg.vocab_size, (args.batch, args.seq), generator=gen)
    times, cpus = [], []
    for step in range(args.warmup + args.steps):
        t = time.time()
        c = time.process_time()
        logits = tl.forward(w, cfg, ids, lora=L)
        loss = tl.causal_lm_loss(logits, ids)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        dt = time.time() - t
        dc = time.process_time() - c
        kind = "warmup" if step < args.warmup else "timed"
        print("step %d (%s): loss %.4f  %.2fs  %.1f tok/s  %.1f CPU-s (%.2f cores busy)  peak RSS %.0f MiB" % (
            step, kind, float(loss), dt, args.batch * args.seq / dt, dc, dc / dt, rss_mib()))
        if step >= args.warmup:
            times.append(dt)
            cpus.append(dc)
        del logits, loss
    mean = sum(times) / len(times)
    cpu = sum(cpus) / len(cpus)
    print("RESULT tokens/s %.1f (mean of %d timed steps, %.2fs/step, %.1f CPU-s/step = %.2f cores busy), peak RSS %.0f MiB" % (
        args.batch * args.seq / mean, len(times), mean, cpu, cpu / mean, rss_mib()))


if __name__ == "__main__":
    main()
