package org.finlora.eval;

import org.finlora.io.AtomicFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Comparison report in the shape of the FinLoRA paper's results table: one row per model (base
 * and each adapter), one column per task, each cell "accuracy / F1" (accuracy in %, F1 in [0,1]).
 * NWGI gets a second column scored after the 7→3 label mapping. Writes report.md, report.csv and
 * a self-contained report.html (inline SVG grouped bar charts), each atomically.
 */
public final class Report {
    private Report() {
    }

    /** One table row: a model label and its results (any order, at most one per task). */
    public record Row(String model, List<TaskResult> results) {
    }

    /** A table column: a task, or the 3-label view of a task. */
    record Column(String task, String title, boolean threeClass, boolean textSimilarity) {
    }

    /** Writes report.md, report.csv and report.html into {@code dir}; returns the three paths. */
    public static List<Path> write(Path dir, List<Row> rows) {
        List<Column> columns = columns(rows);
        Path md = dir.resolve("report.md"), csv = dir.resolve("report.csv"), html = dir.resolve("report.html");
        AtomicFiles.write(md, markdown(rows, columns));
        AtomicFiles.write(csv, csv(rows));
        AtomicFiles.write(html, html(rows, columns));
        return List.of(md, csv, html);
    }

    /** Rows grouped from a flat list of results, in order of first appearance of each model. */
    public static List<Row> rows(List<TaskResult> results) {
        Map<String, List<TaskResult>> byModel = new LinkedHashMap<>();
        for (TaskResult r : results) byModel.computeIfAbsent(r.model(), k -> new ArrayList<>()).add(r);
        List<Row> out = new ArrayList<>();
        for (var e : byModel.entrySet()) out.add(new Row(e.getKey(), e.getValue()));
        return out;
    }

    static List<Column> columns(List<Row> rows) {
        Map<String, Column> cols = new LinkedHashMap<>();
        for (Row row : rows) {
            for (TaskResult r : row.results()) {
                boolean text = "TEXT_SIMILARITY".equals(r.metric());
                cols.putIfAbsent(r.task(), new Column(r.task(), r.title(), false, text));
                if (r.hasThreeClass()) cols.putIfAbsent(r.task() + "#3", new Column(r.task(), r.title() + " (3 labels)", true, false));
            }
        }
        return new ArrayList<>(cols.values());
    }

    static TaskResult find(Row row, String task) {
        for (TaskResult r : row.results()) if (r.task().equals(task)) return r;
        return null;
    }

    static double acc(TaskResult r, Column c) {
        return c.threeClass() ? r.accuracy3() : r.accuracy();
    }

    static double f1(TaskResult r, Column c) {
        return c.threeClass() ? r.f13() : r.f1();
    }

    /** "85.64 / 0.922", or "–" when the model has no result for the column. */
    static String cell(TaskResult r, Column c) {
        if (r == null) return "–";
        return String.format(Locale.ROOT, "%.2f / %.3f", 100 * acc(r, c), f1(r, c));
    }

    static String markdown(List<Row> rows, List<Column> columns) {
        StringBuilder b = new StringBuilder();
        b.append("# FinLoRA-J evaluation\n\nCells: accuracy (%) / weighted F1.\n\n");
        b.append("| Model |");
        for (Column c : columns) b.append(' ').append(mdEscape(c.title())).append(c.textSimilarity() ? "*" : "").append(" |");
        b.append("\n|---|");
        for (int i = 0; i < columns.size(); i++) b.append("---:|");
        b.append('\n');
        for (Row row : rows) {
            b.append("| ").append(mdEscape(row.model())).append(" |");
            for (Column c : columns) b.append(' ').append(cell(find(row, c.task()), c)).append(" |");
            b.append('\n');
        }
        b.append('\n');
        boolean anyText = false, anyThree = false;
        for (Column c : columns) {
            anyText |= c.textSimilarity();
            anyThree |= c.threeClass();
        }
        if (anyText) {
            b.append("\\* exact match (%) / mean token F1 — a substitute for FinLoRA's BERTScore (ProsusAI/finbert), not comparable with the paper.\n");
        }
        if (anyThree) {
            b.append("(3 labels): NWGI scored after FinLoRA's 7→3 mapping (strong/moderately → polar, mildly → neutral).\n");
        }
        b.append("Scoring follows FinLoRA test/test_dataset.py: answer after the last \"Answer:\", earliest label substring, "
                + "sklearn weighted F1.\n");
        b.append("Max new tokens: ").append(mdEscape(budgets(rows))).append(".\n");
        return b.toString();
    }

    /**
     * The generation budget each task ran with, "FPB 10, NWGI 13", from the results (a task whose rows
     * ran with different budgets lists them all, "NWGI 10/13").
     */
    static String budgets(List<Row> rows) {
        Map<String, java.util.LinkedHashSet<Integer>> byTitle = new LinkedHashMap<>();
        for (Row row : rows) {
            for (TaskResult r : row.results()) byTitle.computeIfAbsent(r.title(), k -> new java.util.LinkedHashSet<>()).add(r.maxNewTokens());
        }
        List<String> parts = new ArrayList<>();
        for (var e : byTitle.entrySet()) {
            List<String> ns = new ArrayList<>();
            for (int n : e.getValue()) ns.add(Integer.toString(n));
            parts.add(e.getKey() + " " + String.join("/", ns));
        }
        return String.join(", ", parts);
    }

