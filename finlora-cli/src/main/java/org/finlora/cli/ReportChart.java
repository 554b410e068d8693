package org.finlora.cli;

import org.finlora.eval.TaskResult;
import org.finlora.io.AtomicFiles;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * report.png: grouped bar charts (XChart) of an eval run, accuracy (%) on top and weighted F1 below,
 * one group per task (NWGI also on its 3 labels), one bar per model. Written atomically.
 */
final class ReportChart {
    static final int WIDTH = 1000, CHART_HEIGHT = 420;
    /** Bar colours per model, cycled (the palette of eval.Report's HTML charts). */
    static final Color[] COLORS = {new Color(0x4477AA), new Color(0xEE6677), new Color(0x228833), new Color(0xCCBB44),
            new Color(0x66CCEE), new Color(0xAA3377), new Color(0xBBBBBB), new Color(0x000000)};

    private ReportChart() {
    }

    /** Task column titles in order of first appearance, and each model's (accuracy, f1) per column. */
    record Table(List<String> columns, Map<String, Map<String, double[]>> byModel) {
    }

    static Table table(List<TaskResult> results) {
        Set<String> columns = new LinkedHashSet<>();
        Map<String, Map<String, double[]>> byModel = new LinkedHashMap<>();
        for (TaskResult r : results) {
            Map<String, double[]> row = byModel.computeIfAbsent(r.model(), k -> new LinkedHashMap<>());
            columns.add(r.title());
            row.put(r.title(), new double[]{r.accuracy(), r.f1()});
            if (r.hasThreeClass()) {
                String t3 = r.title() + " (3 labels)";
                columns.add(t3);
                row.put(t3, new double[]{r.accuracy3(), r.f13()});
            }
        }
        return new Table(new ArrayList<>(columns), byModel);
    }

    static CategoryChart chart(Table t, boolean f1) {
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(CHART_HEIGHT)
                .title(f1 ? "Weighted F1 by task" : "Accuracy (%) by task").xAxisTitle("task").yAxisTitle(f1 ? "weighted F1" : "accuracy (%)").build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(f1 ? 1.0 : 100.0);
        chart.getStyler().setLabelsVisible(false);
        chart.getStyler().setSeriesColors(COLORS);
        if (t.columns().size() > 4) chart.getStyler().setXAxisLabelRotation(30);
        for (var e : t.byModel().entrySet()) {
            List<Double> values = new ArrayList<>();
            for (String c : t.columns()) {
                double[] v = e.getValue().get(c);
                double x = v == null ? 0 : v[f1 ? 1 : 0];
                values.add(Double.isNaN(x) ? 0 : f1 ? x : 100 * x);
            }
            chart.addSeries(e.getKey(), t.columns(), values);
        }
        return chart;
    }

    /** Both charts stacked in one PNG image. */
    static BufferedImage image(List<TaskResult> results) {
        if (results.isEmpty()) throw new IllegalArgumentException("no results to chart");
        Table t = table(results);
        BufferedImage img = new BufferedImage(WIDTH, 2 * CHART_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, 2 * CHART_HEIGHT);
            chart(t, false).paint(g, WIDTH, CHART_HEIGHT);
            g.translate(0, CHART_HEIGHT);
            chart(t, true).paint(g, WIDTH, CHART_HEIGHT);
        } finally {
            g.dispose();
        }
        return img;
    }

    static void writePng(Path target, List<TaskResult> results) {
        System.setProperty("java.awt.headless", "true");   // servers and CI have no display
        BufferedImage img = image(results);
        Path tmp = null;
        try {
            tmp = AtomicFiles.tempBeside(target);
            if (!ImageIO.write(img, "png", tmp.toFile())) throw new IOException("no PNG writer");
            AtomicFiles.moveIntoPlace(tmp, target);
            tmp = null;
        } catch (IOException e) {
            throw AtomicFiles.writeError(target, e);
        } finally {
            AtomicFiles.deleteQuietly(tmp);
        }
    }
}
