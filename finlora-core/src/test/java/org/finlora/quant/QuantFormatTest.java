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

    private static void assertMessage(String spec, String part) {
        FinloraException e = assertThrows(FinloraException.class, () -> QuantFormat.parse(spec));
        assertTrue(e.getMessage().contains(part), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }
}
