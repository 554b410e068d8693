package org.finlora.model;

import org.finlora.FinloraException;
import org.finlora.io.Checkpoint;
import org.finlora.kernel.Parallel;
import org.finlora.tensor.DType;
import org.finlora.tensor.Floats;
import org.finlora.tensor.Tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Models with deterministic random weights and the exact shapes of real Llama 3.x models, for
 * benchmarks and tests. Tensors are built lazily on each access from a seed derived from their name
 * (uniform, std 0.02; norms are ones) into an automatically freed off-heap segment, so quantizing on
 * load never holds all full-precision weights at once.
 */
public final class SyntheticModels {
    /** Half-width of a uniform distribution with std 0.02. */
    static final float UNIFORM_HALF_WIDTH = (float) (0.02 * Math.sqrt(3));
    private static final LlamaConfig.RopeScaling LLAMA_3_1 = new LlamaConfig.RopeScaling(8f, 1f, 4f, 8192);
    private static final LlamaConfig.RopeScaling LLAMA_3_2 = new LlamaConfig.RopeScaling(32f, 1f, 4f, 8192);

    private SyntheticModels() {
    }

    public static Set<String> presets() {
        return Set.of("tiny", "demo", "llama-3.2-1b", "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b");
    }

    public static LlamaConfig config(String preset) {
        return switch (preset) {
            case "tiny" -> new LlamaConfig(64, 160, 2, 4, 2, 16, 260, 512, 1e-5f, 500000f, LLAMA_3_2, null, false, true);
            // the demo's base: small enough to finetune in a minute, scaled so that LoRA can steer its outputs
            case "demo" -> new LlamaConfig(96, 256, 3, 4, 2, 24, 260, 512, 1e-5f, 500000f, LLAMA_3_2, null, false, true);
            case "llama-3.2-1b" -> new LlamaConfig(2048, 8192, 16, 32, 8, 64, 128256, 131072, 1e-5f, 500000f, LLAMA_3_2, null, false, true);
            case "llama-3.2-3b" -> new LlamaConfig(3072, 8192, 28, 24, 8, 128, 128256, 131072, 1e-5f, 500000f, LLAMA_3_2, null, false, true);
            case "llama-3.1-8b" -> new LlamaConfig(4096, 14336, 32, 32, 8, 128, 128256, 131072, 1e-5f, 500000f, LLAMA_3_1, null, false, false);
            case "llama-3.1-70b" -> new LlamaConfig(8192, 28672, 80, 64, 8, 128, 128256, 131072, 1e-5f, 500000f, LLAMA_3_1, null, false, false);
            default -> throw new FinloraException("synthetic:" + preset + ": unknown preset (known: " + String.join(", ", presets().stream().sorted().toList()) + ")");
        };
    }

    /** The preset in its default dtype: f32 for tiny, bf16 otherwise. */
    public static Checkpoint create(String preset) {
        return create(preset, preset.equals("tiny") || preset.equals("demo") ? DType.F32 : DType.BF16, 0);
    }

    /** The preset with weights stored as dtype (F32 or BF16); seed varies the weights. */
    public static Checkpoint create(String preset, DType dtype, long seed) {
        if (dtype != DType.F32 && dtype != DType.BF16) throw new FinloraException("synthetic models are F32 or BF16, not " + dtype);
        LlamaConfig c = config(preset);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put("model.embed_tokens.weight", new long[]{c.vocabSize(), c.dim()});
        for (int l = 0; l < c.nLayers(); l++) {
            String p = "model.layers." + l + ".";
            shapes.put(p + "input_layernorm.weight", new long[]{c.dim()});
            shapes.put(p + "self_attn.q_proj.weight", new long[]{c.qDim(), c.dim()});
            shapes.put(p + "self_attn.k_proj.weight", new long[]{c.kvDim(), c.dim()});
            shapes.put(p + "self_attn.v_proj.weight", new long[]{c.kvDim(), c.dim()});
            shapes.put(p + "self_attn.o_proj.weight", new long[]{c.dim(), c.qDim()});
            shapes.put(p + "post_attention_layernorm.weight", new long[]{c.dim()});
            shapes.put(p + "mlp.gate_proj.weight", new long[]{c.hiddenDim(), c.dim()});
            shapes.put(p + "mlp.up_proj.weight", new long[]{c.hiddenDim(), c.dim()});
            shapes.put(p + "mlp.down_proj.weight", new long[]{c.dim(), c.hiddenDim()});
        }
        shapes.put("model.norm.weight", new long[]{c.dim()});
        if (!c.tiedEmbeddings()) shapes.put("lm_head.weight", new long[]{c.vocabSize(), c.dim()});
        return new Checkpoint("synthetic:" + preset, "synthetic", c, new LazyTensors(shapes, dtype, seed, preset.equals("demo")),
                new ByteTokenizer(c.vocabSize()), null);
    }

