#!/usr/bin/env python3
"""Independent check of a `finlora quantize` folder made from stories260K (llama2.c): reads
model.safetensors with a hand-written parser, dequantizes every bnb projection with the fact-sheet
formulas (NF4/FP4 tables, double quant, LLM.int8 CB*SCB/127) and compares with the f32 weights of the
.bin, q/k rows permuted to HF's half-split RoPE order. Usage: check_bnb_folder.py FOLDER stories260K.bin"""
import json, struct, sys
import numpy as np

NF4 = np.array([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                0.7229568362236023, 1.0], dtype=np.float32)
FP4_MAG = np.array([0, 0.0625, 8, 12, 4, 6, 2, 3], dtype=np.float32) / 12
FP4 = np.concatenate([FP4_MAG, -FP4_MAG]).astype(np.float32)
DT = {"F32": np.float32, "U8": np.uint8, "I8": np.int8, "BF16": np.uint16, "F16": np.float16}

def read_safetensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    hdr = json.loads(b[8:8 + n])
    base = 8 + n
    out = {}
    for k, v in hdr.items():
        if k == "__metadata__":
            continue
        s, e = v["data_offsets"]
        a = np.frombuffer(b[base + s:base + e], dtype=DT[v["dtype"]])
        if v["dtype"] == "BF16":
            a = (a.astype(np.uint32) << 16).view(np.float32)
        out[k] = a.reshape(v["shape"]) if v["shape"] else a
    return out

def read_llama2c(path):
    b = open(path, "rb").read()
    dim, hidden, L, H, KV, vocab, seq = struct.unpack("<7i", b[:28])
    f = np.frombuffer(b[28:], dtype=np.float32)
    hd, kvd, vocab = dim // H, dim // H * KV, abs(vocab)
    off = 0
    def take(*shape):
        nonlocal off
        n = int(np.prod(shape)); a = f[off:off + n].reshape(shape); off += n; return a
    take(vocab, dim); take(L, dim)
    w = {"q_proj": take(L, dim, dim), "k_proj": take(L, kvd, dim), "v_proj": take(L, kvd, dim), "o_proj": take(L, dim, dim)}
    take(L, dim)
    w["gate_proj"] = take(L, hidden, dim); w["down_proj"] = take(L, dim, hidden); w["up_proj"] = take(L, hidden, dim)
    return w, dict(L=L, H=H, KV=KV, hd=hd)

def half_split(w, heads, hd):
    out = np.empty_like(w)
    for h in range(heads):
        for i in range(hd // 2):
            for c in range(2):
                out[h * hd + c * hd // 2 + i] = w[h * hd + 2 * i + c]
    return out

def dequant4(t, name):
    (qs_key,) = [k for k in t if k.startswith(name + ".quant_state.bitsandbytes__")]
    st = json.loads(bytes(t[qs_key]).decode())
    table = NF4 if st["quant_type"] == "nf4" else FP4
    assert t[name + ".quant_map"].tolist() == table.tolist(), "quant_map differs from the fact-sheet table"
    rows, cols = st["shape"]; n = rows * cols; bs = st["blocksize"]
    packed = t[name].reshape(-1)
    codes = np.empty(packed.size * 2, dtype=np.uint8); codes[0::2] = packed >> 4; codes[1::2] = packed & 15
    codes = codes[:n]
    if "nested_offset" in st:
        nb = st["nested_blocksize"]; qa = t[name + ".absmax"]; dyn = t[name + ".nested_quant_map"]; a2 = t[name + ".nested_absmax"]
        absmax = dyn[qa] * a2[np.arange(qa.size) // nb] + np.float32(st["nested_offset"])
    else:
        absmax = t[name + ".absmax"]
    return (table[codes] * absmax[np.arange(n) // bs]).reshape(rows, cols), table, absmax, bs, codes

def main():
    t = read_safetensors(sys.argv[1] + "/model.safetensors")
    cfg = json.load(open(sys.argv[1] + "/config.json"))
    src, c = read_llama2c(sys.argv[2])
    qc = cfg["quantization_config"]
    assert qc["quant_method"] == "bitsandbytes"
    worst = 0.0
    for l in range(c["L"]):
        for mod, ref in src.items():
            w = ref[l]
            if mod == "q_proj": w = half_split(w, c["H"], c["hd"])
            if mod == "k_proj": w = half_split(w, c["KV"], c["hd"])
            name = "model.layers.%d.%s.%s.weight" % (l, "self_attn" if mod[0] in "qkvo" else "mlp", mod)
            if qc["load_in_4bit"]:
                deq, table, absmax, bs, codes = dequant4(t, name)
                # the true fp32 block absmax of the source; the stored (double-quantized) one must be close to it
                flat = w.reshape(-1); nblk = absmax.size
                true_a = np.array([np.abs(flat[b * bs:(b + 1) * bs]).max() for b in range(nblk)], dtype=np.float32)
                assert np.all(np.abs(absmax - true_a) <= 0.01 * true_a.max() + 1e-7), "%s: absmax differs from the source block max" % name
                # every code is the nearest table entry of w / absmax (ties within float noise excepted)
                xn = flat * (np.float32(1) / np.repeat(true_a, bs)[:flat.size])
                d = np.abs(xn[:, None] - table[None, :])
                want = np.argmin(d, axis=1)
                srt = np.sort(d, axis=1)
                tie = (srt[:, 1] - srt[:, 0]) < 1e-5
                bad = (table[codes] != table[want]) & ~tie
                assert not bad.any(), "%s: %d codes are not the nearest table entry" % (name, bad.sum())
                err = np.abs(deq - w)
            else:
                scb = t[name[:-len("weight")] + "SCB"]
                deq = t[name].astype(np.float32) * (scb[:, None] / 127)
                err = np.abs(deq - w)
                # LLM.int8 quantizes the fp16 copy of W (SCB is an fp16 row max): allow fp16 rounding on top of half a step
                assert np.all(err <= scb[:, None] / 254 * 1.0001 + np.abs(w) * 2.0 ** -10 + 1e-7), "%s: int8 off by more than half a step" % name
            worst = max(worst, float(np.sqrt(np.mean(err ** 2)) / np.sqrt(np.mean(w ** 2))))
    print("ok: %d projections match the source within the format's rounding; worst relative RMS error %.4f" % (7 * c["L"], worst))

main()
