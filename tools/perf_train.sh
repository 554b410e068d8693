#!/bin/sh
# The finetuning issue's speed/memory figure in one run (2 threads, otherwise idle machine):
# `finlora bench train` on synthetic:llama-3.2-1b (NF4 base, LoRA r8 on all seven projections,
# 4 x 256 tokens), then the PyTorch CPU LoRA step on the same shapes with an fp32 base
# (tools/bench_torch_lora.py), and the ratios of tokens/s and peak RSS.
# Usage: tools/perf_train.sh [out-dir] [steps]   (default runs/perf-train, 2 timed steps each)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/runs/perf-train}
steps=${2:-2}
mkdir -p "$out"
uptime > "$out/uptime-start"
"$root/finlora" bench train --model synthetic:llama-3.2-1b --quant nf4 --rank 8 --seq-len 256 --batch-size 4 \
  --threads 2 --warmup 1 --steps "$steps" > "$out/java.txt" 2>/dev/null
OMP_NUM_THREADS=2 /usr/bin/python3 "$root/tools/bench_torch_lora.py" --seq 256 --batch 4 --threads 2 --rank 8 \
  --warmup 1 --steps "$steps" > "$out/torch.txt" 2>&1
uptime > "$out/uptime-end"
cat "$out/java.txt"
cat "$out/torch.txt"
python3 - "$out/java.txt" "$out/torch.txt" <<'PY'
import re, sys
j, t = open(sys.argv[1]).read(), open(sys.argv[2]).read()
jt = float(re.search(r"train: ([\d.]+) tokens/s", j).group(1))
jm = float(re.search(r"peak RSS ([\d.]+) MiB", j).group(1))
r = re.search(r"RESULT tokens/s ([\d.]+).*peak RSS ([\d.]+) MiB", t)
tt, tm = float(r.group(1)), float(r.group(2))
print(f"java {jt} tokens/s, {jm} MiB; pytorch {tt} tokens/s, {tm} MiB; speed ratio {jt/tt:.2f}, memory ratio {jm/tm:.2f}")
PY
echo "load: $(cat "$out/uptime-start") / $(cat "$out/uptime-end")"
