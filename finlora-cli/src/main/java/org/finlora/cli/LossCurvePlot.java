package org.finlora.cli;

import org.finlora.FinloraException;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/** The loss-curve PNG of a finetune run: train loss per step and eval loss per evaluation (XChart). */
final class LossCurvePlot {
    private LossCurvePlot() {
    }

    static void write(Path png, List<double[]> train, List<double[]> eval, String title) {
        if (train.isEmpty()) return;
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle("step").yAxisTitle("loss").build();
        chart.addSeries("train", column(train, 0), column(train, 1)).setMarker(SeriesMarkers.NONE);
        if (!eval.isEmpty()) chart.addSeries("eval", column(eval, 0), column(eval, 1)).setMarker(SeriesMarkers.CIRCLE);
        Path tmp = null;
        try {
            tmp = org.finlora.io.AtomicFiles.tempBeside(png);
            try (var out = Files.newOutputStream(tmp)) {
                BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            }
            Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            tmp = null;
        } catch (IOException e) {
            throw new FinloraException(png + ": cannot write the loss curve (" + e.getMessage() + ")", e);
        } finally {
            if (tmp != null) try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // our own temp file
            }
        }
    }

    private static double[] column(List<double[]> pts, int c) {
        double[] out = new double[pts.size()];
        for (int i = 0; i < out.length; i++) out[i] = pts.get(i)[c];
        return out;
    }
}
