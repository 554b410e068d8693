#!/usr/bin/env bash
# Regenerates docs/results.md: stories260K base vs. an nf4 r4 and an int8 r8 LoRA adapter on the
# shared dev splits of FPB, FiQA-SA, TFNS, NWGI and NER (FinLoRA's sentiment/NER tasks).
#
#   tools/run_results.sh            # everything: lr probe, two trainings, eval, docs/results.md
#   SHARED=/path/to/shared tools/run_results.sh
#
# Knobs (environment): SHARED (default /work/shared), WORK (default runs/results, git-ignored),
# STEPS (optimizer steps per adapter, default 100), PROBE_STEPS (25), LRS ("1e-3 3e-3"),
# LIMIT (first N dev rows per task, default 0 = all: the dev files are not in random order, e.g. the first 200
# ner_dev rows hold only 9 distinct spans), BATCH (train micro-batch, 8), ONLY_EVAL=1 (reuse the adapters and
# training logs already in WORK; redo only the evals and the page).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SHARED=${SHARED:-/work/shared}
WORK=${WORK:-runs/results}
STEPS=${STEPS:-100}
PROBE_STEPS=${PROBE_STEPS:-25}
LRS=${LRS:-"1e-3 3e-3"}
LIMIT=${LIMIT:-0}
BATCH=${BATCH:-8}
MODEL=$SHARED/models/stories260K/stories260K.bin
D=$SHARED/data
export FINLORA_SHARED=$SHARED
mkdir -p "$WORK" docs
log() { echo "[run_results $(date -u +%H:%M:%S)] $*" >&2; }

# wall-clock seconds of a command, appended to $WORK/times.tsv as "name<TAB>seconds"
timed() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  printf '%s\t%.1f\n' "$name" "$(echo "$t1 - $t0" | bc)" >> "$WORK/times.tsv"
}
: > "$WORK/times.tsv.new"
if [ "${ONLY_EVAL:-0}" = 1 ]; then grep -v '^eval' "$WORK/times.tsv" > "$WORK/times.tsv.new" || true; fi
mv "$WORK/times.tsv.new" "$WORK/times.tsv"

common=(--model "$MODEL" --alpha 32 --dropout 0.1 --max-seq-len 512 --skip-long --batch-size "$BATCH" --seed 42)

if [ "${ONLY_EVAL:-0}" != 1 ]; then
# 1. lr probe: nf4 r4 on FPB only, PROBE_STEPS steps per lr; the lr with the lower mean training
#    loss over the last 10 steps is used for both adapters.
best_lr=""; best_loss=""
for lr in $LRS; do
  out=$WORK/probe_lr$lr
  rm -rf "$out"
  log "lr probe $lr"
  timed "probe_lr$lr" ./finlora finetune "${common[@]}" --quant nf4 --rank 4 --lr "$lr" --max-steps "$PROBE_STEPS" \
      --train "$D/fpb_train.jsonl" --output "$out" --no-plot > "$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
  tail -1 "$out.log" >&2
  loss=$(python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; t=r[-10:]; print(sum(x['loss'] for x in t)/len(t))" "$out/metrics.jsonl")
  echo -e "$lr\t$loss" >> "$WORK/probe.tsv.tmp"
  if [ -z "$best_lr" ] || python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)" "$loss" "$best_loss"; then
    best_lr=$lr; best_loss=$loss
  fi
done
mv "$WORK/probe.tsv.tmp" "$WORK/probe.tsv"
echo "$best_lr" > "$WORK/lr.txt"
log "chosen lr $best_lr (mean loss of last 10 steps $best_loss)"

# 2. one multi-task adapter per config over all five train files (NER: part1 only), STEPS steps each;
#    the two trainings run side by side, one worker thread each.
train_files=(--train "$D/fpb_train.jsonl" --train "$D/fiqa_train.jsonl" --train "$D/tfns_train.jsonl"
             --train "$D/nwgi_train.jsonl" --train "$D/ner_train_part1.jsonl")
rm -rf "$WORK/nf4_r4" "$WORK/int8_r8"
log "training nf4_r4 and int8_r8 ($STEPS steps each, lr $best_lr)"
timed train_nf4_r4 ./finlora finetune "${common[@]}" --quant nf4 --rank 4 --lr "$best_lr" --max-steps "$STEPS" \
    "${train_files[@]}" --output "$WORK/nf4_r4" --threads 1 > "$WORK/nf4_r4.log" 2>&1 &
p1=$!
timed train_int8_r8 ./finlora finetune "${common[@]}" --quant int8 --rank 8 --lr "$best_lr" --max-steps "$STEPS" \
    "${train_files[@]}" --output "$WORK/int8_r8" --threads 1 > "$WORK/int8_r8.log" 2>&1 &
p2=$!
wait $p1 || { cat "$WORK/nf4_r4.log" >&2; exit 1; }
wait $p2 || { cat "$WORK/int8_r8.log" >&2; exit 1; }
tail -1 "$WORK/nf4_r4.log" >&2; tail -1 "$WORK/int8_r8.log" >&2
fi

# 3. eval: base + both adapters on the five dev sets, first LIMIT rows of each.
rm -rf "$WORK/eval" "$WORK/report"
log "eval (limit $LIMIT per task)"
timed eval ./finlora eval --model "$MODEL" --adapter "$WORK/nf4_r4" --adapter "$WORK/int8_r8" \
    --tasks fpb,fiqa,tfns,nwgi,ner --limit "$LIMIT" --batch-size 16 \
    --output "$WORK/eval" --report "$WORK/report" > "$WORK/eval.out" 2> "$WORK/eval.log" || { cat "$WORK/eval.log" >&2; exit 1; }
cat "$WORK/eval.out" >&2

# 3b. each adapter again on the base quantized as in its training (--quant, --no-base).
for c in nf4_r4:nf4 int8_r8:int8; do
  a=${c%%:*}; q=${c##*:}
  rm -rf "$WORK/eval_q$q"
  log "eval $a on the $q base"
  timed "eval_quant_$q" ./finlora eval --model "$MODEL" --quant "$q" --adapter "$WORK/$a" --no-base \
      --tasks fpb,fiqa,tfns,nwgi,ner --limit "$LIMIT" --batch-size 16 \
      --output "$WORK/eval_q$q" > "$WORK/eval_q$q.out" 2> "$WORK/eval_q$q.log" || { cat "$WORK/eval_q$q.log" >&2; exit 1; }
done

# 4. docs/results.md from the eval lines, training logs and timings.
cp "$WORK/report/report.png" docs/results_report.png
cp "$WORK/nf4_r4/loss_curve.png" docs/results_loss_nf4_r4.png
cp "$WORK/int8_r8/loss_curve.png" docs/results_loss_int8_r8.png
SHARED=$SHARED python3 tools/results_md.py "$WORK" "$STEPS" "$LIMIT" "$BATCH" "$PROBE_STEPS" > docs/results.md.tmp
mv docs/results.md.tmp docs/results.md
log "wrote docs/results.md"
