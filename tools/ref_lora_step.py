"""LoRA / QLoRA training-step references on the tiny-llama3 fixture (run make_tiny_llama3.py first).

Usage: /usr/bin/python3 tools/ref_lora_step.py
Writes into finlora-core/src/test/resources/fixtures/:
  tiny-llama3-lora/adapter_config.json + adapter_model.safetensors   PEFT-layout adapter (A, B in F32)
  tiny-llama3-lora-step.safetensors    batch, labels, loss and every LoRA gradient (base = bf16 weights -> f32)
  tiny-llama3-qlora-step.safetensors   bnb nf4+double-quant state of the 14 projections, loss + gradients with the
                                       projections replaced by their dequantized values (f32 and bf16-rounded)
  nf4-quant-cases.safetensors          standalone quantizer case: odd-sized f32 input, codes, absmax, nested state
Everything f32: LoRA r=4, alpha=8 (scaling 2), dropout 0, on q,k,v,o,gate,up,down of both layers.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bnb_nf4 as nf4  # noqa: E402
import bpe_llama3 as bpe  # noqa: E402
import torch_llama as tl  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "finlora-core", "src", "test", "resources", "fixtures")
MODEL = os.path.join(FIX, "tiny-llama3")
R, ALPHA = 4, 8


def peft_name(layer, proj, ab):
    return "base_model.model.model.layers.%d.%s.%s.lora_%s.weight" % (layer, tl.proj_prefix(proj), proj, ab)


def load_tokenizer():
    tj = json.load(open(os.path.join(MODEL, "tokenizer.json"), encoding="utf-8"))
    merges = [tuple(m.split(" ")) for m in tj["model"]["merges"]]
    specials = {a["content"]: a["id"] for a in tj["added_tokens"]}
    return bpe.ByteLevelBPE(tj["model"]["vocab"], merges, specials), specials


def make_batch(tok, specials):
    """Two prompt/target rows, BOS + prompt + target + <|eot_id|>, right-padded with <|end_of_text|>.
    labels: -100 on prompt tokens and padding; the target tokens and the final <|eot_id|> are counted."""
    bos, eot, pad = specials["<|begin_of_text|>"], specials["<|eot_id|>"], specials["<|end_of_text|>"]
    rows = [("The dog ran. Answer: ", "happy"), ("Mia: ", "sad")]
    seqs, labs = [], []
    for prompt, target in rows:
        p = [bos] + tok.encode(prompt)
        t = tok.encode(target) + [eot]
        seqs.append(p + t)
        labs.append([-100] * len(p) + t)
    T = max(len(s) for s in seqs)
    ids = torch.full((2, T), pad, dtype=torch.int64)
    labels = torch.full((2, T), -100, dtype=torch.int64)
    mask = torch.zeros((2, T), dtype=torch.int64)
    for b, (s, lb) in enumerate(zip(seqs, labs)):
        ids[b, :len(s)] = torch.tensor(s)
        labels[b, :len(s)] = torch.tensor(lb)
        mask[b, :len(s)] = 1
    assert len(seqs[0]) != len(seqs[1])
    return ids, mask, labels, rows


def make_lora(cfg, gen):
    """A ~ U(-1/sqrt(in), 1/sqrt(in)) (PEFT's kaiming_uniform(a=sqrt 5) range), B ~ N(0, 0.05^2): seeded, nonzero."""
    adapters = {}
    dims = {"q_proj": (cfg.hidden_size, cfg.num_attention_heads * cfg.head_dim),
            "k_proj": (cfg.hidden_size, cfg.num_key_value_heads * cfg.head_dim),
            "v_proj": (cfg.hidden_size, cfg.num_key_value_heads * cfg.head_dim),
            "o_proj": (cfg.num_attention_heads * cfg.head_dim, cfg.hidden_size),
            "gate_proj": (cfg.hidden_size, cfg.intermediate_size),
            "up_proj": (cfg.hidden_size, cfg.intermediate_size),
            "down_proj": (cfg.intermediate_size, cfg.hidden_size)}
    for i in range(cfg.num_hidden_layers):
        for proj in tl.PROJ_NAMES:
            fan_in, fan_out = dims[proj]
            bound = 1.0 / fan_in ** 0.5
            a = (torch.rand(R, fan_in, generator=gen) * 2 - 1) * bound
            b = torch.randn(fan_out, R, generator=gen) * 0.05
            adapters["layers.%d.%s" % (i, proj)] = (a, b)
    return adapters


def loss_and_grads(weights, cfg, adapters, ids, mask, labels, dtype=torch.float32):
    leaves = {k: (a.clone().requires_grad_(True), b.clone().requires_grad_(True)) for k, (a, b) in adapters.items()}
    lora = tl.Lora(leaves, ALPHA / R)
    logits = tl.forward(weights, cfg, ids, attention_mask=mask, lora=lora, dtype=dtype)
    loss = tl.causal_lm_loss(logits, labels)
    loss.backward()
    grads = {}
    for k, (a, b) in leaves.items():
        _, i, proj = k.split(".")
        grads[peft_name(int(i), proj, "A")] = a.grad.detach().clone()
        grads[peft_name(int(i), proj, "B")] = b.grad.detach().clone()
    return loss.detach(), grads, logits.detach()


def nf4_cases():
    """Odd n (16665 = 3 x 5555 -> 261 blocks, the last with 25 items, 2 nested blocks), block 0 holds 1.0 (so
    1/absmax = 1 and xn = x exactly) plus every threshold, its float32 successor and predecessor (strict > ties)."""
    g = torch.Generator().manual_seed(4242)
    x = torch.randn(3, 5555, generator=g)
    flat = x.view(-1)
    t = nf4.NF4_THRESHOLDS
    special = torch.cat([torch.tensor([1.0]), t, torch.nextafter(t, torch.full_like(t, 2.0)),
                         torch.nextafter(t, torch.full_like(t, -2.0))])
    flat[:special.numel()] = special
    flat[special.numel():64] = flat[special.numel():64].clamp(-0.99, 0.99)
    codes, absmax = nf4.quantize_nf4(x)
    assert float(absmax[0]) == 1.0
    j = torch.arange(15)
    assert int(codes[0]) == 15
    assert torch.equal(codes[1:16].long(), j)  # xn == t[j] exactly -> lower code j
    assert torch.equal(codes[16:31].long(), j + 1)  # just above -> upper code
    assert torch.equal(codes[31:46].long(), j)  # just below -> lower code
    qa, absmax2, offset = nf4.double_quant(absmax)
    a_deq = nf4.dequant_absmax(qa, absmax2, offset)
    return {"x": x, "packed": nf4.pack_nibbles(codes), "codes": codes, "absmax": absmax,
            "absmax_q": qa, "nested_absmax": absmax2, "nested_offset": offset.reshape(1),
            "nested_quant_map": nf4.DYN.clone(), "quant_map": nf4.NF4.clone(),
            "absmax_dequant": a_deq,
            "dequant_nested": nf4.dequant_nf4(codes, a_deq, x.shape)}


def check_f64(w_bf16, cfg, adapters, ids, mask, labels, grads32):
    """Self-check: f64 autograd agrees with the f32 gradients and with central finite differences."""
    w64 = {k: v.to(torch.float64) for k, v in w_bf16.items()}
    ad64 = {k: (a.double(), b.double()) for k, (a, b) in adapters.items()}
    _, g64, _ = loss_and_grads(w64, cfg, ad64, ids, mask, labels, torch.float64)
    worst = max(float((g64[k] - grads32[k].double()).abs().max()) for k in g64)
    print("max |grad f32 - grad f64| = %.3g" % worst)
    assert worst < 1e-6
    eps = 1e-5
    for key, ab, idx in [("layers.0.q_proj", 0, (1, 3)), ("layers.1.down_proj", 1, (5, 2)),
                         ("layers.0.k_proj", 1, (7, 0)), ("layers.1.gate_proj", 0, (2, 10))]:
        def loss_at(delta):
            a, b = (t.clone() for t in ad64[key])
            (a if ab == 0 else b)[idx] += delta
            d = dict(ad64)
            d[key] = (a, b)
            lg = tl.forward(w64, cfg, ids, attention_mask=mask, lora=tl.Lora(d, ALPHA / R), dtype=torch.float64)
            return float(tl.causal_lm_loss(lg, labels))
        fd = (loss_at(eps) - loss_at(-eps)) / (2 * eps)
        _, i, proj = key.split(".")
        ag = float(g64[peft_name(int(i), proj, "AB"[ab])][idx])
        print("finite difference %s lora_%s%s: fd %.10f autograd %.10f" % (key, "AB"[ab], idx, fd, ag))
        assert abs(fd - ag) < 1e-7


def main():
    torch.set_num_threads(1)
    cfgd, wbf = tl.load_hf_folder(MODEL)
    cfg = tl.LlamaCfg.from_hf_config(cfgd)
    w = {k: v.to(torch.float32) for k, v in wbf.items()}
    tok, specials = load_tokenizer()
    ids, mask, labels, rows = make_batch(tok, specials)
    print("input_ids", ids.tolist())
    print("labels", labels.tolist())
    adapters = make_lora(cfg, torch.Generator().manual_seed(1234))

    # PEFT-layout adapter folder
    ad_dir = os.path.join(FIX, "tiny-llama3-lora")
    os.makedirs(ad_dir, exist_ok=True)
    ad = {}
    for k, (a, b) in adapters.items():
        _, i, proj = k.split(".")
        ad[peft_name(int(i), proj, "A")] = a
        ad[peft_name(int(i), proj, "B")] = b
    tl.save_safetensors(os.path.join(ad_dir, "adapter_model.safetensors"), ad, {"format": "pt"})
    adapter_config = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": "tiny-llama3", "bias": "none",
        "fan_in_fan_out": False, "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {}, "lora_alpha": ALPHA,
        "lora_dropout": 0.0, "megatron_config": None, "megatron_core": "megatron.core", "modules_to_save": None,
        "peft_type": "LORA", "r": R, "rank_pattern": {}, "revision": None,
        "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": False}
    with open(os.path.join(ad_dir, "adapter_config.json"), "w") as f:
        json.dump(adapter_config, f, indent=2, sort_keys=True)
        f.write("\n")

    # base variant
    loss, grads, logits = loss_and_grads(w, cfg, adapters, ids, mask, labels)
    print("loss (bf16 weights -> f32) = %.8f" % float(loss))
    nz = min(float(g.abs().max()) for g in grads.values())
    print("smallest max|grad| over tensors %.3e" % nz)
    assert nz > 0
    check_f64(wbf, cfg, adapters, ids, mask, labels, grads)
    n_counted = int((labels[:, 1:] != -100).sum())
    step = {"input_ids": ids, "attention_mask": mask, "labels": labels, "loss": loss.reshape(1),
            "n_counted": torch.tensor([n_counted], dtype=torch.int64),
            "logits_lora": logits.contiguous()}
    step.update(grads)
    tl.save_safetensors(os.path.join(FIX, "tiny-llama3-lora-step.safetensors"), step,
                        {"weights": "tiny-llama3 bf16 -> f32", "lora": "r=4 alpha=8 scaling=2 dropout=0",
                         "adapter": "tiny-llama3-lora/adapter_model.safetensors",
                         "loss": "HF ForCausalLMLoss: shift by one, ignore -100, mean over counted tokens",
                         "rows": json.dumps(rows)})

    # QLoRA variant: every projection replaced by its nf4 + double-quant dequantization
    q = {}
    w_f32dq = dict(w)
    w_bf16dq = dict(w)
    for i in range(cfg.num_hidden_layers):
        for proj in tl.PROJ_NAMES:
            prefix = "model.layers.%d.%s.%s" % (i, tl.proj_prefix(proj), proj)
            t, deq, deq_bf16, _ = nf4.quantize_module(wbf[prefix + ".weight"], prefix)
            q.update(t)
            w_f32dq[prefix + ".weight"] = deq
            w_bf16dq[prefix + ".weight"] = deq_bf16.to(torch.float32)
    out = dict(q)
    for tag, wv in (("f32dq", w_f32dq), ("bf16dq", w_bf16dq)):
        l2, g2, _ = loss_and_grads(wv, cfg, adapters, ids, mask, labels)
        print("loss (nf4 dequant, %s) = %.8f" % (tag, float(l2)))
        out["loss_" + tag] = l2.reshape(1)
        for k, v in g2.items():
            out[tag + "." + k] = v
    ex = "model.layers.0.self_attn.k_proj"
    out["dequant_f32." + ex + ".weight"] = w_f32dq[ex + ".weight"].contiguous()
    tl.save_safetensors(os.path.join(FIX, "tiny-llama3-qlora-step.safetensors"), out,
                        {"quant": "nf4 blocksize 64, double quant (nested blocksize 256, signed dynamic map)",
                         "batch": "same input_ids/labels/adapter as tiny-llama3-lora-step.safetensors",
                         "f32dq": "projection = NF4[q]*A' in f32",
                         "bf16dq": "projection = bf16(NF4[q]*A') upcast to f32 (what bnb hands to F.linear)"})

    cases = nf4_cases()
    tl.save_safetensors(os.path.join(FIX, "nf4-quant-cases.safetensors"),
                        {k: v.contiguous() for k, v in cases.items() if k not in ("codes", "dequant_plain")},
                        {"layout": "x f32 [3,5555] row-major; block 64 over the flattened tensor"})
    print("nf4 case: codes[0:46] =", cases["codes"][:46].tolist())
    print("nf4 case: nested offset %.9g absmax2 %s" % (float(cases["nested_offset"]), cases["nested_absmax"].tolist()))


if __name__ == "__main__":
    main()
