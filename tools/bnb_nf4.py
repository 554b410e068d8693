"""bitsandbytes NF4 + double quantization, re-implemented in torch from the fact sheet (§1, §3, §4b).

Conventions (all float32):
  * blocks of `blocksize` over the flattened row-major tensor; the last block may be partial (absmax over its valid items)
  * absmax = max|x| per block; xn = x * (1/absmax) (reciprocal, then multiply)
  * code = number of NF4 thresholds t with xn > t (strict: an exact tie goes to the lower code)
  * packing: byte k = code[2k] << 4 | code[2k+1] (first element in the high nibble); odd n padded with code 7;
    shape [(n+1)//2, 1] uint8
  * double quant: offset = torch.mean(absmax); quantize_blockwise(absmax - offset) with blocksize 256 and the signed
    dynamic map: absmax2 = max|.| per 256-block, xn = v * (1/absmax2), nearest code (midpoint rule, tie -> lower)
  * dequant: A' = dyn[qA] * absmax2[i//256] + offset (two roundings, no FMA); w = NF4[q] * A'[i//64] (f32),
    then optionally cast to bf16 (bnb casts to quant_state.dtype).
  * absmax == 0 is not handled here (CUDA and the CPU backend disagree); inputs are chosen to avoid it.
"""
import json

import torch

NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0], dtype=torch.float32)
NF4_THRESHOLDS = torch.tensor([-0.8480964, -0.6106329, -0.45999527, -0.33967942, -0.2346074, -0.13791174,
                               -0.045525018, 0.03979015, 0.12025525, 0.20352125, 0.29201376, 0.38931254,
                               0.50166345, 0.6427869, 0.86147845], dtype=torch.float32)
# the listed thresholds are the float32 midpoints of adjacent codes
assert torch.equal(NF4_THRESHOLDS, (NF4[:-1] + NF4[1:]) / 2)


def dynamic_map_signed():
    """create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8) with float32 torch.linspace."""
    data = []
    for i in range(7):
        boundaries = torch.linspace(0.1, 1, 2 ** i + 1, dtype=torch.float32)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-6 + i)) * means).tolist()
        data += (-(10 ** (-6 + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 256
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


DYN = dynamic_map_signed()
assert float(DYN[0]) == float(torch.tensor(-0.99296875)) and float(DYN[127]) == 0.0 and float(DYN[255]) == 1.0


def block_absmax(flat, blocksize):
    n = flat.numel()
    nb = (n + blocksize - 1) // blocksize
    pad = torch.zeros(nb * blocksize, dtype=torch.float32)
    pad[:n] = flat.abs()
    return pad.view(nb, blocksize).max(dim=1).values


def quantize_nf4(w, blocksize=64):
    """w any shape (any float dtype) -> (codes uint8 [n], absmax f32 [nblocks])."""
    flat = w.reshape(-1).to(torch.float32)
    n = flat.numel()
    absmax = block_absmax(flat, blocksize)
    inv = torch.reciprocal(absmax)
    idx = torch.arange(n) // blocksize
    xn = flat * inv[idx]
    codes = (xn[:, None] > NF4_THRESHOLDS[None, :]).sum(dim=1).to(torch.uint8)
    return codes, absmax


def pack_nibbles(codes):
    c = codes.to(torch.int32)
    if c.numel() % 2:
        c = torch.cat([c, torch.tensor([7], dtype=torch.int32)])
    return ((c[0::2] << 4) | c[1::2]).to(torch.uint8).reshape(-1, 1)


def unpack_nibbles(packed, n):
    p = packed.reshape(-1).to(torch.int32)
    return torch.stack([p >> 4, p & 15], dim=1).reshape(-1)[:n].to(torch.uint8)


def quantize_blockwise_dynamic(v, blocksize=256):
    """v f32 [n] -> (codes uint8 [n], absmax2 f32 [nb]) with the signed dynamic map, nearest code, ties -> lower."""
    n = v.numel()
    absmax2 = block_absmax(v, blocksize)
    inv = torch.reciprocal(absmax2)
    xn = v * inv[torch.arange(n) // blocksize]
    mids = (DYN[:-1] + DYN[1:]) / 2
    codes = (xn[:, None] > mids[None, :]).sum(dim=1).to(torch.uint8)
    return codes, absmax2


def double_quant(absmax):
    offset = absmax.mean()
    q, absmax2 = quantize_blockwise_dynamic(absmax - offset, 256)
    return q, absmax2, offset


def dequant_absmax(q, absmax2, offset):
    idx = torch.arange(q.numel()) // 256
    return DYN[q.long()] * absmax2[idx] + offset


def dequant_nf4(codes, absmax_f32, shape, blocksize=64):
    idx = torch.arange(codes.numel()) // blocksize
    return (NF4[codes.long()] * absmax_f32[idx]).reshape(shape)


def quantize_module(w, prefix, blocksize=64):
    """bnb state-dict entries for one Linear4bit (nf4, compress_statistics=True) under `prefix` (e.g.
    'model.layers.0.self_attn.q_proj'), plus (dequant f32, dequant bf16)."""
    codes, absmax = quantize_nf4(w, blocksize)
    qa, absmax2, offset = double_quant(absmax)
    a_deq = dequant_absmax(qa, absmax2, offset)
    deq = dequant_nf4(codes, a_deq, w.shape, blocksize)
    state = {"quant_type": "nf4", "blocksize": blocksize, "dtype": "bfloat16", "shape": list(w.shape),
             "nested_blocksize": 256, "nested_dtype": "float32", "nested_offset": float(offset)}
    sj = json.dumps(state).encode("utf-8")
    t = {prefix + ".weight": pack_nibbles(codes),
         prefix + ".weight.absmax": qa,
         prefix + ".weight.quant_map": NF4.clone(),
         prefix + ".weight.nested_absmax": absmax2,
         prefix + ".weight.nested_quant_map": DYN.clone(),
         prefix + ".weight.quant_state.bitsandbytes__nf4": torch.tensor(list(sj), dtype=torch.uint8)}
    return t, deq, deq.to(torch.bfloat16), {"codes": codes, "absmax": absmax, "offset": offset}
