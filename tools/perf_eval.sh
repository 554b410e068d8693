#!/bin/sh
# Eval throughput of every shared dev task on stories260K (the eval issue's batching figure):
# `finlora bench eval` at batch sizes 1 and 32, with the prompt keys/values reused across calls (as
# `finlora eval` runs) and without (--no-prefix-reuse: every call starts cold). Prints one table row
# per task: examples/s at batch 1 and 32 and their ratio, in both modes, and the share of prompt
# tokens batch 32 did not run because they repeat the task's instruction.
# Usage: tools/perf_eval.sh [out-dir] [limit]   (default runs/perf-eval, 128 examples per task)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/runs/perf-eval}
limit=${2:-128}
model="$root/../shared/models/stories260K/stories260K.bin"
data="$root/../shared/data"
mkdir -p "$out"
uptime > "$out/uptime-start"
echo "| task | examples | reuse: batch 1 ex/s | reuse: batch 32 ex/s | reuse: ratio | cold: batch 1 ex/s | cold: batch 32 ex/s | cold: ratio | prompt tokens shared at batch 32 |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in fpb fiqa tfns nwgi headline ner xbrl_term formula; do
  f="$data/${t}_dev.jsonl"
  [ -f "$f" ] || continue
  for mode in prefix-reuse no-prefix-reuse; do
    "$root/finlora" bench eval --model "$model" --data "$f" --limit "$limit" --batch-sizes 1,32 --rounds 3 --threads 2 "--$mode" \
      > "$out/$t-$mode.txt" 2>/dev/null
  done
  python3 - "$out/$t-prefix-reuse.txt" "$out/$t-no-prefix-reuse.txt" "$t" <<'PY'
import re, sys
def parse(path):
    txt = open(path).read()
    n = re.search(r"task \S+, (\d+) examples", txt).group(1)
    best = {int(b): float(x) for b, x in re.findall(r"^batch +(\d+): ([\d.]+) examples/s", txt, re.M)}
    rows = re.findall(r"^round \d+ batch +32: .*?\(prompt (\d+) \+ shared-prefix (\d+)", txt, re.M)
    run, shared = map(int, rows[-1])
    return n, best, shared / (run + shared)
n, r, share = parse(sys.argv[1])
_, c, _ = parse(sys.argv[2])
print(f"| {sys.argv[3]} | {n} | {r[1]:.1f} | {r[32]:.1f} | {r[32]/r[1]:.2f} | {c[1]:.1f} | {c[32]:.1f} | {c[32]/c[1]:.2f} | {share:.2f} |")
PY
done
uptime > "$out/uptime-end"
echo "load: $(cat "$out/uptime-start") / $(cat "$out/uptime-end")"
