#!/usr/bin/env bash
# Regenerates docs/results.md (+ docs/results_acc.png, docs/results_loss.png): stories260K base vs. per-task
# nf4 r4 and int8 r8 LoRA adapters on the shared dev splits of FPB, FiQA-SA, TFNS, NWGI and NER.
#
#   tools/run_results.sh            # everything: lr probe, ten trainings, evals, the page
#   SHARED=/path/to/shared tools/run_results.sh
#
# Knobs (environment): SHARED (default /work/shared), WORK (default runs/results, git-ignored),
# STEPS (optimizer steps per task adapter, default 120; STEPS_<task> overrides one task, default STEPS_fpb=200), BATCH (train micro-batch, 4), LRS (probe candidates,
# "1e-3 3e-3"), PROBE_STEPS (60), PROBE_HOLD (rows of fpb_train held out for the probe, 300),
# MAX_NEW (eval --max-new-tokens, default auto), LIMIT (first N dev rows per task, 0 = all; the dev files are
# not in random order, so keep 0 for real numbers), ONLY_EVAL=1 (reuse adapters and training logs in WORK),
# REUSE_PROBE=1 (reuse the probe's results in WORK: probe.tsv, lr.txt, probe/, and its times), KEEP_DONE=1 (keep every
# adapter whose training finished and every eval whose summary exists in WORK, with their times; redo the rest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SHARED=${SHARED:-/work/shared}
WORK=${WORK:-runs/results}
STEPS=${STEPS:-120}
# FPB's adapters get more steps than the rest: they were trained first, at 200 steps, before a loaded machine (~200-250
# tok/s per training instead of ~800) made 200 steps for every task overrun the hour; the rest then got 120.
STEPS_fpb=${STEPS_fpb:-200}
BATCH=${BATCH:-4}
LRS=${LRS:-"1e-3 3e-3"}
PROBE_STEPS=${PROBE_STEPS:-60}
PROBE_HOLD=${PROBE_HOLD:-300}
MAX_NEW=${MAX_NEW:-auto}
LIMIT=${LIMIT:-0}
MODEL=$SHARED/models/stories260K/stories260K.bin
D=$SHARED/data
TASKS="fpb fiqa tfns nwgi ner"
CONFIGS="nf4_r4:nf4:4 int8_r8:int8:8"
export FINLORA_SHARED=$SHARED
mkdir -p "$WORK" docs
log() { echo "[run_results $(date -u +%H:%M:%S)] $*" >&2; }
./finlora --version > /dev/null 2>&1 # build once before anything runs in parallel

# wall-clock seconds of a command, appended to $WORK/times.tsv as "name<TAB>seconds"
timed() {
  local name=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  printf '%s\t%.1f\n' "$name" "$(echo "$t1 - $t0" | bc)" >> "$WORK/times.tsv"
}
# run NAME CMD...: timed, output to $WORK/NAME.log, log shown on failure
run() {
  local name=$1; shift
  timed "$name" "$@" > "$WORK/$name.log" 2>&1 || { cat "$WORK/$name.log" >&2; log "FAILED: $name"; return 1; }
}
train_files() {
  case $1 in
    ner) echo "--train $D/ner_train_part1.jsonl" ;; # 8223 rows: plenty for STEPS x BATCH, and tokenizing parts 2+3 too costs minutes
    *) echo "--train $D/${1}_train.jsonl" ;;
  esac
}
t_start=$(date +%s)
if [ "${ONLY_EVAL:-0}" = 1 ]; then grep -v '^eval' "$WORK/times.tsv" > "$WORK/times.tsv.new" || true
elif [ "${KEEP_DONE:-0}" = 1 ]; then cp "$WORK/times.tsv" "$WORK/times.tsv.new" # redone steps append; the last time counts
elif [ "${REUSE_PROBE:-0}" = 1 ]; then grep '^probe' "$WORK/times.tsv" > "$WORK/times.tsv.new" || true
else : > "$WORK/times.tsv.new"; fi
mv "$WORK/times.tsv.new" "$WORK/times.tsv"
echo "$STEPS $BATCH $PROBE_STEPS $PROBE_HOLD $MAX_NEW $LIMIT" > "$WORK/knobs.txt"