    /** splitmix64's output function. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Element i of the tensor seeded by s: uniform in [-a, a), independent of how the work is split. */
    static float value(long s, long i) {
        long z = mix(s + (i + 1) * 0x9E3779B97F4A7C15L);
        float u = (z >>> 40) * 0x1p-24f;
        return (2f * u - 1f) * UNIFORM_HALF_WIDTH;
    }

    /** Bytes built since the last GC hint; see {@link #build}. */
    private static final java.util.concurrent.atomic.AtomicLong SINCE_GC = new java.util.concurrent.atomic.AtomicLong();
    private static final long GC_EVERY_BYTES = 1L << 30;

    static Tensor build(String name, long[] shape, DType dtype, long seed) {
        return build(name, shape, dtype, seed, false);
    }

    /**
     * With {@code unitScale}, matrices get std 1/√in and the embedding std 1 (the scale of a trained
     * model's signal, as in tools/make_tiny_llama3.py) instead of the 0.02 init: with 0.02 everywhere a
     * small model's logits stay near-uniform whatever an adapter does, so the demo could not learn.
     */
    static Tensor build(String name, long[] shape, DType dtype, long seed, boolean unitScale) {
        long n = 1;
        for (long d : shape) n *= d;
        // Off-heap segments of dropped tensors are freed only when a GC notices them; when quantizing on
        // load nothing fills the heap, so ask for a collection every GiB built to keep the RSS flat.
        if (SINCE_GC.addAndGet(dtype.byteSize(n)) > GC_EVERY_BYTES) {
            SINCE_GC.set(0);
            System.gc();
        }
        MemorySegment seg = Arena.ofAuto().allocate(dtype.byteSize(n), 64);
        if (shape.length == 1) {
            for (long i = 0; i < n; i++) put(seg, dtype, i, 1f);   // norm weights: ones, as HF initializes them
        } else {
            long s = mix(seed ^ mix(name.hashCode() * 0x9E3779B97F4A7C15L + name.length()));
            int rows = (int) shape[0];
            long cols = shape[1];
            float gain = !unitScale ? 1f
                    : name.equals("model.embed_tokens.weight") || name.equals("lm_head.weight") ? 1f / 0.02f
                    : (float) (1.0 / Math.sqrt(cols) / 0.02);
            Parallel.forRange(rows, 64, (r0, r1) -> {
                for (long i = r0 * cols; i < r1 * cols; i++) put(seg, dtype, i, gain * value(s, i));
            });
        }
        return new Tensor(name, dtype, shape, seg);
    }

    private static void put(MemorySegment seg, DType dtype, long i, float v) {
        if (dtype == DType.F32) seg.set(Floats.F32_LE, 4 * i, v);
        else seg.set(Floats.I16_LE, 2 * i, Floats.floatToBf16(v));
    }

    /** A read-only map that builds each tensor when it is asked for (and keeps none). */
    private static final class LazyTensors extends AbstractMap<String, Tensor> {
        private final Map<String, long[]> shapes;
        private final DType dtype;
        private final long seed;
        private final boolean unitScale;

        LazyTensors(Map<String, long[]> shapes, DType dtype, long seed, boolean unitScale) {
            this.shapes = shapes;
            this.dtype = dtype;
            this.seed = seed;
            this.unitScale = unitScale;
        }

        @Override
        public Tensor get(Object key) {
            long[] shape = shapes.get(key);
            return shape == null ? null : build((String) key, shape, dtype, seed, unitScale);
        }

        @Override
        public boolean containsKey(Object key) {
            return shapes.containsKey(key);
        }

        @Override
        public Set<String> keySet() {
            return java.util.Collections.unmodifiableSet(shapes.keySet());
        }

        @Override
        public int size() {
            return shapes.size();
        }

        @Override
        public Set<Entry<String, Tensor>> entrySet() {
            return new AbstractSet<>() {
                @Override
                public Iterator<Entry<String, Tensor>> iterator() {
                    Iterator<Map.Entry<String, long[]>> it = shapes.entrySet().iterator();
                    return new Iterator<>() {
                        @Override
                        public boolean hasNext() {
                            return it.hasNext();
                        }

                        @Override
                        public Entry<String, Tensor> next() {
                            Map.Entry<String, long[]> e = it.next();
                            return new SimpleImmutableEntry<>(e.getKey(), build(e.getKey(), e.getValue(), dtype, seed, unitScale));
                        }
                    };
                }

                @Override
                public int size() {
                    return shapes.size();
                }
            };
        }
    }
}
