"""Writes the f32 bits of transformers-style RoPE inv_freq (default and llama3-scaled), for RopeFixtureTest.

Mirrors transformers modeling_rope_utils (_compute_default_rope_parameters, _compute_llama3_parameters) in torch f32.
Run: /usr/bin/python3 tools/rope_llama3_fixture.py > finlora-core/src/test/resources/kernel/rope_llama3_inv_freq.txt
"""
import torch, math, struct
def f(dim, base, factor, lff, hff, old):
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    low_freq_wavelen = old / lff
    high_freq_wavelen = old / hff
    wavelen = 2 * math.pi / inv_freq
    inv_freq_llama = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth_factor = (old / wavelen - lff) / (hff - lff)
    smoothed_inv_freq = (1 - smooth_factor) * inv_freq_llama / factor + smooth_factor * inv_freq_llama
    is_medium_freq = ~(wavelen < high_freq_wavelen) * ~(wavelen > low_freq_wavelen)
    inv_freq_llama = torch.where(is_medium_freq, smoothed_inv_freq, inv_freq_llama)
    return inv_freq, inv_freq_llama
print("# dim 128 theta 500000 factor 8; dim 64 theta 500000 factor 32 (low 1, high 4, original 8192): default, then scaled, as int32 f32 bits")
for (d,fac) in [(128,8.0),(64,32.0)]:
    a,b=f(d,500000.0,fac,1.0,4.0,8192)
    print(' '.join(str(struct.unpack('<i',struct.pack('<f',x))[0]) for x in a.tolist()))
    print(' '.join(str(struct.unpack('<i',struct.pack('<f',x))[0]) for x in b.tolist()))
