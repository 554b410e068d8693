"""Self-contained PyTorch reference for the Llama forward pass plus the file formats around it.

Written from the formulas in /work/shared/research/qlora-facts.md (no transformers import):
  * RMSNorm: fp32 compute, cast to the input dtype, then multiply by the weight.
  * RoPE: HF half-split rotate_half (pairs (i, i+hd/2)) or Meta/llama2.c interleaved pairs (2i, 2i+1);
    inv_freq in fp32, optional llama3 scaling (_compute_llama3_parameters semantics).
  * GQA via repeat_kv, causal attention with softmax in fp32, SwiGLU MLP, tied or untied lm_head.
  * Optional LoRA on any of the seven projections: y = x W^T + s * (x A^T) B^T.
Also: a tiny safetensors reader/writer, a sharded HF folder reader, a llama2.c .bin reader and the
llama2.c tokenizer (run.c encode).

Weights are a dict keyed by HF names:
  model.embed_tokens.weight [V,D], model.layers.{i}.input_layernorm.weight [D],
  model.layers.{i}.self_attn.{q,k,v,o}_proj.weight [out,in], model.layers.{i}.post_attention_layernorm.weight,
  model.layers.{i}.mlp.{gate,up,down}_proj.weight, model.norm.weight, lm_head.weight (absent when tied).
Only /usr/bin/python3 with torch + numpy is needed.
"""
import json
import math
import os
import struct
from dataclasses import dataclass, field
from typing import Dict, Optional

import numpy as np
import torch

PROJ_NAMES = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def proj_prefix(name):
    return "self_attn" if name in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"


# ----------------------------------------------------------------------------------------------
# config

@dataclass
class LlamaCfg:
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    head_dim: int = 0
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    rope_scaling: Optional[dict] = None
    tie_word_embeddings: bool = False
    rope_style: str = "half"  # "half" = HF rotate_half; "interleaved" = Meta / llama2.c adjacent pairs

    def __post_init__(self):
        if not self.head_dim:
            self.head_dim = self.hidden_size // self.num_attention_heads

    @staticmethod
    def from_hf_config(d):
        return LlamaCfg(hidden_size=d["hidden_size"], intermediate_size=d["intermediate_size"],
                        num_hidden_layers=d["num_hidden_layers"], num_attention_heads=d["num_attention_heads"],
                        num_key_value_heads=d.get("num_key_value_heads", d["num_attention_heads"]),
                        vocab_size=d["vocab_size"], head_dim=d.get("head_dim") or 0,
                        rms_norm_eps=d.get("rms_norm_eps", 1e-6), rope_theta=d.get("rope_theta", 10000.0),
                        rope_scaling=d.get("rope_scaling"), tie_word_embeddings=d.get("tie_word_embeddings", False))


# ----------------------------------------------------------------------------------------------
# RoPE

def rope_inv_freq(cfg: LlamaCfg):
    """inv_freq[i] = 1/theta^(2i/d) computed in fp32 like HF (int64 arange -> float, then pow), plus llama3 scaling."""
    d = cfg.head_dim
    exponent = torch.arange(0, d, 2, dtype=torch.int64).to(torch.float32) / d
    inv_freq = 1.0 / (cfg.rope_theta ** exponent)
    rs = cfg.rope_scaling
    if rs is not None and rs.get("rope_type", rs.get("type")) == "llama3":
        inv_freq, _ = llama3_scale(inv_freq, rs)
    elif rs is not None:
        raise ValueError("unsupported rope_scaling " + str(rs))
    return inv_freq


