package org.finlora.kernel;

import org.finlora.FinloraException;
import org.finlora.quant.Bnb4bit;
import org.finlora.tensor.DType;
import org.finlora.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The --quant registry: names, defaults, options, the canonical spec, and quantizing from any stored dtype. */
class WeightFormatsTest {

    @Test
    void everyFormatIsRegisteredOnceWithItsDefaults() {
        assertEquals(List.of("f32", "bf16", "f16", "q8_0", "q4_0", "nf4", "fp4", "int8", "int8-block",
                "rtn2", "rtn3", "rtn4", "rtn5", "rtn6", "rtn7", "rtn8"), WeightFormats.names());
        assertEquals(new Bnb4bitMatrix.Format(Bnb4bit.Type.NF4, 64, true), WeightFormats.parse("nf4"));
        assertEquals(new Int8VectorwiseMatrix.Format(6.0f), WeightFormats.parse("int8"));
        assertEquals(new Int8BlockMatrix.Format(64), WeightFormats.parse("int8-block"));
        assertEquals(new RtnMatrix.Format(3, 128), WeightFormats.parse("RTN3"));
        assertTrue(WeightFormats.parse("q4_0").embeddings());
        assertFalse(WeightFormats.parse("nf4").embeddings());
        for (WeightFormat f : WeightFormats.all()) {
            assertEquals(f, WeightFormats.parse(f.spec()), f.spec() + " parses back to itself");
            assertEquals(f.name(), f.spec().replaceAll(":.*", ""));
        }
    }

    @Test
    void options() {
        WeightFormat f = WeightFormats.parse("fp4:blocksize=128,double-quant=false");
        assertEquals(new Bnb4bitMatrix.Format(Bnb4bit.Type.FP4, 128, false), f);
        assertEquals("fp4:blocksize=128,double-quant=false", f.spec());
        assertEquals(new RtnMatrix.Format(4, 32), WeightFormats.parse("rtn4:group-size=32"));
        assertEquals(new Int8VectorwiseMatrix.Format(0f), WeightFormats.parse("int8:threshold=0"));
        assertEquals(new Int8BlockMatrix.Format(256), WeightFormats.parse("int8-block:blocksize=256"));
    }

    @Test
    void errorsAreOneLineAndNameTheProblem() {
        assertMessage("q3", "unknown weight format");
        assertMessage("nf4:blocksize=100", "blocksize 100");
        assertMessage("nf4:blocksize=x", "blocksize must be an integer");
        assertMessage("nf4:group-size=8", "unknown option \"group-size\"");
        assertMessage("int8:threshold=-1", "threshold");
        assertMessage("rtn4:group-size=0", "group-size");
        assertMessage("nf4:foo=1", "unknown option");
        assertMessage("nf4:double-quant=maybe", "double-quant");
        assertMessage("q4_0:blocksize=32", "q4_0 takes no options");
        assertMessage("nf4:blocksize", "not key=value");
    }

    @Test
    void quantizeFromAnyStoredDtype() {
        Simd simd = Simd.configured();
        Tensor t = new Tensor("w", DType.F32, new long[]{4, 64}, MemorySegment.ofArray(new float[256]));
        for (WeightFormat f : WeightFormats.all()) assertEquals(f.name(), f.quantize(t, simd).format(), f.spec());
        // a ggml Q8_0 tensor is dequantized first, then quantized like the equal f32 tensor
        float[] v = new float[2 * 64];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i);
        Tensor f32 = new Tensor("w", DType.F32, new long[]{2, 64}, MemorySegment.ofArray(v));
        Q8_0Matrix q8 = Q8_0Matrix.quantize(Matrices.of(f32, simd), simd);
        Tensor q8t = new Tensor("w", DType.Q8_0, new long[]{2, 64}, q8.data());
        float[] deq = new float[128];
        for (int r = 0; r < 2; r++) q8.dequantizeRow(r, deq, r * 64);
        Bnb4bitMatrix fromQ8 = (Bnb4bitMatrix) WeightFormats.parse("nf4").quantize(q8t, simd);
        assertArrayEquals(Bnb4bit.quantize(deq, Bnb4bit.Type.NF4, 64).codes(), fromQ8.bnbCodes());
        // a stored format is used as is
        assertSame(q8t.data(), ((Q8_0Matrix) WeightFormats.parse("q8_0").quantize(q8t, simd)).data());
    }

    @Test
    void writesAndReadsBackItsStoredForm() {
        Simd simd = Simd.configured();
        float[] v = new float[8 * 64];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.cos(i * 0.37);
        Tensor t = new Tensor("model.layers.0.mlp.up_proj.weight", DType.F32, new long[]{8, 64}, MemorySegment.ofArray(v));
        for (String spec : new String[]{"f32", "bf16", "f16", "q8_0", "q4_0", "nf4", "fp4:double-quant=false", "int8"}) {
            WeightFormat f = WeightFormats.parse(spec);
            RowMatrix m = f.quantize(t, simd);
            var stored = f.store(m, t.name(), "float32");
            RowMatrix back = WeightFormats.loadStored(new StoredWeights("test", stored, null), t.name(), simd);
            assertEquals(m.format(), back.format(), spec);
            float[] a = new float[64], b = new float[64];
            for (int r = 0; r < 8; r++) {
                m.dequantizeRow(r, a, 0);
                back.dequantizeRow(r, b, 0);
                assertArrayEquals(a, b, spec + " row " + r);
            }
        }
        FinloraException e = assertThrows(FinloraException.class, () -> WeightFormats.parse("rtn4").store(null, "w", "float32"));
        assertTrue(e.getMessage().contains("no checkpoint layout"), e.getMessage());
    }

    private static void assertMessage(String spec, String part) {
        FinloraException e = assertThrows(FinloraException.class, () -> WeightFormats.parse(spec));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
