package org.finlora.cli;

import org.finlora.eval.TaskResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** report.png: bar areas proportional to the scores, per model colour, accuracy chart above F1 chart. */
class ReportChartTest {
    static TaskResult result(String model, String task, double acc, double f1, double acc3, double f13) {
        return new TaskResult(model, task, task.toUpperCase(), "CLASSIFICATION", 10, acc, f1, acc3, f13, 10, 8, 1.0, List.of());
    }

    /** Pixels of exactly this colour in rows [y0, y1). */
    static int count(BufferedImage img, int rgb, int y0, int y1) {
        int n = 0;
        for (int y = y0; y < y1; y++) for (int x = 0; x < img.getWidth(); x++) if ((img.getRGB(x, y) & 0xFFFFFF) == rgb) n++;
        return n;
    }

    @Test
    void barAreasFollowTheScores(@TempDir Path dir) throws Exception {
        // base: accuracy 0.2 on both tasks, F1 0.6; adapter: accuracy 0.6, F1 0.3; NWGI adds a 3-label column
        List<TaskResult> rs = List.of(
                result("base", "fpb", 0.2, 0.6, Double.NaN, Double.NaN), result("base", "nwgi", 0.2, 0.6, 0.2, 0.6),
                result("fpb_r8", "fpb", 0.6, 0.3, Double.NaN, Double.NaN), result("fpb_r8", "nwgi", 0.6, 0.3, 0.6, 0.3));
        assertEquals(List.of("FPB", "NWGI", "NWGI (3 labels)"), ReportChart.table(rs).columns());
        Path png = dir.resolve("report.png");
        ReportChart.writePng(png, rs);
        BufferedImage img = ImageIO.read(png.toFile());
        int h = ReportChart.CHART_HEIGHT;
        int baseRgb = ReportChart.COLORS[0].getRGB() & 0xFFFFFF, adRgb = ReportChart.COLORS[1].getRGB() & 0xFFFFFF;
        // legend squares are the same in both charts, so differences of counts between the charts cancel them
        double accBase = count(img, baseRgb, 0, h), accAd = count(img, adRgb, 0, h);
        double f1Base = count(img, baseRgb, h, 2 * h), f1Ad = count(img, adRgb, h, 2 * h);
        assertTrue(accAd > accBase && f1Base > f1Ad, accBase + " " + accAd + " " + f1Base + " " + f1Ad);
        // base bars: 0.6 (F1) vs 0.2 (accuracy) of the axis → +0.4 axis-heights; adapter: 0.3 vs 0.6 → -0.3
        double baseGain = f1Base - accBase, adLoss = accAd - f1Ad;
        assertEquals(4.0 / 3.0, baseGain / adLoss, 0.1, baseGain + " / " + adLoss);
    }
}
