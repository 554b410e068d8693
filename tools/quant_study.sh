#!/bin/sh
# Regenerates docs/quantization.md: per-format size / perplexity / speed of stories260K and the
# size / speed of synthetic:llama-3.2-1b, measured with `finlora bench quant` in this checkout.
# Usage: tools/quant_study.sh [shared-assets-dir]   (default /work/shared)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${1:-/work/shared}
out="$root/docs/quantization.md"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
stories="$shared/models/stories260K/stories260K.bin"
text="$root/tools/data/tinystories-sample.txt"

uptime > "$tmp/uptime-before"
"$root/finlora" bench quant --model "$stories" --file "$text" --ctx 128 --prompt-tokens 64 --gen-tokens 64 --repeats 3 \
  --formats none,q8_0,q4_0,nf4,fp4,int8,int8-block,rtn8,rtn4,rtn3,rtn2 > "$tmp/stories.md" 2> "$tmp/stories.err"
uptime > "$tmp/uptime-mid"
"$root/finlora" bench quant --model synthetic:llama-3.2-1b --prompt-tokens 16 --gen-tokens 8 --repeats 1 \
  --formats none,q8_0,q4_0,nf4,int8 > "$tmp/1b.md" 2> "$tmp/1b.err"
uptime > "$tmp/uptime-after"

{
cat <<'DOC'
# Weight quantization in FinLoRA-J: size, quality, speed

Regenerate with `tools/quant_study.sh` (it runs `./finlora bench quant` twice and rewrites this file).

**What is measured** (`finlora bench quant`, one JVM per model, formats quantized on load):

* *bits/weight (proj.)*: bytes of the 7 block projections in their in-memory kernel format, including
  every scale, offset and double-quant array, × 8 / number of weights. Embeddings, norms and lm_head stay
  in their stored dtype for nf4/fp4/int8/int8-block/rtn (as bitsandbytes does); q8_0/q4_0 also convert
  embeddings and lm_head, so their "weight bytes" column includes those.
* *weight bytes*: all weights as held by the engine (`LlamaWeights.byteSize()`); lm_head counted once when tied.
* *perplexity*: non-overlapping 128-token windows of `tools/data/tinystories-sample.txt` (`finlora perplexity --ctx 128`).
* *prefill / decode tok/s*: random prompt ids, one batched prefill then greedy decode, best of the timed runs after a JIT warm-up.
* Ratios (×) are to the first row of the same run: for stories260K that is the stored f32 model,
  for synthetic:llama-3.2-1b the stored bf16 model (an f32 copy of the 1B is not built: ~5 GB).
* bf16 is not a `--quant` format; it appears only as the 1B's stored dtype.

stories260K's FFN hidden size is 172, not a multiple of 32, so q8_0 and q4_0 (32-weight blocks along
each row) cannot hold its w2/down_proj; those rows say so. nf4/fp4/int8-block block over the flattened
tensor (as bitsandbytes does), so they apply.

## Machine load during the measurement

The machine has 2 cores; the load averages below say how busy it was around the run (about 2 means
only this benchmark ran). Decode and prefill are short, best-of-few runs, so the speed columns are
noisy: compare ratios within one table, not across runs.

DOC
echo '```'
echo "before stories260K: $(cat "$tmp/uptime-before")"
echo "before llama-3.2-1b: $(cat "$tmp/uptime-mid")"
echo "after:              $(cat "$tmp/uptime-after")"
echo '```'
echo
echo "## stories260K (llama2.c, f32, dim 64, 5 layers, hidden 172)"
echo
cat "$tmp/stories.md"
echo
echo "## synthetic:llama-3.2-1b (random weights, Llama 3.2 1B shapes, stored bf16) — bytes and speed only"
echo
echo "Perplexity is meaningless for random weights and is not measured; 16 prompt tokens and 8 decoded tokens keep the run short"
echo "(building the 1B takes about a minute per format, shown in the load column)."
echo
cat "$tmp/1b.md"
cat <<'DOC'

## Peak memory of the 8B with nf4

Measured separately (not re-run by this script) on 2026-11-24 01:16 UTC, idle machine, with
`/usr/bin/time -v ./finlora bench generate --model synthetic:llama-3.1-8b --quant nf4 --prompt-tokens 16 --gen-tokens 4 --threads 2`:

* peak RSS **6213 MiB = 6.07 GiB** (engine's own report; `/usr/bin/time` "Maximum resident set size" 6362408 kB), target ≤ 6.5 GiB: met.
  The first measurement (2026-11-23, shared machine) read 6372 MiB = 6.22 GiB.
* weights as held: 5438.6 MiB (nf4 projections with double-quantized absmax, plus the untied bf16 embedding and lm_head, 2 × 1002 MiB).
* the whole run (building the random 8B, quantizing it, 16-token prefill, 4 decode steps) took 3 min 17 s wall; prefill
  3.93 tok/s, decode 1.40 tok/s (6.52 GB/s of weights streamed).

## Writing bitsandbytes folders: `finlora quantize`

`finlora quantize --model M --quant nf4|fp4|int8[:options] --output DIR` writes an HF folder in the layout
transformers + bitsandbytes save for `load_in_4bit` / `load_in_8bit`:

* `model.safetensors`: each block projection as its bnb tensor group (4-bit: packed U8 `weight` [n/2, 1], `absmax`
  (U8 when double-quantized, with `nested_absmax`, `nested_quant_map`), `quant_map`, `quant_state.bitsandbytes__nf4|fp4`
  JSON; 8-bit: I8 `weight` [out, in], `SCB`, `weight_format`); embeddings, norms and lm_head in their stored dtype
  (GGUF block types are dequantized to f32).
* `config.json`: the source's HF config (or one built from the model config for llama2.c / GGUF / synthetic sources)
  with `torch_dtype` and `quantization_config` as `BitsAndBytesConfig.to_dict()` writes it (keys sorted).
* q/k rows of interleaved-RoPE sources (llama2.c, GGUF) are permuted to HF's half-split order before quantizing.
* tokenizer files are copied from HF sources; for llama2.c sources the `tokenizer.bin` is copied (finlora reads it;
  transformers needs a tokenizer.json, which this build does not produce); GGUF / synthetic sources get no tokenizer
  (load with `--tokenizer FILE`).
* written into a temp folder beside the target, then renamed.
* q8_0 / q4_0 / int8-block / rtn have no bitsandbytes layout and are refused with a one-line error (no GGUF output yet).

Any command that loads a model (`generate`, `perplexity`, `eval`, `finetune`, `bench`) uses the bnb groups of such a
folder as stored, whatever `--quant` says. Tested: quantize → load back gives bit-identical codes, scales and logits to
quantizing the same source on load (nf4 with double quant, fp4 bf16 source without, int8), and
`tools/check_bnb_folder.py FOLDER stories260K.bin` re-derives every code with numpy from the fact-sheet tables.
DOC
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out"
