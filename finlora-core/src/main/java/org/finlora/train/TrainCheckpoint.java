package org.finlora.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.finlora.FinloraException;
import org.finlora.io.AtomicFiles;
import org.finlora.io.InputFiles;
import org.finlora.io.Json;
import org.finlora.lora.LoraAdapter;
import org.finlora.lora.PeftAdapterIO;
import org.finlora.model.LlamaConfig;
import org.finlora.train.optim.Optimizer;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * A training checkpoint is a directory {@code step-NNNNNN}: the adapter in PEFT layout
 * (adapter_config.json, adapter_model.safetensors), {@code optimizer.bin} (every optimizer array and
 * counter) and {@code trainer_state.json} (step, epoch, data position, dropout counter, seed, loss
 * curves). It is written into a hidden temp directory beside it and renamed into place, so a
 * checkpoint directory is either complete or absent.
 */
public final class TrainCheckpoint {
    public static final String STATE_FILE = "trainer_state.json";
    public static final String OPTIMIZER_FILE = "optimizer.bin";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Where the loop stands between two optimizer steps.
     *
     * @param step        optimizer steps done
     * @param epoch       epoch of the next micro-batch (0-based)
     * @param batchIndex  index of the next micro-batch in that epoch's order
     * @param microSteps  training forwards done (the dropout-mask counter)
     * @param trainCurve  [step, loss] of every step so far
     * @param evalCurve   [step, eval loss] of every evaluation so far
     */
    public record State(int step, int epoch, int batchIndex, long microSteps, long seed, int totalSteps, String optimizer,
                        long tokens, List<double[]> trainCurve, List<double[]> evalCurve) {
    }

    private TrainCheckpoint() {
    }

    public static Path dirFor(Path root, int step) {
        return root.resolve(String.format("step-%06d", step));
    }

