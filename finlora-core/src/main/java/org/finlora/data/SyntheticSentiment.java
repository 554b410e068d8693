package org.finlora.data;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A made-up financial news sentiment dataset in FinLoRA's FPB format, built from this project's
 * own templates and word lists (no copied text). Labels are balanced and deterministic per seed.
 *
 * <p>The label follows from clear wording, but not from one token alone: about a third of the
 * sentences need a direction verb combined with whether the metric is good or bad ("costs rose"
 * is negative, "sales rose" positive), some positive/negative sentences open with a concession of
 * the opposite polarity ("Despite ..., X raised its outlook"), and no input contains a label word.
 */
public final class SyntheticSentiment {
    private SyntheticSentiment() {
    }

    /** Train and dev sets with no sentence in common. */
    public record Split(List<Example> train, List<Example> dev) {
    }

    public static final List<String> LABELS = List.of("negative", "neutral", "positive");

    private static final String[] COMPANIES = {
            "Nordvik Holdings", "Brightwater Capital", "Kestrel Logistics", "Aurelia Foods", "Halden Steelworks",
            "Marrow Pharma", "Tidewell Energy", "Copperline Mining", "Silverbirch Bank", "Orvo Telecom",
            "Lumen Paperworks", "Gannet Shipping", "Quarry Hill Cement", "Vesta Retail Group", "Ironleaf Machinery",
            "Polaris Insurance", "Redfern Chemicals", "Saltmarsh Fisheries", "Amberly Textiles", "Crestmoor Software",
            "Fjordline Airways", "Westgate Realty", "Pinecrest Utilities", "Harrow Motors", "Delmar Electronics"};
    /** Metrics where up is good. */
    private static final String[] GOOD_METRICS = {
            "net sales", "operating profit", "order intake", "quarterly revenue", "free cash flow", "earnings per share",
            "gross margin", "net profit", "market share", "order backlog", "comparable sales", "operating margin"};
    /** Metrics where up is bad. */
    private static final String[] BAD_METRICS = {
            "operating costs", "net debt", "loan losses", "production costs", "customer churn", "raw material costs",
            "warranty expenses", "inventory write-downs", "financing costs"};
    /** Metrics that are amounts of money (for "was flat at EUR 12.3 mn"). */
    private static final String[] AMOUNT_METRICS = {"net sales", "quarterly revenue", "order intake", "net profit", "operating profit"};
    private static final String[] UP = {"rose", "climbed", "increased", "jumped", "grew", "surged"};
    private static final String[] DOWN = {"fell", "declined", "dropped", "slipped", "shrank", "tumbled"};
    private static final String[] PERIODS = {
            "in the first quarter", "in the second quarter", "in the third quarter", "in the fourth quarter",
            "in the first half of the year", "year on year", "compared with a year earlier", "in the period under review"};
    private static final String[] CURRENCIES = {"EUR", "USD", "SEK", "NOK", "GBP"};
    private static final String[] CITIES = {"Oslo", "Tampere", "Lyon", "Gdansk", "Porto", "Leeds", "Aarhus", "Graz", "Ghent", "Turku"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December"};
    private static final String[] GOOD_EVENTS = {
            "beat analyst expectations", "raised its full-year outlook", "won a large supply contract",
            "was upgraded to buy by analysts", "reported record earnings", "announced a higher dividend",
            "secured new orders worth %s %d million", "returned to profit", "expanded its margins"};
    private static final String[] BAD_EVENTS = {
            "missed analyst expectations", "cut its full-year outlook", "lost its largest customer",
            "was downgraded to sell by analysts", "issued a profit warning", "suspended its dividend",
            "announced layoffs of %d employees", "swung to a loss", "faces a costly product recall"};
    private static final String[] NEUTRAL_EVENTS = {
            "will publish its interim report on %d %s", "appointed a new chief financial officer",
            "will hold its annual general meeting in %s", "moved its head office to %s",
            "kept its outlook unchanged", "completed the previously announced name change",
            "said the board will meet on %d %s", "listed its shares on the %s exchange",
            "renewed its framework agreement with the city of %s"};
    private static final String[] GOOD_CONCESSIONS = {"higher %s", "strong %s", "a rise in %s"};
    private static final String[] BAD_CONCESSIONS = {"weaker %s", "a drop in %s", "lower %s"};

    /** {@code n} examples (n/3 per label, remainder to the first labels), shuffled; deterministic per seed. */
    public static List<Example> generate(int n, long seed) {
        return split(n, 0, seed).train();
    }

    /** Balanced train and dev sets with distinct sentences; deterministic per seed. */
    public static Split split(int trainSize, int devSize, long seed) {
        if (trainSize < 0 || devSize < 0) throw new IllegalArgumentException("sizes must be >= 0");
        Random rnd = new Random(seed);
        Set<String> seen = new HashSet<>();
        List<Example> dev = balanced(devSize, rnd, seen);
        List<Example> train = balanced(trainSize, rnd, seen);
        return new Split(train, dev);
    }

    private static List<Example> balanced(int n, Random rnd, Set<String> seen) {
        List<Example> out = new ArrayList<>(n);
        FinTask fpb = FinTask.byName("fpb");
        for (int i = 0; i < n; i++) {
            int label = i % 3;
            String sentence;
            int tries = 0;
            do {
                sentence = sentence(label, rnd);
                if (++tries > 10_000) throw new IllegalStateException("cannot make " + n + " distinct sentences");
            } while (!seen.add(sentence));
            out.add(new Example(fpb.prompt(sentence), LABELS.get(label), Map.of(), "synthetic:" + i));
        }
        // Fisher-Yates with the same generator, so the order is deterministic too.
        for (int i = out.size() - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            Example t = out.get(i);
            out.set(i, out.get(j));
            out.set(j, t);
        }
        return out;
    }

    /** One sentence with the given label (0 negative, 1 neutral, 2 positive). */
    static String sentence(int label, Random rnd) {
        String company = pick(COMPANIES, rnd);
        if (label == 1) {
            if (rnd.nextInt(4) == 0) {
                return company + " said " + pick(AMOUNT_METRICS, rnd) + " was flat " + pick(PERIODS, rnd) + " at "
                        + amount(rnd) + " .";
            }
            return company + " " + fill(pick(NEUTRAL_EVENTS, rnd), rnd) + " .";
        }
        boolean positive = label == 2;
        int form = rnd.nextInt(10);
        String clause;
        if (form < 4) {
            // direction x metric: only the pair says which way it goes
            boolean goodMetric = rnd.nextBoolean();
            boolean up = positive == goodMetric;
            String metric = goodMetric ? pick(GOOD_METRICS, rnd) : pick(BAD_METRICS, rnd);
            clause = "the " + metric + " of " + company + " " + (up ? pick(UP, rnd) : pick(DOWN, rnd)) + " by "
                    + (1 + rnd.nextInt(40)) + " % " + pick(PERIODS, rnd);
            clause = Character.toUpperCase(clause.charAt(0)) + clause.substring(1);
        } else {
            clause = company + " " + fill(positive ? pick(GOOD_EVENTS, rnd) : pick(BAD_EVENTS, rnd), rnd);
        }
        if (form >= 8) {
            // a concession of the opposite polarity before the main clause
            String concession = String.format(positive ? pick(BAD_CONCESSIONS, rnd) : pick(GOOD_CONCESSIONS, rnd), pick(GOOD_METRICS, rnd));
            if (clause.startsWith("The ")) clause = "the " + clause.substring(4);
            clause = "Despite " + concession + " , " + clause;
        }
        return clause + " .";
    }

    private static String fill(String template, Random rnd) {
        return switch (template.replaceAll("[^%]", "").length()) {
            case 0 -> template;
            default -> {
                if (template.contains("%s %d million")) yield String.format(template, pick(CURRENCIES, rnd), 5 + rnd.nextInt(400));
                if (template.contains("%d employees")) yield String.format(template, 20 + rnd.nextInt(900));
                if (template.contains("%d %s")) yield String.format(template, 1 + rnd.nextInt(28), pick(MONTHS, rnd));
                if (template.contains("the %s exchange")) yield String.format(template, pick(CITIES, rnd));
                yield String.format(template, pick(CITIES, rnd));
            }
        };
    }

    private static String amount(Random rnd) {
        return pick(CURRENCIES, rnd) + " " + (1 + rnd.nextInt(900)) + "." + rnd.nextInt(10) + " mn";
    }

    private static String pick(String[] words, Random rnd) {
        return words[rnd.nextInt(words.length)];
    }
}