def llama3_scale(inv_freq, rs):
    """_compute_llama3_parameters semantics. Returns (scaled inv_freq, branch per frequency: 0 kept, 1 smoothed, 2 divided)."""
    factor = rs["factor"]
    low_ff = rs["low_freq_factor"]
    high_ff = rs["high_freq_factor"]
    old_ctx = rs["original_max_position_embeddings"]
    low_wl = old_ctx / low_ff
    high_wl = old_ctx / high_ff
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wl, inv_freq / factor, inv_freq)
    smooth = (old_ctx / wavelen - low_ff) / (high_ff - low_ff)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    is_medium = (~(wavelen < high_wl)) & (~(wavelen > low_wl))
    scaled = torch.where(is_medium, smoothed, scaled)
    branch = torch.where(wavelen < high_wl, torch.zeros_like(inv_freq, dtype=torch.int64),
                         torch.where(wavelen > low_wl, torch.full_like(inv_freq, 2, dtype=torch.int64),
                                     torch.ones_like(inv_freq, dtype=torch.int64)))
    return scaled, branch


def rope_cos_sin(cfg, positions, dtype):
    """positions [B,T] int64 -> cos, sin [B,T,hd/2] (angles p*inv_freq in fp32, then cos/sin cast to dtype)."""
    inv_freq = rope_inv_freq(cfg)
    ang = positions.to(torch.float32)[:, :, None] * inv_freq[None, None, :]
    return ang.cos().to(dtype), ang.sin().to(dtype)


def apply_rope(x, cos, sin, style):
    """x [B,H,T,hd]; cos/sin [B,T,hd/2]."""
    c = cos[:, None, :, :]
    s = sin[:, None, :, :]
    if style == "half":
        h = x.shape[-1] // 2
        x1, x2 = x[..., :h], x[..., h:]
        cc = torch.cat([c, c], dim=-1)
        ss = torch.cat([s, s], dim=-1)
        rot = torch.cat([-x2, x1], dim=-1)  # rotate_half
        return x * cc + rot * ss
    if style == "interleaved":
        x0 = x[..., 0::2]
        x1 = x[..., 1::2]
        o0 = x0 * c - x1 * s
        o1 = x0 * s + x1 * c
        return torch.stack([o0, o1], dim=-1).flatten(-2)
    raise ValueError(style)


# ----------------------------------------------------------------------------------------------
# layers

def rms_norm(x, w, eps):
    dt = x.dtype
    h = x.to(torch.float64 if dt == torch.float64 else torch.float32)  # fp32 compute (f64 kept for checks)
    h = h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + eps)
    return w * h.to(dt)


def repeat_kv(x, n_rep):
    if n_rep == 1:
        return x
    b, hkv, t, d = x.shape
    return x[:, :, None, :, :].expand(b, hkv, n_rep, t, d).reshape(b, hkv * n_rep, t, d)


class Lora:
    """LoRA adapters: dict 'layers.{i}.{proj}' -> (A [r,in], B [out,r]) plus the scaling alpha/r."""

    def __init__(self, adapters: Dict[str, tuple], scaling: float):
        self.adapters = adapters
        self.scaling = scaling


def linear(x, weights, layer, proj, lora: Optional[Lora]):
    w = weights["model.layers.%d.%s.%s.weight" % (layer, proj_prefix(proj), proj)]
    y = x @ w.to(x.dtype).t()
    if lora is not None:
        key = "layers.%d.%s" % (layer, proj)
        if key in lora.adapters:
            a, b = lora.adapters[key]
            y = y + ((x.to(a.dtype) @ a.t()) @ b.t() * lora.scaling).to(y.dtype)
    return y


