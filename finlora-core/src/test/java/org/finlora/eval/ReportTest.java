package org.finlora.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ReportTest {
    @TempDir
    Path tmp;

    private static TaskResult r(String model, String task, String title, String metric, double acc, double f1, double acc3, double f13) {
        return new TaskResult(model, task, title, metric, 10, acc, f1, acc3, f13, 10, 8, 1.0, List.of());
    }

    @Test
    void writesTableCsvAndSelfContainedHtml() throws Exception {
        List<TaskResult> results = List.of(
                r("base", "fpb", "FPB", "CLASSIFICATION", 0.6873, 0.677, Double.NaN, Double.NaN),
                r("base", "nwgi", "NWGI", "CLASSIFICATION", 0.4386, 0.583, 0.61, 0.6),
                r("fpb<r8>", "fpb", "FPB", "CLASSIFICATION", 0.8564, 0.922, Double.NaN, Double.NaN),
                r("base", "xbrl_term", "XBRL Term", "TEXT_SIMILARITY", 0.1, 0.574, Double.NaN, Double.NaN));
        List<Path> files = Report.write(tmp, Report.rows(results));
        String md = Files.readString(files.get(0));
        assertTrue(md.contains("| Model | FPB | NWGI | NWGI (3 labels) | XBRL Term* |"), md);
        assertTrue(md.contains("| base | 68.73 / 0.677 | 43.86 / 0.583 | 61.00 / 0.600 | 10.00 / 0.574 |"), md);
        assertTrue(md.contains("| fpb<r8> | 85.64 / 0.922 | – | – | – |"), md);
        String csv = Files.readString(files.get(1));
        assertTrue(csv.startsWith("model,task,title,metric,examples,accuracy,f1\n"));
        assertTrue(csv.contains("base,nwgi_3class,NWGI (3 labels),CLASSIFICATION,10,0.610000,0.600000\n"), csv);
        assertEquals(6, csv.split("\n").length);
        String html = Files.readString(files.get(2));
        assertTrue(html.contains("<svg"));
        assertTrue(html.contains("fpb&lt;r8&gt;"));
        assertFalse(html.contains("fpb<r8>"), "labels are escaped");
        assertFalse(html.contains("<script"));
        assertFalse(html.contains("src="));
        assertFalse(html.contains("href="));
        // one bar per (model, column) with a value: base 4 columns + 3-class... base: fpb, nwgi, nwgi3, term = 4; fpb<r8>: 1 -> 5 per chart
        assertEquals(10, html.split("<rect x=\"\\d+\" y=\"\\d+\" width=\"12\" height=\"\\d+\" fill=\"#[0-9A-F]{6}\"><title>", -1).length - 1);
    }
}
