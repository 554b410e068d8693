/**
 * Evaluation: batched generation through a {@link org.finlora.eval.TextGenerator}, FinLoRA's
 * answer extraction and scoring, result files and comparison reports.
 *
 * <h2>FinLoRA's rules (test/test_dataset.py, test/inference.py), reproduced</h2>
 * <ul>
 *   <li>Prompt: the raw context, no chat template; greedy; max new tokens per task
 *       ({@link org.finlora.data.FinTask#maxNewTokens()}).</li>
 *   <li>Answer: text after the last "Answer:", Python-stripped ({@link org.finlora.eval.AnswerExtractor}).</li>
 *   <li>Accuracy: labels = set(targets) lowercased; the label found earliest (substring) in the
 *       lowercased answer must equal the lowercased target ({@link org.finlora.eval.Metrics#classify}).
 *       Applies to the sentiment tasks, headline, NER, XBRL extraction and financial math alike.</li>
 *   <li>F1: sklearn weighted F1 of targets vs responses (target if correct, else the raw answer).</li>
 *   <li>FiNER/FNXL: comma-split, padded with "" / cut to the target count, then the same rule per tag.</li>
 * </ul>
 *
 * <h2>Where we deliberately differ</h2>
 * <ul>
 *   <li>Ties at the same index (one label a prefix of another): FinLoRA keeps Python set order,
 *       which varies between runs; we take the longest label, then code-point order.</li>
 *   <li>We extract from the generation only. FinLoRA splits decoded prompt+generation, which is
 *       the same whenever the prompt contains "Answer:" (all shared data), but for prompts without
 *       it (FinLoRA's FiNER prompts end "Output US GAAP tags:") FinLoRA scores the prompt text too.</li>
 *   <li>xbrl_term and financebench: FinLoRA uses BERTScore with ProsusAI/finbert; we report exact
 *       match (as "accuracy") and mean SQuAD token F1 (as "f1") — not comparable with the paper.</li>
 *   <li>NWGI is also scored after FinLoRA's 7→3 mapping ({@link org.finlora.data.FinTask#NWGI_TO_3},
 *       the {@code dic} of FinLoRA's test/general_fin/nwgi.py and FinGPT's benchmark). FinLoRA's
 *       current test scores the 7 labels only; its older general_fin script kept {@code dic}
 *       commented out and mapped by substring instead ("mildly positive" → positive).</li>
 *   <li>Only when asked ({@code finlora eval --max-new-tokens N|auto}, {@link org.finlora.eval.NewTokenBudget}):
 *       another generation budget; auto = max(FinLoRA's value, longest label in tokens + 1) for small
 *       vocabularies that need more than FinLoRA's 10 tokens to spell a label. The budget used is recorded in
 *       each summary and in the report.</li>
 *   <li>Rows are validated before generation: empty targets, and targets outside a fixed label set,
 *       are errors naming file:line (FinLoRA would score them silently).</li>
 * </ul>
 */
package org.finlora.eval;