common=(--model "$MODEL" --alpha 32 --dropout 0.1 --max-seq-len 512 --skip-long --batch-size "$BATCH" --seed 42 --threads 1)
evalopts=(--model "$MODEL" --max-new-tokens "$MAX_NEW" --limit "$LIMIT" --batch-size 16 --threads 1)

# base model on the five dev sets: runs beside the probe (one thread each)
done_eval() { [ "${KEEP_DONE:-0}" = 1 ] && [ -n "$(find "$1" -name "*-$2-summary.json" 2>/dev/null)" ]; }
if done_eval "$WORK/eval_base" ner && done_eval "$WORK/eval_base" fpb; then
  log "keeping eval_base"; p_base=""
else
  rm -rf "$WORK/eval_base"
  log "eval base"
  run eval_base ./finlora eval "${evalopts[@]}" --tasks fpb,fiqa,tfns,nwgi,ner --output "$WORK/eval_base" &
  p_base=$!
fi

if [ "${ONLY_EVAL:-0}" != 1 ] && [ "${REUSE_PROBE:-0}" != 1 ]; then
# 1. lr probe on a held-out slice of the TRAIN split (never dev): PROBE_HOLD rows of fpb_train, whole
#    "Input:" groups at a time, drawn with a fixed seed (the file is not in random order), are held out; an nf4 r4
#    adapter per candidate lr trains PROBE_STEPS steps on the rest and is scored on the held-out rows. Highest
#    held-out accuracy wins, ties broken by weighted F1.
mkdir -p "$WORK/probe"
/usr/bin/python3 - "$D/fpb_train.jsonl" "$WORK/probe/fpb_fit.jsonl" "$WORK/probe/fpb_hold.jsonl" "$PROBE_HOLD" <<'EOF'
import json, random, re, sys
src, fit, hold, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
rows = [l for l in open(src, encoding="utf-8") if l.strip()]
groups = {}
for i, l in enumerate(rows):
    c = json.loads(l)["context"]
    m = re.search(r"\nInput: (.*)\nAnswer:", c, re.S)
    groups.setdefault(m.group(1) if m else c, []).append(i)
keys = list(groups)
random.Random(20251123).shuffle(keys)
held = set()
for k in keys:
    if len(held) >= n:
        break
    held.update(groups[k])
with open(fit, "w", encoding="utf-8") as f:
    f.writelines(l for i, l in enumerate(rows) if i not in held)
with open(hold, "w", encoding="utf-8") as f:
    f.writelines(rows[i] for i in sorted(held))
EOF
pids=()
for lr in $LRS; do
  rm -rf "$WORK/probe/lr$lr" "$WORK/probe/eval_lr$lr"
  log "lr probe $lr"
  ( run "probe_lr$lr" ./finlora finetune "${common[@]}" --quant nf4 --rank 4 --lr "$lr" --max-steps "$PROBE_STEPS" \
        --train "$WORK/probe/fpb_fit.jsonl" --output "$WORK/probe/lr$lr" --no-plot &&
    run "probe_eval_lr$lr" ./finlora eval --model "$MODEL" --max-new-tokens "$MAX_NEW" --batch-size 16 --threads 1 \
        --quant nf4 --adapter "$WORK/probe/lr$lr" --no-base --data "$WORK/probe/fpb_hold.jsonl" --task fpb \
        --output "$WORK/probe/eval_lr$lr" ) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
