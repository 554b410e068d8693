package org.finlora.train.optim;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;

/** Length-prefixed arrays for optimizer checkpoints; a length mismatch means the state belongs to other shapes. */
final class OptimizerStates {
    private OptimizerStates() {
    }

    static void write(DataOutputStream out, float[][] xs) throws IOException {
        out.writeInt(xs.length);
        for (float[] x : xs) write(out, x);
    }

    static void read(DataInputStream in, float[][] xs) throws IOException {
        int n = in.readInt();
        if (n != xs.length) throw new IOException("optimizer state holds " + n + " tensors, expected " + xs.length);
        for (float[] x : xs) read(in, x);
    }

    static void write(DataOutputStream out, float[] x) throws IOException {
        out.writeInt(x.length);
        byte[] buf = new byte[x.length * 4];
        java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(x);
        out.write(buf);
    }

    static void read(DataInputStream in, float[] x) throws IOException {
        int n = in.readInt();
        if (n != x.length) throw new IOException("optimizer state tensor has " + n + " elements, expected " + x.length);
        byte[] buf = new byte[n * 4];
        in.readFully(buf);
        java.nio.ByteBuffer.wrap(buf).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(x);
    }

    static void write(DataOutputStream out, byte[] x) throws IOException {
        out.writeInt(x.length);
        out.write(x);
    }

    static void read(DataInputStream in, byte[] x) throws IOException {
        int n = in.readInt();
        if (n != x.length) throw new IOException("optimizer state tensor has " + n + " elements, expected " + x.length);
        in.readFully(x);
    }
}
