package org.finlora.io;

import java.util.AbstractList;
import java.util.RandomAccess;

/**
 * An immutable GGUF numeric or bool array kept in a primitive array of its own width (so a
 * 128k-entry score table costs 512 KB, not 128k boxes) and boxed on access as the metadata
 * contract says: integers as Long, f32 as Float, f64 as Double, bool as Boolean.
 */
final class GgufArray extends AbstractList<Object> implements RandomAccess {
    final GgufValueType type;
    private final Object values;
    private final int size;

    GgufArray(GgufValueType type, Object values, int size) {
        this.type = type;
        this.values = values;
        this.size = size;
    }

    @Override
    public Object get(int i) {
        if (i < 0 || i >= size) throw new IndexOutOfBoundsException(i);
        return switch (type) {
            case UINT8 -> (long) (((byte[]) values)[i] & 0xFF);
            case INT8 -> (long) ((byte[]) values)[i];
            case UINT16 -> (long) (((short[]) values)[i] & 0xFFFF);
            case INT16 -> (long) ((short[]) values)[i];
            case UINT32 -> ((int[]) values)[i] & 0xFFFFFFFFL;
            case INT32 -> (long) ((int[]) values)[i];
            case UINT64, INT64 -> ((long[]) values)[i];
            case FLOAT32 -> ((float[]) values)[i];
            case FLOAT64 -> ((double[]) values)[i];
            case BOOL -> ((boolean[]) values)[i];
            default -> throw new IllegalStateException(type.toString());
        };
    }

    @Override
    public int size() {
        return size;
    }
}
