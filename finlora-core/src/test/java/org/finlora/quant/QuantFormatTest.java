package org.finlora.quant;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class QuantFormatTest {

    @Test
    void defaults() {
        QuantFormat nf4 = QuantFormat.parse("nf4");
        assertEquals(QuantFormat.Kind.NF4, nf4.kind);
        assertEquals(64, nf4.blocksize);
        assertTrue(nf4.doubleQuant);
        assertEquals(6.0f, QuantFormat.parse("int8").threshold);
        assertEquals(64, QuantFormat.parse("int8-block").blocksize);
        QuantFormat r3 = QuantFormat.parse("RTN3");
        assertEquals(3, r3.bits);
        assertEquals(128, r3.groupSize);
        assertTrue(QuantFormat.isKnown("rtn8:group-size=32"));
        assertFalse(QuantFormat.isKnown("q4_0"));
        assertFalse(QuantFormat.isKnown("rtn9"));
    }

    @Test
    void options() {
        QuantFormat f = QuantFormat.parse("fp4:blocksize=128,double-quant=false");
        assertEquals(QuantFormat.Kind.FP4, f.kind);
        assertEquals(128, f.blocksize);
        assertFalse(f.doubleQuant);
        assertEquals(f, QuantFormat.parse(f.name()));
        assertEquals(32, QuantFormat.parse("rtn4:group-size=32").groupSize);
        assertEquals(0f, QuantFormat.parse("int8:threshold=0").threshold);
        assertEquals(256, QuantFormat.parse("int8-block:blocksize=256").blocksize);
    }

    @Test
    void errorsAreOneLineAndNameTheProblem() {
        assertMessage("q3", "unknown format");
        assertMessage("nf4:blocksize=100", "blocksize 100");
        assertMessage("nf4:blocksize=x", "blocksize must be an integer");
        assertMessage("nf4:group-size=8", "does not apply to nf4");
        assertMessage("int8:threshold=-1", "threshold");
        assertMessage("rtn4:group-size=0", "group-size");
        assertMessage("nf4:foo=1", "unknown option");
        assertMessage("nf4:double-quant=maybe", "double-quant");
    }

    @Test
    void quantizeDispatchesAndRegisters() {
        org.finlora.tensor.Tensor t = new org.finlora.tensor.Tensor("w", org.finlora.tensor.DType.F32, new long[]{4, 64},
                java.lang.foreign.MemorySegment.ofArray(new float[256]));
        assertEquals("nf4", QuantFormat.parse("nf4").quantize(t).format());
        assertEquals("fp4", QuantFormat.parse("fp4").quantize(t).format());
        assertEquals("int8", QuantFormat.parse("int8").quantize(t).format());
        assertEquals("int8-block", QuantFormat.parse("int8-block").quantize(t).format());
        assertEquals("rtn3", QuantFormat.parse("rtn3").quantize(t).format());
        // a ggml Q8_0 tensor is dequantized first, then quantized like the equal f32 tensor
        float[] v = new float[2 * 64];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i);
        org.finlora.tensor.Tensor f32 = new org.finlora.tensor.Tensor("w", org.finlora.tensor.DType.F32, new long[]{2, 64}, java.lang.foreign.MemorySegment.ofArray(v));
        org.finlora.kernel.Q8_0Matrix q8 = org.finlora.kernel.Q8_0Matrix.quantize(org.finlora.kernel.Matrices.of(f32));
        org.finlora.tensor.Tensor q8t = new org.finlora.tensor.Tensor("w", org.finlora.tensor.DType.Q8_0, new long[]{2, 64}, q8.data());
        float[] deq = new float[128];
        for (int r = 0; r < 2; r++) q8.dequantizeRow(r, deq, r * 64);
        org.finlora.kernel.Bnb4bitMatrix fromQ8 = (org.finlora.kernel.Bnb4bitMatrix) QuantFormat.parse("nf4").quantize(q8t);
        assertArrayEquals(Bnb4bit.quantize(deq, Bnb4bit.Type.NF4, 64).codes(), fromQ8.bnbCodes());
        QuantFormat.registerDefaults();
        org.finlora.kernel.WeightFormats.Format f = org.finlora.kernel.WeightFormats.get("rtn4");
        assertFalse(f.embeddings());
        assertEquals("rtn4", f.fromTensor().apply(t).format());
    }

    private static void assertMessage(String spec, String part) {
        FinloraException e = assertThrows(FinloraException.class, () -> QuantFormat.parse(spec));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
