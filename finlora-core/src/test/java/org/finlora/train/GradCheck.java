package org.finlora.train;

import java.util.Random;
import java.util.function.DoubleSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Central finite differences against an analytic gradient. */
public final class GradCheck {
    private GradCheck() {
    }

    public static float[] randn(Random rng, int n, float scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (rng.nextGaussian() * scale);
        return x;
    }

    /** sum_i a[i] * b[i] in double: a scalar loss with a random direction. */
    public static double dot(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) s += (double) a[i] * b[i];
        return s;
    }

    /**
     * Perturbs each of param[0..n) by ±eps, recomputes loss, and compares (l+ - l-)/2eps with
     * analytic[i]: |fd - an| <= tol * (|fd| + |an|) + atol, where atol = tol * max|an| / 10.
     * Also fails when the analytic gradient is identically zero.
     */
    public static void check(String name, float[] param, float[] analytic, int n, DoubleSupplier loss, float eps, double tol) {
        double maxAn = 0;
        for (int i = 0; i < n; i++) maxAn = Math.max(maxAn, Math.abs(analytic[i]));
        assertTrue(maxAn > 0, name + ": analytic gradient is all zero");
        double atol = tol * maxAn / 10;
        double worst = 0;
        int worstI = -1;
        double worstFd = 0;
        for (int i = 0; i < n; i++) {
            float old = param[i];
            param[i] = old + eps;
            double lp = loss.getAsDouble();
            param[i] = old - eps;
            double lm = loss.getAsDouble();
            param[i] = old;
            double fd = (lp - lm) / (2.0 * eps);
            double err = Math.abs(fd - analytic[i]) - (tol * (Math.abs(fd) + Math.abs(analytic[i])) + atol);
            if (err > worst || worstI < 0) {
                worst = err;
                worstI = i;
                worstFd = fd;
            }
        }
        assertTrue(worst <= 0, name + "[" + worstI + "]: finite difference " + worstFd + " vs analytic " + analytic[worstI]);
    }
}
