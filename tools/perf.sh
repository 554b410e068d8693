#!/bin/sh
# The engine's performance figures, each next to its baseline measured in the same run (2 threads):
#   f32 GEMM [2048 x 2048] x 256        vs OpenBLAS sgemm (numpy) on the same shape, OpenBLAS's own kernel for the CPU
#   1B Q4_0 prefill (128) / decode (64)  vs llama.cpp (node-llama-cpp's prebuilt CPU build) on the same GGUF
#   NF4 decode                           vs q4_0 decode, same weights
#   QLoRA training (1B, nf4 r8, 4x256)   model FLOP/s vs the OpenBLAS sgemm rate
# ROUNDS rounds (default 3) run every command in turn, ours and the baselines interleaved; each figure is the
# best of its rounds (on a shared or throttled machine the best is the least disturbed), each ratio one of
# two bests. Needs Debian python3-numpy + libopenblas0-pthread and npm (node-llama-cpp goes into the out folder).
# Usage: [ROUNDS=n] tools/perf.sh [out-dir]   (default runs/perf); prints the table at the end
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/runs/perf}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rounds=${ROUNDS:-3}
fl="$root/finlora"
gguf="$out/llama-3.2-1b-q4_0.gguf"
[ -f "$gguf" ] || /usr/bin/python3 "$root/../shared/tools/make_gguf.py" llama-3.2-1b q4_0 "$gguf" > /dev/null
if [ ! -d "$out/llamacpp/node_modules/node-llama-cpp" ]; then
  mkdir -p "$out/llamacpp"
  (cd "$out/llamacpp" && npm install --silent node-llama-cpp@3.22.1 > /dev/null 2>&1)
fi
cp "$root/../shared/tools/llamacpp_bench.mjs" "$out/llamacpp/"

{ grep -m1 "model name" /proc/cpuinfo; grep -o -w -E 'avx2|avx512f|avx512_vnni|avx512_bf16|asimd' /proc/cpuinfo | sort -u | tr '\n' ' '; echo; } > "$out/cpu.txt"
uptime > "$out/uptime-start"
: > "$out/openblas.txt"; : > "$out/matmul.txt"; : > "$out/llamacpp.txt"; : > "$out/generate-q4_0.txt"; : > "$out/generate-nf4.txt"; : > "$out/train.txt"
i=0
while [ "$i" -lt "$rounds" ]; do
  i=$((i + 1))
  # OpenBLAS picks its kernel for the CPU only without these overrides
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=2 /usr/bin/python3 "$root/tools/bench_openblas_sgemm.py" \
    --m 256 --reps 5 --skip-lm-head >> "$out/openblas.txt" 2>&1
  "$fl" bench matmul --rows 2048 --cols 2048 --tokens 256 --threads 2 --seconds 3 --formats q4_0,nf4 >> "$out/matmul.txt" 2>/dev/null
  (cd "$out/llamacpp" && node llamacpp_bench.mjs "$gguf" 2 128 64) >> "$out/llamacpp.txt"
  for q in q4_0 nf4; do
    "$fl" bench generate --model "$gguf" --quant "$q" --prompt-tokens 128 --gen-tokens 64 --threads 2 >> "$out/generate-$q.txt" 2>/dev/null
  done
  if [ "$i" -le 2 ]; then
    "$fl" bench train --model synthetic:llama-3.2-1b --quant nf4 --rank 8 --seq-len 256 --batch-size 4 --threads 2 --warmup 1 --steps 2 \
      >> "$out/train.txt" 2>/dev/null
  fi
done
uptime > "$out/uptime-end"

/usr/bin/python3 - "$out" "$rounds" <<'PY'
import json, re, sys
out, rounds = sys.argv[1], sys.argv[2]
read = lambda f: open(f"{out}/{f}").read()
fl = lambda pat, text: [float(x) for x in re.findall(pat, text)]
blas = max(fl(r"M=256\s+K=2048\s+N=2048 .*?([\d.]+) GFLOPS", read("openblas.txt")))
core = re.search(r"openblas core: (\S+)", read("openblas.txt"))
gemm = max(fl(r"f32 matmul \[2048 x 2048\] x 256 tokens: ([\d.]+) GFLOPS", read("matmul.txt")))
ll = [json.loads(l) for l in read("llamacpp.txt").splitlines() if l.startswith("{")]
llp, lld = max(x["prefill_tok_s"] for x in ll), max(x["decode_tok_s"] for x in ll)
pre = {q: max(fl(r"prefill: .*?= ([\d.]+) tok/s", read(f"generate-{q}.txt"))) for q in ("q4_0", "nf4")}
dec = {q: max(fl(r"decode: .*?= ([\d.]+) tok/s", read(f"generate-{q}.txt"))) for q in ("q4_0", "nf4")}
train = max(fl(r"model FLOP/s: ([\d.]+) GFLOPS", read("train.txt")))
print(read("cpu.txt").strip())
print(read("matmul.txt").splitlines()[0])
print(f"best of {rounds} interleaved rounds each")
print("| figure | finlora | baseline (same run) | ratio | target |")
print("|---|---|---|---|---|")
print(f"| f32 GEMM [2048 x 2048] x 256 | {gemm:.1f} GFLOPS | OpenBLAS sgemm ({core.group(1) if core else '?'}) {blas:.1f} GFLOPS | {gemm / blas:.2f} | >= 0.8 |")
print(f"| 1B Q4_0 prefill, 128 tokens | {pre['q4_0']:.1f} tok/s | llama.cpp {llp:.1f} tok/s | {pre['q4_0'] / llp:.2f} | >= 0.6 |")
print(f"| 1B Q4_0 decode, 64 tokens | {dec['q4_0']:.1f} tok/s | llama.cpp {lld:.1f} tok/s | {dec['q4_0'] / lld:.2f} | >= 0.9 |")
print(f"| 1B NF4 decode | {dec['nf4']:.1f} tok/s | finlora q4_0 {dec['q4_0']:.1f} tok/s | {dec['nf4'] / dec['q4_0']:.2f} | >= 0.8 |")
print(f"| QLoRA training, 1B nf4 r8, 4 x 256 | {train:.1f} model GFLOPS | OpenBLAS sgemm {blas:.1f} GFLOPS | {train / blas:.2f} | >= 0.6 |")
print("load:", read("uptime-start").strip(), "/", read("uptime-end").strip())
PY
