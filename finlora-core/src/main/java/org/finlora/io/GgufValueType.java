package org.finlora.io;

/** GGUF metadata value types with their on-disk codes and the fewest bytes a value can take. */
public enum GgufValueType {
    UINT8(0, 1), INT8(1, 1), UINT16(2, 2), INT16(3, 2), UINT32(4, 4), INT32(5, 4), FLOAT32(6, 4), BOOL(7, 1),
    STRING(8, 8), ARRAY(9, 12), UINT64(10, 8), INT64(11, 8), FLOAT64(12, 8);

    public final int code;
    /** Bytes of a fixed-size value, or the minimum for STRING (length only) and ARRAY (type + count). */
    public final int minBytes;

    GgufValueType(int code, int minBytes) {
        this.code = code;
        this.minBytes = minBytes;
    }

    /** The type with this code, or null when the code is unknown. */
    public static GgufValueType of(int code) {
        for (GgufValueType t : values()) if (t.code == code) return t;
        return null;
    }

    public boolean isInteger() {
        return switch (this) {
            case UINT8, INT8, UINT16, INT16, UINT32, INT32, UINT64, INT64 -> true;
            default -> false;
        };
    }
}
