package org.finlora.train.optim;

import java.util.List;

/** torch.nn.utils.clip_grad_norm_ (L2, as the HF Trainer calls it). */
public final class GradClip {
    private GradClip() {
    }

    public static double globalNorm(List<float[]> grads) {
        double s = 0;
        for (float[] g : grads) for (float x : g) s += (double) x * x;
        return Math.sqrt(s);
    }

    /** Scales all grads by min(1, maxNorm/(norm + 1e-6)); returns the norm before clipping. */
    public static double clipByGlobalNorm(List<float[]> grads, double maxNorm) {
        double norm = globalNorm(grads);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1.0) {
            float c = (float) coef;
            for (float[] g : grads) for (int i = 0; i < g.length; i++) g[i] *= c;
        }
        return norm;
    }
}