    /** Writes a checkpoint of (adapter, optimizer, state) as root/step-NNNNNN, atomically; returns its path. */
    public static Path save(Path root, LoraAdapter adapter, Optimizer optimizer, State state) {
        Path target = dirFor(root, state.step());
        Path tmp = null;
        try {
            Files.createDirectories(root);
            AtomicFiles.cleanStale(target);
            tmp = AtomicFiles.tempFolderBeside(target);
            PeftAdapterIO.save(adapter, tmp);
            try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(tmp.resolve(OPTIMIZER_FILE)), 1 << 16))) {
                out.writeUTF(state.optimizer());
                optimizer.writeState(out);
            }
            Files.writeString(tmp.resolve(STATE_FILE), stateJson(state));
            if (Files.exists(target)) deleteTree(target);   // a re-save of the same step (e.g. after a NaN stop)
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target);
            }
            tmp = null;
            return target;
        } catch (IOException e) {
            throw new FinloraException(target + ": cannot write the checkpoint (" + e.getMessage() + ")", e);
        } finally {
            if (tmp != null) {
                try {
                    deleteTree(tmp);
                } catch (IOException ignored) {
                    // our own hidden temp directory; a later run may remove it
                }
            }
        }
    }

    /**
     * The checkpoint a --resume argument names: a step-NNNNNN directory itself, or a folder holding
     * them directly or under checkpoints/ (the newest step wins).
     */
    public static Path resolve(Path arg) {
        if (Files.isRegularFile(arg.resolve(STATE_FILE))) return arg;
        for (Path root : List.of(arg, arg.resolve("checkpoints"))) {
            if (!Files.isDirectory(root)) continue;
            try (Stream<Path> s = Files.list(root)) {
                var best = s.filter(p -> p.getFileName().toString().matches("step-\\d+") && Files.isRegularFile(p.resolve(STATE_FILE)))
                        .max(Comparator.comparing(p -> p.getFileName().toString()));
                if (best.isPresent()) return best.get();
            } catch (IOException e) {
                throw new FinloraException(root + ": cannot list checkpoints (" + e.getMessage() + ")", e);
            }
        }
        throw new FinloraException("--resume " + arg + ": no checkpoint there (expected " + STATE_FILE + " or step-NNNNNN folders)");
    }

    /** trainer_state.json, every field type- and range-checked (the run checks them against itself on resume). */
    public static State readState(Path dir) {
        Path f = dir.resolve(STATE_FILE);
        JsonNode n = Json.read(f, InputFiles.TRAINER_STATE, "trainer state");
        if (!n.isObject()) throw new FinloraException(f + ": expected a JSON object");
        return new State(count(n, "step", f, Integer.MAX_VALUE), count(n, "epoch", f, Integer.MAX_VALUE),
                count(n, "batch_index", f, Integer.MAX_VALUE), countLong(n, "micro_steps", f), integral(n, "seed", f),
                count(n, "total_steps", f, Integer.MAX_VALUE), text(n, "optimizer", f), countLong(n, "tokens", f),
                curve(n, "train_curve", f), curve(n, "eval_curve", f));
    }

    /** Copies the checkpoint's adapter into {@code into} (same config and shapes) and restores the optimizer. */
    public static void restore(Path dir, LlamaConfig model, LoraAdapter into, Optimizer optimizer, String optimizerName) {
        LoraAdapter saved = PeftAdapterIO.load(dir, model);
        if (!saved.config.targetModules().equals(into.config.targetModules()) || saved.config.rank() != into.config.rank()
                || saved.config.useDora() != into.config.useDora()) {
            throw new FinloraException(dir + ": the checkpoint's adapter (r " + saved.config.rank() + ", targets " + saved.config.targetModules()
                    + ", dora " + saved.config.useDora() + ") does not match this run (r " + into.config.rank() + ", targets "
                    + into.config.targetModules() + ", dora " + into.config.useDora() + ")");
        }
        List<float[]> src = saved.tensors(), dst = into.tensors();
        for (int i = 0; i < src.size(); i++) System.arraycopy(src.get(i), 0, dst.get(i), 0, dst.get(i).length);
        Path f = dir.resolve(OPTIMIZER_FILE);
        InputFiles.check(f, Long.MAX_VALUE, "optimizer state");
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(f), 1 << 16))) {
            String name = in.readUTF();
            if (!name.equals(optimizerName)) throw new FinloraException(f + ": optimizer state is " + name + ", this run uses " + optimizerName);
            optimizer.readState(in);
        } catch (IOException e) {
            throw new FinloraException(f + ": cannot read the optimizer state (" + e.getMessage() + ")", e);
        }
    }

    static String stateJson(State s) {
        ObjectNode n = JSON.createObjectNode();
        n.put("step", s.step());
        n.put("epoch", s.epoch());
        n.put("batch_index", s.batchIndex());
        n.put("micro_steps", s.microSteps());
        n.put("seed", s.seed());
        n.put("total_steps", s.totalSteps());
        n.put("optimizer", s.optimizer());
        n.put("tokens", s.tokens());
        n.set("train_curve", curveJson(s.trainCurve()));
        n.set("eval_curve", curveJson(s.evalCurve()));
        return n.toPrettyString();
    }

    private static ArrayNode curveJson(List<double[]> c) {
        ArrayNode a = JSON.createArrayNode();
        // doubles are written with Java's shortest round-trip form, so curves survive a resume bit for bit
        for (double[] p : c) a.addArray().add(p[0]).add(p[1]);
        return a;
    }

    private static List<double[]> curve(JsonNode n, String key, Path f) {
        JsonNode a = req(n, key, f);
        if (!a.isArray()) throw new FinloraException(f + ": field \"" + key + "\" must be a list of [step, loss] pairs");
        List<double[]> out = new ArrayList<>(a.size());
        int i = 0;
        for (JsonNode p : a) {
            if (!p.isArray() || p.size() != 2 || !p.get(0).isNumber() || !p.get(1).isNumber()) {
                throw new FinloraException(f + ": " + key + "[" + i + "] is not a [step, loss] pair of numbers");
            }
            out.add(new double[]{p.get(0).asDouble(), p.get(1).asDouble()});
            i++;
        }
        return out;
    }

    private static JsonNode req(JsonNode n, String key, Path f) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) throw new FinloraException(f + ": missing field \"" + key + "\"");
        return v;
    }

    private static long integral(JsonNode n, String key, Path f) {
        JsonNode v = req(n, key, f);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw new FinloraException(f + ": field \"" + key + "\" = " + v + " is not an integer");
        return v.longValue();
    }

    private static long countLong(JsonNode n, String key, Path f) {
        long v = integral(n, key, f);
        if (v < 0) throw new FinloraException(f + ": field \"" + key + "\" = " + v + " is negative");
        return v;
    }

    private static int count(JsonNode n, String key, Path f, int max) {
        long v = countLong(n, key, f);
        if (v > max) throw new FinloraException(f + ": field \"" + key + "\" = " + v + " is out of range");
        return (int) v;
    }

    private static String text(JsonNode n, String key, Path f) {
        JsonNode v = req(n, key, f);
        if (!v.isTextual()) throw new FinloraException(f + ": field \"" + key + "\" = " + v + " is not a string");
        return v.textValue();
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
