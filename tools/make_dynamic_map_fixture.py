"""Writes the bitsandbytes dynamic 8-bit maps (signed and unsigned, 7 exponent bits) as float32 bit
patterns, computed with torch float32 ops the way bnb's create_dynamic_map does (re-implemented
here from its description; bnb itself is not installed). Output: one JSON file for the Java tests."""
import json, sys, torch

def dynamic_map(signed):
    data = []
    non_sign_bits = 7
    for i in range(7):
        items = 2 ** i + 1 if signed else 2 ** (i + 1) + 1
        b = torch.linspace(0.1, 1, items, dtype=torch.float32)
        means = (b[:-1] + b[1:]) / 2.0
        data += ((10 ** (-6 + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-6 + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    data.sort()
    return torch.tensor(data, dtype=torch.float32)

def bits(t):
    return [int(v) & 0xFFFFFFFF for v in t.view(torch.int32).tolist()]

out = {"torch": torch.__version__, "signed": bits(dynamic_map(True)), "unsigned": bits(dynamic_map(False))}
# linspace(0.1, 1, 65) alone, to pin the linspace rule
out["linspace_0.1_1_65"] = bits(torch.linspace(0.1, 1, 65, dtype=torch.float32))
json.dump(out, open(sys.argv[1], "w"))
