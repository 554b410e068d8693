package org.finlora.kernel;

import org.finlora.FinloraException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Choosing the width: the values -Dfinlora.simd takes, and one clear line for the others. */
class SimdTest {
    @Test
    void widthsAndTheirSpecies() {
        assertSame(Simd.SCALAR, Simd.parse("scalar"));
        assertFalse(Simd.SCALAR.vector());
        assertEquals(1, Simd.SCALAR.floatLanes());
        for (Simd s : new Simd[]{Simd.BITS_128, Simd.BITS_256, Simd.BITS_512}) {
            assertSame(s, Simd.ofBits(s.bits()));
            assertEquals(s.bits(), s.floats().vectorBitSize());
            assertEquals(s.bits(), s.ints().vectorBitSize());
            assertEquals(s.bits(), s.shorts().vectorBitSize());
            assertEquals(s.bits(), s.bytes().vectorBitSize());
            assertEquals(s.floats().length(), s.halfShorts().length(), "one short per float lane");
            assertEquals(s.shorts().length(), s.halfBytes().length(), "one byte per short lane");
            assertTrue(s.floatBytes().length() >= s.floats().length());
            assertEquals(s.bits() == 512 ? 8 : 4, s.gemmRows());
            assertEquals(Integer.toString(s.bits()), s.name());
        }
        assertEquals(Simd.ofBits(Simd.nativeBits()), Simd.parse(Integer.toString(Simd.nativeBits() == 0 ? 0 : Simd.nativeBits())));
    }

    @Test
    void badValuesAreOneLine() {
        FinloraException e = assertThrows(FinloraException.class, () -> Simd.parse("1024"));
        assertEquals("finlora.simd=1024: expected scalar, 128, 256 or 512", e.getMessage());
        assertThrows(FinloraException.class, () -> Simd.parse("avx2"));
        if (Simd.nativeBits() < 512) {
            e = assertThrows(FinloraException.class, () -> Simd.parse("512"));
            assertTrue(e.getMessage().contains("would run emulated"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }
        assertThrows(IllegalArgumentException.class, () -> Simd.ofBits(64));
    }
}