    static String csv(List<Row> rows) {
        StringBuilder b = new StringBuilder("model,task,title,metric,examples,accuracy,f1\n");
        for (Row row : rows) {
            for (TaskResult r : row.results()) {
                line(b, row.model(), r.task(), r.title(), r.metric(), r.examples(), r.accuracy(), r.f1());
                if (r.hasThreeClass()) line(b, row.model(), r.task() + "_3class", r.title() + " (3 labels)", r.metric(), r.examples(), r.accuracy3(), r.f13());
            }
        }
        return b.toString();
    }

    private static void line(StringBuilder b, String model, String task, String title, String metric, int n, double acc, double f1) {
        b.append(csvField(model)).append(',').append(csvField(task)).append(',').append(csvField(title)).append(',')
                .append(csvField(metric)).append(',').append(n).append(',')
                .append(String.format(Locale.ROOT, "%.6f,%.6f", acc, f1)).append('\n');
    }

    static String csvField(String s) {
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }

    static String mdEscape(String s) {
        return s.replace("|", "\\|").replace("\n", " ");
    }

    static String htmlEscape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** Fill colours for the models' bars (colour-blind-friendly palette, cycled). */
    private static final String[] COLORS = {"#4477AA", "#EE6677", "#228833", "#CCBB44", "#66CCEE", "#AA3377", "#BBBBBB", "#000000"};

    static String html(List<Row> rows, List<Column> columns) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>FinLoRA-J evaluation</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}")
                .append("th,td{border:1px solid #ccc;padding:4px 8px}td{text-align:right}td:first-child,th:first-child{text-align:left}")
                .append("th{background:#f3f3f3}.note{color:#555;font-size:90%}\n</style></head><body>\n")
                .append("<h1>FinLoRA-J evaluation</h1>\n<p>Cells: accuracy (%) / weighted F1.</p>\n<table>\n<tr><th>Model</th>");
        for (Column c : columns) b.append("<th>").append(htmlEscape(c.title())).append(c.textSimilarity() ? "*" : "").append("</th>");
        b.append("</tr>\n");
        for (Row row : rows) {
            b.append("<tr><td>").append(htmlEscape(row.model())).append("</td>");
            for (Column c : columns) b.append("<td>").append(cell(find(row, c.task()), c)).append("</td>");
            b.append("</tr>\n");
        }
        b.append("</table>\n");
        b.append("<p class=\"note\">* exact match / mean token F1, a substitute for FinLoRA's BERTScore. ")
                .append("Scoring follows FinLoRA test/test_dataset.py. Max new tokens: ").append(htmlEscape(budgets(rows))).append(".</p>\n");
        b.append("<h2>Accuracy (%)</h2>\n").append(svg(rows, columns, false));
        b.append("<h2>Weighted F1</h2>\n").append(svg(rows, columns, true));
        b.append("</body></html>\n");
        return b.toString();
    }

    /** Grouped bar chart: one group per column (task), one bar per model; values in [0,1] scaled to the axis. */
    static String svg(List<Row> rows, List<Column> columns, boolean f1) {
        int barW = 14, gap = 18, plotH = 220, left = 48, top = 16, bottom = 90, legendH = 20 * rows.size() + 10;
        int groupW = Math.max(1, rows.size()) * barW + gap;
        int width = left + columns.size() * groupW + 20;
        int height = top + plotH + bottom + legendH;
        StringBuilder s = new StringBuilder();
        s.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s\">\n",
                width, height, f1 ? "weighted F1 by task and model" : "accuracy by task and model"));
        for (int k = 0; k <= 4; k++) {
            double v = k / 4.0;
            int y = top + plotH - (int) Math.round(v * plotH);
            s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>", left, y, width - 10, y));
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
                    left - 6, y + 4, f1 ? String.format(Locale.ROOT, "%.2f", v) : String.valueOf(k * 25)));
        }
        for (int ci = 0; ci < columns.size(); ci++) {
            Column c = columns.get(ci);
            int gx = left + ci * groupW + gap / 2;
            for (int ri = 0; ri < rows.size(); ri++) {
                TaskResult r = find(rows.get(ri), c.task());
                if (r == null) continue;
                double v = f1 ? f1(r, c) : acc(r, c);
                if (Double.isNaN(v)) continue;
                v = Math.max(0, Math.min(1, v));
                int h = (int) Math.round(v * plotH);
                s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"><title>%s — %s: %s</title></rect>\n",
                        gx + ri * barW, top + plotH - h, barW - 2, h, COLORS[ri % COLORS.length],
                        htmlEscape(rows.get(ri).model()), htmlEscape(c.title()),
                        f1 ? String.format(Locale.ROOT, "%.3f", v) : String.format(Locale.ROOT, "%.2f%%", 100 * v)));
            }
            int lx = gx + rows.size() * barW / 2;
            int ly = top + plotH + 12;
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\" transform=\"rotate(-40 %d %d)\">%s</text>\n",
                    lx, ly, lx, ly, htmlEscape(c.title())));
        }
        s.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", left, top + plotH, width - 10, top + plotH));
        for (int ri = 0; ri < rows.size(); ri++) {
            int y = top + plotH + bottom + 20 * ri;
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" font-size=\"12\">%s</text>\n",
                    left, y, COLORS[ri % COLORS.length], left + 18, y + 11, htmlEscape(rows.get(ri).model())));
        }
        s.append("</svg>\n");
        return s.toString();
    }
}