/usr/bin/python3 - "$WORK" $LRS > "$WORK/probe.tsv" <<'EOF'
import json, sys
work = sys.argv[1]
for lr in sys.argv[2:]:
    s = json.load(open(f"{work}/probe/eval_lr{lr}/lr{lr}-fpb-summary.json"))
    m = [json.loads(l) for l in open(f"{work}/probe/lr{lr}/metrics.jsonl")]
    last = m[-10:]
    print(f"{lr}\t{s['accuracy']:.4f}\t{s['f1']:.4f}\t{sum(r['loss'] for r in last) / len(last):.4f}")
EOF
best_lr=$(sort -t$'\t' -k2,2gr -k3,3gr "$WORK/probe.tsv" | head -1 | cut -f1)
echo "$best_lr" > "$WORK/lr.txt"
log "probe: $(tr '\n' ';' < "$WORK/probe.tsv") -> lr $best_lr"

fi
# 2. one adapter per task and config (FinLoRA trains one per task), STEPS steps each; the nf4 and int8 configs
#    run side by side, each training its five tasks in turn and evaluating each adapter right after it.
best_lr=$(cat "$WORK/lr.txt")
stream() {
  local name=$1 quant=$2 rank=$3 t
  for t in $TASKS; do
    local steps_var="STEPS_$t" steps
    steps=${!steps_var:-$STEPS}
    if [ "${KEEP_DONE:-0}" = 1 ] && [ -f "$WORK/${name}_$t/adapter_model.safetensors" ] \
        && grep -q "^finetune done: $steps steps" "$WORK/train_${name}_$t.log" 2>/dev/null; then
      log "keeping ${name}_$t"
    elif [ "${ONLY_EVAL:-0}" != 1 ]; then
      rm -rf "$WORK/${name}_$t" "$WORK/eval_${name}_$t" "$WORK/eval10_${name}_$t"
      log "train ${name}_$t ($steps steps, lr $best_lr)"
      # shellcheck disable=SC2046
      run "train_${name}_$t" ./finlora finetune "${common[@]}" --quant "$quant" --rank "$rank" --lr "$best_lr" \
          --max-steps "$steps" $(train_files "$t") --output "$WORK/${name}_$t" || return 1
    fi
    if done_eval "$WORK/eval_${name}_$t" "$t" && { [ "$t" != nwgi ] || done_eval "$WORK/eval10_${name}_$t" "$t"; }; then
      log "keeping eval_${name}_$t"; continue
    fi
    rm -rf "$WORK/eval_${name}_$t" "$WORK/eval10_${name}_$t"
    log "eval ${name}_$t"
    run "eval_${name}_$t" ./finlora eval "${evalopts[@]}" --quant "$quant" --adapter "$WORK/${name}_$t" --no-base \
        --task "$t" --output "$WORK/eval_${name}_$t" || return 1
    if [ "$t" = nwgi ]; then # the same adapter at FinLoRA's 10 new tokens, to show what the budget changes
      run "eval10_${name}_$t" ./finlora eval --model "$MODEL" --limit "$LIMIT" --batch-size 16 --threads 1 --quant "$quant" \
          --adapter "$WORK/${name}_$t" --no-base --task "$t" --output "$WORK/eval10_${name}_$t" || return 1
    fi
  done
}
spids=()
for c in $CONFIGS; do
  IFS=: read -r name quant rank <<< "$c"
  stream "$name" "$quant" "$rank" &
  spids+=($!)
done
fail=0
for p in "${spids[@]}" ${p_base:+"$p_base"}; do wait "$p" || fail=1; done
[ $fail = 0 ] || { log "a step failed"; exit 1; }
echo $(( $(date +%s) - t_start )) > "$WORK/total_seconds.txt"

# 3. the page and its charts
SHARED=$SHARED /usr/bin/python3 tools/results_md.py "$WORK" docs > docs/results.md.tmp
mv docs/results.md.tmp docs/results.md
log "wrote docs/results.md, docs/results_acc.png, docs/results_loss.png ($(cat "$WORK/total_seconds.txt") s)"