def forward(weights, cfg: LlamaCfg, ids, attention_mask=None, lora: Optional[Lora] = None, dtype=torch.float32,
            return_hidden=False):
    """ids [B,T] int64 -> logits [B,T,V] float32. attention_mask [B,T] (1 keep, 0 pad) masks keys only."""
    B, T = ids.shape
    H, Hkv, hd = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
    emb = weights["model.embed_tokens.weight"].to(dtype)
    x = emb[ids]
    positions = torch.arange(T, dtype=torch.int64)[None, :].expand(B, T)
    cos, sin = rope_cos_sin(cfg, positions, dtype)
    mask = torch.full((T, T), float("-inf"), dtype=torch.float32).triu(1)[None, None, :, :].expand(B, 1, T, T)
    if attention_mask is not None:
        keymask = torch.where(attention_mask[:, None, None, :] > 0, 0.0, float("-inf")).to(torch.float32)
        mask = mask + keymask
        # a fully masked row (a padded query) would give NaN; such rows are irrelevant, keep them finite
        mask = torch.where(torch.isinf(mask).all(-1, keepdim=True), torch.zeros_like(mask), mask)
    scale = hd ** -0.5
    for i in range(cfg.num_hidden_layers):
        p = "model.layers.%d." % i
        h = rms_norm(x, weights[p + "input_layernorm.weight"].to(dtype), cfg.rms_norm_eps)
        q = linear(h, weights, i, "q_proj", lora).view(B, T, H, hd).transpose(1, 2)
        k = linear(h, weights, i, "k_proj", lora).view(B, T, Hkv, hd).transpose(1, 2)
        v = linear(h, weights, i, "v_proj", lora).view(B, T, Hkv, hd).transpose(1, 2)
        q = apply_rope(q, cos, sin, cfg.rope_style)
        k = apply_rope(k, cos, sin, cfg.rope_style)
        k = repeat_kv(k, H // Hkv)
        v = repeat_kv(v, H // Hkv)
        att = (q @ k.transpose(2, 3)) * scale
        sm_dtype = torch.float64 if dtype == torch.float64 else torch.float32  # softmax in fp32 (f64 for checks)
        att = att.to(sm_dtype) + mask.to(sm_dtype)
        att = torch.softmax(att, dim=-1, dtype=sm_dtype).to(dtype)
        o = (att @ v).transpose(1, 2).reshape(B, T, H * hd)
        x = x + linear(o, weights, i, "o_proj", lora)
        h = rms_norm(x, weights[p + "post_attention_layernorm.weight"].to(dtype), cfg.rms_norm_eps)
        g = linear(h, weights, i, "gate_proj", lora)
        u = linear(h, weights, i, "up_proj", lora)
        x = x + linear(torch.nn.functional.silu(g) * u, weights, i, "down_proj", lora)
    x = rms_norm(x, weights["model.norm.weight"].to(dtype), cfg.rms_norm_eps)
    head = weights["model.embed_tokens.weight"] if cfg.tie_word_embeddings else weights["lm_head.weight"]
    logits = x @ head.to(dtype).t()
    if logits.dtype != torch.float64:  # HF upcasts logits to fp32; keep f64 for finite-difference checks
        logits = logits.to(torch.float32)
    return (logits, x) if return_hidden else logits


def causal_lm_loss(logits, labels):
    """HF ForCausalLMLoss: shift left by one, ignore -100, mean over counted tokens, fp32."""
    lg = logits[:, :-1, :].reshape(-1, logits.shape[-1])
    if lg.dtype != torch.float64:
        lg = lg.to(torch.float32)
    lb = labels[:, 1:].reshape(-1)
    return torch.nn.functional.cross_entropy(lg, lb, ignore_index=-100, reduction="mean")


def greedy(weights, cfg, ids, n, margins=None):
    """Greedy continuation by full recomputation (no KV cache; fine for tiny models). Returns new ids.
    If margins is a list, appends top1-top2 logit gap per step (how robust the argmax is)."""
    seq = list(ids)
    out = []
    for _ in range(n):
        logits = forward(weights, cfg, torch.tensor([seq], dtype=torch.int64))
        nxt = int(torch.argmax(logits[0, -1]).item())
        if margins is not None:
            top = torch.topk(logits[0, -1], 2).values
            margins.append(float(top[0] - top[1]))
        out.append(nxt)
        seq.append(nxt)
    return out


# ----------------------------------------------------------------------------------------------
# safetensors

ST_DTYPES = {  # name -> (torch dtype, bytes per element)
    "BOOL": (torch.bool, 1), "U8": (torch.uint8, 1), "I8": (torch.int8, 1), "I16": (torch.int16, 2),
    "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2), "I32": (torch.int32, 4), "F32": (torch.float32, 4),
    "F64": (torch.float64, 8), "I64": (torch.int64, 8),
}
TORCH_TO_ST = {v[0]: k for k, v in ST_DTYPES.items()}
# Rust safetensors Dtype declaration order; its writer sorts by dtype descending, then by name.
ST_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F8_E4M3FNUZ",
            "F8_E5M2FNUZ", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]


def tensor_bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_safetensors(path, tensors: Dict[str, torch.Tensor], metadata=None):
    """Writes like the Rust writer: __metadata__ first, compact JSON, header padded with spaces to a multiple of 8,
    tensors ordered by dtype descending then name. Written to a temp file and renamed."""
    names = sorted(tensors, key=lambda n: (-ST_ORDER.index(TORCH_TO_ST[tensors[n].dtype]), n))
    header = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    blobs = []
    off = 0
    for n in names:
        t = tensors[n]
        b = tensor_bytes(t)
        header[n] = {"dtype": TORCH_TO_ST[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)
    return off  # data bytes


def load_safetensors(path):
    """Returns (dict name -> torch tensor, metadata dict)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("%s: shorter than the 8-byte header length" % path)
    (n,) = struct.unpack("<Q", raw[:8])
    if n > 100_000_000 or 8 + n > len(raw):
        raise ValueError("%s: header length %d out of range" % (path, n))
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    out = {}
    spans = []
    for name, e in header.items():
        dt, size = ST_DTYPES[e["dtype"]]
        b, end = e["data_offsets"]
        numel = int(np.prod(e["shape"])) if e["shape"] else 1
        if end - b != numel * size or end > len(data):
            raise ValueError("%s: tensor %s has inconsistent data_offsets" % (path, name))
        spans.append((b, end))
        buf = bytearray(data[b:end])
        if dt == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16) if numel else torch.empty(0, dtype=dt)
        else:
            t = torch.frombuffer(buf, dtype=dt) if numel else torch.empty(0, dtype=dt)
        out[name] = t.reshape(e["shape"]).clone()
    spans.sort()
    pos = 0
    for b, end in spans:
        if b != pos:
            raise ValueError("%s: hole or overlap in the data buffer at %d" % (path, b))
        pos = end
    if pos != len(data):
        raise ValueError("%s: %d trailing bytes after the tensors" % (path, len(data) - pos))
    return out, meta


def load_hf_folder(folder):
    """config.json + model.safetensors or model.safetensors.index.json shards -> (cfg dict, tensors)."""
    with open(os.path.join(folder, "config.json")) as f:
        cfgd = json.load(f)
    idx = os.path.join(folder, "model.safetensors.index.json")
    tensors = {}
    if os.path.exists(idx):
        with open(idx) as f:
            wm = json.load(f)["weight_map"]
        for shard in sorted(set(wm.values())):
            t, _ = load_safetensors(os.path.join(folder, shard))
            tensors.update(t)
        missing = set(wm) - set(tensors)
        if missing:
            raise ValueError("index names tensors not in shards: %s" % sorted(missing)[:5])
    else:
        tensors, _ = load_safetensors(os.path.join(folder, "model.safetensors"))
    return cfgd, tensors


# ----------------------------------------------------------------------------------------------
# llama2.c

def load_llama2c(path):
    """llama2.c legacy v0 .bin -> (LlamaCfg with interleaved RoPE theta 1e4, HF-named f32 weights, seq_len).
    Weights keep Meta's interleaved q/k row order (no HF permutation)."""
    raw = open(path, "rb").read()
    dim, hidden, nl, nh, nkv, vocab, seq_len = struct.unpack("<7i", raw[:28])
    shared = vocab > 0
    vocab = abs(vocab)
    f = np.frombuffer(raw, dtype="<f4", offset=28)
    hs = dim // nh
    pos = 0

    def take(*shape):
        nonlocal pos
        n = int(np.prod(shape))
        a = torch.from_numpy(f[pos:pos + n].copy()).reshape(shape)
        pos += n
        return a

    w = {"model.embed_tokens.weight": take(vocab, dim)}
    att = take(nl, dim)
    wq = take(nl, nh * hs, dim)
    wk = take(nl, nkv * hs, dim)
    wv = take(nl, nkv * hs, dim)
    wo = take(nl, dim, nh * hs)
    ffn = take(nl, dim)
    w1 = take(nl, hidden, dim)
    w2 = take(nl, dim, hidden)
    w3 = take(nl, hidden, dim)
    w["model.norm.weight"] = take(dim)
    pos += seq_len * hs // 2 * 2  # legacy freq_cis_real / freq_cis_imag
    if not shared:
        w["lm_head.weight"] = take(vocab, dim)
    if pos != f.size:
        raise ValueError("%s: %d floats left over" % (path, f.size - pos))
    for i in range(nl):
        p = "model.layers.%d." % i
        w[p + "input_layernorm.weight"] = att[i]
        w[p + "self_attn.q_proj.weight"] = wq[i]
        w[p + "self_attn.k_proj.weight"] = wk[i]
        w[p + "self_attn.v_proj.weight"] = wv[i]
        w[p + "self_attn.o_proj.weight"] = wo[i]
        w[p + "post_attention_layernorm.weight"] = ffn[i]
        w[p + "mlp.gate_proj.weight"] = w1[i]
        w[p + "mlp.down_proj.weight"] = w2[i]
        w[p + "mlp.up_proj.weight"] = w3[i]
    cfg = LlamaCfg(hidden_size=dim, intermediate_size=hidden, num_hidden_layers=nl, num_attention_heads=nh,
                   num_key_value_heads=nkv, vocab_size=vocab, rms_norm_eps=1e-5, rope_theta=10000.0,
                   tie_word_embeddings=shared, rope_style="interleaved")
    return cfg, w, seq_len


class Llama2cTokenizer:
    """llama2.c tokenizer.bin + run.c's encode (BOS, dummy-prefix " ", per-codepoint lookup with byte+3
    fallback, then repeatedly merge the adjacent pair whose concatenation has the highest score)."""

    def __init__(self, path, vocab_size):
        raw = open(path, "rb").read()
        (self.max_token_length,) = struct.unpack("<i", raw[:4])
        pos = 4
        self.vocab = []
        self.scores = []
        for _ in range(vocab_size):
            score, n = struct.unpack("<fi", raw[pos:pos + 8])
            pos += 8
            self.vocab.append(raw[pos:pos + n])
            self.scores.append(score)
            pos += n
        self.lookup = {}
        for i, v in enumerate(self.vocab):
            self.lookup.setdefault(v, i)

    def encode(self, text: str, bos=True, eos=False):
        data = text.encode("utf-8")
        toks = []
        if bos:
            toks.append(1)
        if data:
            toks.append(self.lookup[b" "])
        i = 0
        while i < len(data):
            j = i + 1
            while j < len(data) and (data[j] & 0xC0) == 0x80 and j - i < 4:
                j += 1
            cp = data[i:j]
            if cp in self.lookup:
                toks.append(self.lookup[cp])
            else:
                toks.extend(b + 3 for b in cp)
            i = j
        while True:
            best_score, best_id, best_idx = -1e10, -1, -1
            for k in range(len(toks) - 1):
                tid = self.lookup.get(self.vocab[toks[k]] + self.vocab[toks[k + 1]], -1)
                if tid != -1 and self.scores[tid] > best_score:
                    best_score, best_id, best_idx = self.scores[tid], tid, k
            if best_idx == -1:
                break
            toks[best_idx] = best_id
            del toks[best_idx + 1]
        if eos:
            toks.append(2)
        return toks

    def decode_piece(self, prev, tok):
        s = self.vocab[tok]
        if prev == 1 and s.startswith(b" "):
            s = s[1:]
        if len(s) == 6 and s.startswith(b"<0x") and s.endswith(b">"):
            s = bytes([int(s[3:5], 16)])
        return s
