package org.finlora.train;

import org.finlora.lora.LoraAdapter;
import org.finlora.kernel.Parallel;
import org.finlora.tensor.WeightMatrix;

/**
 * Folds a LoRA adapter into its base projection: W' = W + s·B·A with W dequantized row by row
 * (PEFT merge), or for DoRA W' = (m/n)·(W + s·B·A) with n the row norms of W + s·B·A.
 */
public final class AdapterMerge {
    private AdapterMerge() {
    }

    /** The merged [out, in] weight of projection (layer, module) as f32. */
    public static float[] merged(WeightMatrix base, LoraAdapter adapter, int layer, int module) {
        int out = base.rows, in = base.cols, r = adapter.config.rank();
        float s = adapter.config.scale();
        float[] A = adapter.a(layer, module), B = adapter.b(layer, module), mag = adapter.magnitude(layer, module);
        float[] w = new float[out * in];
        Parallel.forRange(out, 16, (o0, o1) -> {
            for (int o = o0; o < o1; o++) {
                int ro = o * in;
                base.dequantizeRow(o, w, ro);
                if (A == null) continue;
                for (int j = 0; j < r; j++) {
                    float bj = s * B[o * r + j];
                    if (bj == 0f) continue;
                    int ao = j * in;
                    for (int c = 0; c < in; c++) w[ro + c] += bj * A[ao + c];
                }
                if (mag != null) {
                    double ss = 0;
                    for (int c = 0; c < in; c++) ss += (double) w[ro + c] * w[ro + c];
                    float f = (float) (mag[o] / Math.sqrt(ss));
                    for (int c = 0; c < in; c++) w[ro + c] *= f;
                }
            }
        });
        return w;
    }
}
