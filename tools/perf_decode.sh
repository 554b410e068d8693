#!/bin/sh
# The engine-issue figures in one run, on an otherwise idle machine (2 threads):
#   memory read bandwidth and compute probes, decode-shaped matvec per format, f32 prefill matmul
#   GFLOPS next to OpenBLAS sgemm on the same shape, and synthetic:llama-3.2-1b prefill/decode tok/s
#   and peak RSS per weight format.
# Usage: tools/perf_decode.sh [out-dir]   (default runs/perf; prints a summary at the end)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/runs/perf}
mkdir -p "$out"
fl="$root/finlora"
uptime > "$out/uptime-start"
"$fl" bench matmul --rows 2048 --cols 2048 --tokens 256 --threads 2 --seconds 3 --formats q8_0,q4_0,nf4 > "$out/matmul.txt" 2>/dev/null
OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$root/tools/bench_openblas_sgemm.py" --m 256 --reps 5 --skip-lm-head > "$out/openblas.txt" 2>&1 || echo "openblas bench failed" > "$out/openblas.txt"
for q in f32 q8_0 q4_0 nf4; do
  "$fl" bench generate --model synthetic:llama-3.2-1b --quant "$q" --prompt-tokens 128 --gen-tokens 32 --threads 2 --probes 8 > "$out/generate-$q.txt" 2>/dev/null
done
# the probe again at the end: the machine may have changed during the run
"$fl" bench matmul --rows 256 --cols 256 --tokens 1 --threads 2 --seconds 2 --formats f32 2>/dev/null | grep -E "bandwidth|FMA" > "$out/probe-end.txt"
uptime > "$out/uptime-end"

echo "== $(cat "$out/uptime-start")"
cat "$out/matmul.txt"
echo "== OpenBLAS"; cat "$out/openblas.txt"
for q in f32 q8_0 q4_0 nf4; do echo "== 1B $q"; grep -E "model:|prefill|decode|bandwidth|peak" "$out/generate-$q.txt"; done
echo "== probe at the end"; cat "$out/probe-end.txt"
echo "== $(cat "$out/uptime-end")"
