package org.finlora.data;

import org.finlora.FinloraException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A FinLoRA evaluation task: its prompt format(s), label set, max new tokens, metric, default
 * files in the shared data folder and the public sources FinLoRA took it from.
 *
 * <p>Sources of every constant (FinLoRA repository wangd12rpi/FinLoRA): instructions from
 * {@code data/process_sentiment_train.py}, {@code data/process_finer.py} and the {@code data/test}
 * files; max new tokens from {@code test/test_dataset.py::max_new_token_dict}; Hugging Face ids from
 * the README's dataset table and the processing scripts (both listed where they differ).
 *
 * <p>Prompt formats are written with {@code <name>} placeholders for the variable parts; {@link
 * #matchesFormat} checks a context against them.
 */
public final class FinTask {

    /** How answers are scored. */
    public enum Metric {
        /** FinLoRA's earliest-label substring rule over set(targets): accuracy and weighted F1. */
        CLASSIFICATION,
        /** FiNER/FNXL: comma-split answers padded/truncated to the target count, then CLASSIFICATION per tag. */
        TAG_LIST,
        /**
         * Free text. FinLoRA scores it with BERTScore (ProsusAI/finbert); we cannot run FinBERT here,
         * so we report exact match and mean token F1 instead (see eval.Metrics#textSimilarity).
         */
        TEXT_SIMILARITY
    }

    /** A dataset on the Hugging Face Hub (repo type dataset); config/split/file are null when not applicable or not known. */
    public record HfSource(String repo, String config, String split, String file, String note) {
    }

    /** Placeholders in prompt formats; declared before ALL, which uses it. */
    private static final Pattern PLACEHOLDER = Pattern.compile("<[a-z]+>");

    private static final String SENTIMENT3 = "{negative/neutral/positive}";
    private static final String NEWS = "What is the sentiment of this news? Please choose an answer from " + SENTIMENT3 + ".";
    private static final String TWEET = "What is the sentiment of this tweet? Please choose an answer from " + SENTIMENT3 + ".";
    private static final String NWGI_INSTRUCTION = "What is the sentiment of this news? Please choose an answer from "
            + "{strong negative/moderately negative/mildly negative/neutral/mildly positive/moderately positive/strong positive}.";
    private static final String XBRL_EXTRACT = "\"You are a knowledgeable XBRL assistant that can answer questions based on XML data. <preamble>"
            + "XBRL file:<xbrl>Question: <question>Answer:";

    /** FinLoRA's NWGI 7→3 mapping ({@code dic} in test/general_fin/nwgi.py; FinGPT's benchmark uses the same). */
    public static final Map<String, String> NWGI_TO_3 = orderedMap(
            "strong negative", "negative",
            "moderately negative", "negative",
            "mildly negative", "neutral",
            "neutral", "neutral",
            "mildly positive", "neutral",
            "moderately positive", "positive",
            "strong positive", "positive");

    private static final List<FinTask> ALL = List.of(
            new FinTask("fpb", "FPB", Metric.CLASSIFICATION, List.of("negative", "neutral", "positive"), 10,
                    List.of(instr(NEWS)), "fpb_dev.jsonl", List.of("fpb_train.jsonl"),
                    List.of(new HfSource("TheFinAI/en-fpb", null, "test", null, "FinLoRA README dataset table"),
                            new HfSource("financial_phrasebank", "sentences_50agree", "train", null,
                                    "FinLoRA data/process_sentiment_train.py: train_test_split(test_size=0.25, seed=42)")),
                    List.of(), null, "Financial PhraseBank, 3 labels."),
            new FinTask("fiqa", "FiQA SA", Metric.CLASSIFICATION, List.of("negative", "neutral", "positive"), 10,
                    List.of(instr(NEWS), instr(TWEET)), "fiqa_dev.jsonl", List.of("fiqa_train.jsonl"),
                    List.of(new HfSource("TheFinAI/fiqa-sentiment-classification", null, "test", null, "FinLoRA README dataset table"),
                            new HfSource("ChanceFocus/flare-fiqasa", null, "train", null,
                                    "FinLoRA data/process_sentiment_train.py; 'tweet' instruction for posts, 'news' for headlines")),
                    List.of("fiqa_sa"), null, "FiQA-2018 task 1; scores < -0.1 negative, < 0.1 neutral, else positive."),
            new FinTask("tfns", "TFNS", Metric.CLASSIFICATION, List.of("negative", "neutral", "positive"), 10,
                    List.of(instr(TWEET)), "tfns_dev.jsonl", List.of("tfns_train.jsonl"),
                    List.of(new HfSource("zeroshot/twitter-financial-news-sentiment", null, "train", "sent_train.csv",
                                    "label ids 0/1/2 mapped to negative/neutral/positive by FinLoRA (the card says Bearish/Bullish/Neutral)"),
                            new HfSource("zeroshot/twitter-financial-news-sentiment", null, "validation", null,
                                    "FinLoRA's tfns test = the validation split (2388 rows)")),
                    List.of(), null, "Twitter Financial News; FinLoRA's label names (see shared/data/README caveat)."),
            new FinTask("nwgi", "NWGI", Metric.CLASSIFICATION,
                    List.of("strong negative", "moderately negative", "mildly negative", "neutral",
                            "mildly positive", "moderately positive", "strong positive"), 10,
                    List.of(instr(NWGI_INSTRUCTION)), "nwgi_dev.jsonl", List.of("nwgi_train.jsonl"),
                    List.of(new HfSource("TheFinAI/NWGI_test", null, "test", null, "FinLoRA README dataset table"),
                            new HfSource("oliverwang15/news_with_gpt_instructions", null, "train", null,
                                    "FinLoRA data/process_sentiment_train.py (train and test splits)")),
                    List.of(), NWGI_TO_3, "News With GPT Instructions, 7 labels; also scored mapped to 3 labels."),
            new FinTask("headline", "Headline", Metric.CLASSIFICATION, List.of("Yes", "No"), 10,
                    List.of("Instruction: Does the news headline <question>? Please choose an answer from {Yes/No}.\nInput: <input>\nAnswer: "),
                    "headline_dev.jsonl", List.of("headline_train_part1.jsonl", "headline_train_part2.jsonl", "headline_train_part3.jsonl"),
                    List.of(new HfSource("FinGPT/fingpt-headline-cls", null, "test", null, "FinLoRA README dataset table and test/general_fin/headline.py"),
                            new HfSource("FinGPT/fingpt-headline", null, "train", null, "FinLoRA data/process_sentiment_train.py")),
                    List.of(), null, "Gold commodity news headlines, Yes/No questions."),
            new FinTask("ner", "NER", Metric.CLASSIFICATION, List.of("person", "organization", "location"), 10,
                    List.of("Instruction: <instruction>\nOptions: <options>\nInput: <input>\nAnswer: "),
                    "ner_dev.jsonl", List.of("ner_train_part1.jsonl", "ner_train_part2.jsonl", "ner_train_part3.jsonl"),
                    List.of(new HfSource("FinGPT/fingpt-ner-cls", null, "test", null, "FinLoRA README dataset table and process_sentiment_train.py")),
                    List.of(), null, "Entity type of a span (17 instruction templates, shuffled options)."),
            new FinTask("finer", "FiNER", Metric.TAG_LIST, List.of(), 100,
                    List.of("You are XBRL expert.  Here is a list of US GAAP tags options: <tags>. Answer the following 4 independent questions "
                            + "by providing only  4 US GAAP tags answers in the order of the questions. Each answer must be saperated by a comma (,).  "
                            + "Provide nothing else. \n<questions>\nOutput US GAAP tags:"),
                    null, List.of(),
                    List.of(new HfSource("nlpaueb/finer-139", null, "test", null,
                            "FinLoRA data/process_finer.py batches 4 questions per prompt (finer_test_batched.jsonl)")),
                    List.of("xbrl_finer", "finer139"), null, "FiNER-139 XBRL tagging; labels are the 139 US GAAP tags found in the targets."),
            new FinTask("fnxl", "FNXL", Metric.TAG_LIST, List.of(), 100,
                    List.of("You are XBRL expert. <rest>"), null, List.of(), List.of(),
                    List.of("xbrl_fnxl"), null, "FNXL XBRL tagging (GitHub soummyaah/FNXL; FinLoRA data/test/fnxl_test_batched.jsonl)."),
            new FinTask("xbrl_tag", "Tag Extraction", Metric.CLASSIFICATION, List.of(), 20,
                    List.of(XBRL_EXTRACT), null, List.of(),
                    List.of(new HfSource("wangd12/XBRL_analysis", null, "test", null, "FinLoRA README dataset table; data/test/xbrl_extract_tags_test.jsonl")),
                    List.of("xbrl_tags_extract", "xbrl_tags"), null, "US GAAP tag asked about in an XBRL excerpt; labels = set of targets."),
            new FinTask("xbrl_value", "Value Extraction", Metric.CLASSIFICATION, List.of(), 20,
                    List.of(XBRL_EXTRACT), null, List.of(),
                    List.of(new HfSource("wangd12/XBRL_analysis", null, "test", null, "FinLoRA README dataset table; data/test/xbrl_extract_value_test.jsonl")),
                    List.of("xbrl_value_extract"), null, "Reported value asked about in an XBRL excerpt; labels = set of targets."),
            new FinTask("xbrl_formula", "Formula Construction", Metric.CLASSIFICATION, List.of(), 30,
                    List.of(XBRL_EXTRACT), null, List.of(),
                    List.of(new HfSource("wangd12/XBRL_analysis", null, "test", null, "FinLoRA README dataset table; data/test/xbrl_extract_formula_test.jsonl")),
                    List.of("xbrl_formula_extract"), null, "Formula over XBRL tags; labels = set of targets."),
            new FinTask("xbrl_formula_calc", "Formula Calculation", Metric.CLASSIFICATION, List.of(), 30,
                    List.of(XBRL_EXTRACT), null, List.of(),
                    List.of(new HfSource("wangd12/XBRL_analysis", null, "test", null,
                            "FinLoRA README dataset table; data/test/xbrl_extract_formula_calculations_test.jsonl")),
                    List.of("xbrl_formula_calc_extract"), null, "Formula with values filled in; labels = set of targets."),
            new FinTask("xbrl_term", "XBRL Term", Metric.TEXT_SIMILARITY, List.of(), 50,
                    List.of("Explain this XBRL term briefly in one sentence: <term>. Answer:"),
                    "xbrl_term_dev.jsonl", List.of("xbrl_term_train.jsonl"), List.of(),
                    List.of(), null, "Definition of an XBRL term (GitHub KirkHan0920/XBRL-Agent; FinLoRA data/train/xbrl_term_train.jsonl). "
                    + "FinLoRA: BERTScore/FinBERT; here exact match + token F1."),
            new FinTask("formula", "Financial Math", Metric.CLASSIFICATION, List.of(), 50,
                    List.of("Use formula <name> to answer the question. Answer with a numerical answer with 2 decimal places and with no "
                            + "explanations or other text. Formula: <formula>. Question: <question>. Answer:"),
                    "formula_dev.jsonl", List.of("formula_train.jsonl"), List.of(),
                    List.of("financial_math"), null, "Numeric answer to a finance formula question (GitHub KirkHan0920/XBRL-Agent); labels = set of targets."),
            new FinTask("financebench", "FinanceBench", Metric.TEXT_SIMILARITY, List.of(), 50,
                    List.of("Answer the following question very briefly using scanned text from pages. No explanation needed. "
                            + "Question: <question>\nDocument Pages Context:\n<pages>\n\nAnswer:"),
                    "financebench_dev.jsonl", List.of("financebench_train.jsonl"), List.of(),
                    List.of(), null, "Questions over 10-K pages (GitHub KirkHan0920/XBRL-Agent). FinLoRA: BERTScore/FinBERT; here exact match + token F1."));

    private final String name;
    private final String title;
    private final Metric metric;
    private final List<String> labels;
    private final int maxNewTokens;
    private final List<String> promptFormats;
    private final List<Pattern> promptPatterns;
    private final String devFile;
    private final List<String> trainFiles;
    private final List<HfSource> hfSources;
    private final List<String> aliases;
    private final Map<String, String> threeClassMap;
    private final String description;

    private FinTask(String name, String title, Metric metric, List<String> labels, int maxNewTokens, List<String> promptFormats,
                    String devFile, List<String> trainFiles, List<HfSource> hfSources, List<String> aliases,
                    Map<String, String> threeClassMap, String description) {
        this.name = name;
        this.title = title;
        this.metric = metric;
        this.labels = List.copyOf(labels);
        this.maxNewTokens = maxNewTokens;
        this.promptFormats = List.copyOf(promptFormats);
        List<Pattern> patterns = new ArrayList<>();
        for (String f : promptFormats) patterns.add(formatPattern(f));
        this.promptPatterns = List.copyOf(patterns);
        this.devFile = devFile;
        this.trainFiles = List.copyOf(trainFiles);
        this.hfSources = List.copyOf(hfSources);
        this.aliases = List.copyOf(aliases);
        this.threeClassMap = threeClassMap;
        this.description = description;
    }

    /** All known tasks, in the order of the FinLoRA paper's tables. */
    public static List<FinTask> all() {
        return ALL;
    }

    /** The task with this name or alias (case-insensitive); otherwise an error listing the known names. */
    public static FinTask byName(String name) {
        String key = name == null ? "" : name.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (FinTask t : ALL) {
            if (t.name.equals(key) || t.aliases.contains(key)) return t;
        }
        throw new FinloraException("unknown task '" + name + "' (known tasks: " + String.join(", ", names()) + ")");
    }

    /**
     * The task of a data file given without --task: the task whose name or alias starts the file
     * name ("fpb_dev.jsonl" → fpb; the longest such name wins), else the first task (in {@link
     * #all()} order) whose prompt format every row matches; otherwise an error asking for --task.
     */
    public static FinTask infer(Path file, List<Example> rows) {
        String base = file.getFileName().toString().toLowerCase(Locale.ROOT).replace('-', '_');
        FinTask best = null;
        int bestLen = -1;
        for (FinTask t : ALL) {
            List<String> keys = new ArrayList<>(t.aliases);
            keys.add(t.name);
            for (String k : keys) {
                if (k.length() > bestLen && base.startsWith(k) && base.length() > k.length()
                        && "_.".indexOf(base.charAt(k.length())) >= 0) {
                    best = t;
                    bestLen = k.length();
                }
            }
        }
        if (best != null) return best;
        if (!rows.isEmpty()) {
            for (FinTask t : ALL) {
                boolean all = true;
                for (Example e : rows) {
                    if (!t.matchesFormat(e.context())) {
                        all = false;
                        break;
                    }
                }
                if (all) return t;
            }
        }
        throw new FinloraException(file + ": cannot tell which task this data is for; pass --task (known tasks: "
                + String.join(", ", names()) + ")");
    }

    public static List<String> names() {
        List<String> out = new ArrayList<>();
        for (FinTask t : ALL) out.add(t.name);
        return out;
    }

    public String name() {
        return name;
    }

    /** Column title as in the FinLoRA paper (e.g. "FiQA SA"). */
    public String title() {
        return title;
    }

    public Metric metric() {
        return metric;
    }

    /**
     * The task's fixed label set (empty when labels are open-ended and taken from the data, as
     * FinLoRA always does for scoring: labels = set(targets)).
     */
    public List<String> labels() {
        return labels;
    }

    /**
     * FinLoRA's max_new_tokens for this task (test/test_dataset.py at commit 9f32953; its default
     * is 30). That version gives "formula" (financial math) 50 and xbrl_formula(_calc)_extract 30;
     * an older version gave xbrl_tags_extract 10 (now 20).
     */
    public int maxNewTokens() {
        return maxNewTokens;
    }

    /** Prompt format(s) with {@code <name>} placeholders. */
    public List<String> promptFormats() {
        return promptFormats;
    }

    /** True if the context has one of this task's prompt formats. */
    public boolean matchesFormat(String context) {
        for (Pattern p : promptPatterns) {
            if (p.matcher(context).matches()) return true;
        }
        return false;
    }

    /**
     * Fills a one-placeholder format ({@code Instruction: ...\nInput: <input>\nAnswer: }) with the
     * input text. {@code variant} picks the format (fiqa: 0 = news, 1 = tweet).
     */
    public String prompt(int variant, String input) {
        String f = promptFormats.get(variant);
        Matcher m = PLACEHOLDER.matcher(f);
        int count = 0;
        while (m.find()) count++;
        if (count != 1 || !f.contains("<input>")) {
            throw new IllegalStateException("task " + name + " format " + variant + " needs more than an input: " + f);
        }
        return f.replace("<input>", input);
    }

    public String prompt(String input) {
        return prompt(0, input);
    }

    /** FinLoRA's 7→3 label mapping for NWGI, else null. */
    public Map<String, String> threeClassMap() {
        return threeClassMap;
    }

    public List<HfSource> hfSources() {
        return hfSources;
    }

    public List<String> aliases() {
        return aliases;
    }

    public String description() {
        return description;
    }

    /** Default dev file name in the shared data folder, or null. */
    public String devFile() {
        return devFile;
    }

    public List<String> trainFiles() {
        return trainFiles;
    }

    /** The dev file in {@code dataDir}; an error naming the task if it has none. */
    public Path devPath(Path dataDir) {
        if (devFile == null) {
            throw new FinloraException("task " + name + " has no default data file in " + dataDir + "; pass --data FILE");
        }
        return dataDir.resolve(devFile);
    }

    public List<Path> trainPaths(Path dataDir) {
        List<Path> out = new ArrayList<>();
        for (String f : trainFiles) out.add(dataDir.resolve(f));
        return out;
    }

    /** Instruction-style prompt: "Instruction: I\nInput: X\nAnswer: " (FinLoRA's format_example). */
    public static String instructionPrompt(String instruction, String input) {
        return "Instruction: " + instruction + "\nInput: " + input + "\nAnswer: ";
    }

    /**
     * FinLoRA's format_example for FinGPT-style rows (instruction, input, output): "Instruction:
     * I\n", then "Input: X\n" only when the input is non-empty, then "Answer: ".
     */
    public static String formatExample(String instruction, String input) {
        return "Instruction: " + instruction + "\n" + (input == null || input.isEmpty() ? "" : "Input: " + input + "\n") + "Answer: ";
    }

    @Override
    public String toString() {
        return name;
    }

    private static String instr(String instruction) {
        return instructionPrompt(instruction, "<input>");
    }

    private static Pattern formatPattern(String format) {
        StringBuilder re = new StringBuilder();
        Matcher m = PLACEHOLDER.matcher(format);
        int last = 0;
        while (m.find()) {
            re.append(Pattern.quote(format.substring(last, m.start()))).append("(.*?)");
            last = m.end();
        }
        re.append(Pattern.quote(format.substring(last)));
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    private static Map<String, String> orderedMap(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }
}
