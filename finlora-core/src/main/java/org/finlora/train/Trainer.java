package org.finlora.train;

import org.finlora.FinloraException;
import org.finlora.lora.LoraAdapter;
import org.finlora.model.LlamaWeights;
import org.finlora.train.optim.AdamW;
import org.finlora.train.optim.AdamW8bit;
import org.finlora.train.optim.GradClip;
import org.finlora.train.optim.LrSchedule;
import org.finlora.train.optim.Optimizer;
import org.finlora.train.optim.ZeroOneAdam;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The LoRA training loop, HF Trainer semantics: per optimizer step, gradAccum micro-batches of
 * batchSize sequences (the last group of an epoch may be shorter), each micro-batch's loss sum
 * divided by the counted target tokens of the whole group (transformers ≥ 4.46); global-norm
 * clipping; lr from the schedule at the 0-based step; one optimizer update. Epochs visit the data
 * in a (seed, epoch)-seeded shuffle; LoRA dropout masks come from (seed, training-forward counter).
 * Everything that decides the next step is in the checkpoint, so a resumed run continues exactly.
 */
public final class Trainer {
    /** How a run ended. trainCurve/evalCurve hold [step, loss] pairs of the whole run (resumed parts included). */
    public record Result(int steps, int totalSteps, double lastLoss, List<double[]> trainCurve, List<double[]> evalCurve,
                         boolean stoppedEarly, Path lastCheckpoint, double seconds, long tokens, long tokensThisRun) {
        /** Tokens per second of this run (a resumed run counts only its own part). */
        public double tokensPerSecond() {
            return tokensThisRun / Math.max(1e-9, seconds);
        }
    }

    private final LlamaWeights weights;
    private final LoraAdapter adapter;
    private final TrainData train, eval;
    private final TrainerOptions o;
    private final Path checkpointRoot;
    private final TrainerListener listener;
    private final TrainableLlama model;
    private final Optimizer optimizer;
    private final LrSchedule schedule;
    private final int stepsPerEpoch, totalSteps;

    // loop position (all of it goes into checkpoints)
    private int step, epoch, batchIndex;
    private long microSteps, tokens, tokensAtStart;
    private final List<double[]> trainCurve = new ArrayList<>(), evalCurve = new ArrayList<>();

    private volatile boolean stopRequested;
    private final CountDownLatch finished = new CountDownLatch(1);

    /**
     * @param eval           held-out data (may be null)
     * @param checkpointRoot where step-NNNNNN checkpoints go (null: no checkpoints)
     * @param resumeFrom     a checkpoint directory to continue from (null: fresh start)
     */
    public Trainer(LlamaWeights weights, LoraAdapter adapter, TrainData train, TrainData eval, TrainerOptions o,
                   boolean activationCheckpointing, Path checkpointRoot, Path resumeFrom, TrainerListener listener) {
        if (train.size() == 0) throw new FinloraException("no training examples left (all were skipped as longer than --max-seq-len)");
        this.weights = weights;
        this.adapter = adapter;
        this.train = train;
        this.eval = eval == null || eval.size() == 0 ? null : eval;
        this.o = o;
        this.checkpointRoot = checkpointRoot;
        this.listener = listener == null ? TrainerListener.NONE : listener;
        int batches = train.batchesPerEpoch(o.batchSize());
        this.stepsPerEpoch = (batches + o.gradAccum() - 1) / o.gradAccum();
        this.totalSteps = o.maxSteps() > 0 ? o.maxSteps() : o.epochs() * stepsPerEpoch;
        int warmup = LrSchedule.warmupSteps(o.warmupSteps(), o.warmupRatio(), totalSteps);
        this.schedule = new LrSchedule(o.schedule(), o.lr(), warmup, totalSteps);
        this.optimizer = switch (o.optimizer()) {
            case "adamw" -> new AdamW(adapter.tensors(), 0.9, 0.999, 1e-8, o.weightDecay());
            case "adamw8bit" -> new AdamW8bit(adapter.tensors(), 0.9f, 0.999f, 1e-8f, (float) o.weightDecay());
            case "zero-one-adam" -> ZeroOneAdam.finlora(adapter.tensors(), o.weightDecay());
            default -> throw new FinloraException("--optimizer " + o.optimizer() + ": unknown");
        };
        if (resumeFrom != null) {
            TrainCheckpoint.State s = TrainCheckpoint.readState(resumeFrom);
            if (s.seed() != o.seed()) throw new FinloraException(resumeFrom + ": checkpoint was trained with --seed " + s.seed() + ", this run uses " + o.seed());
            if (s.totalSteps() != totalSteps) {
                throw new FinloraException(resumeFrom + ": checkpoint belongs to a run of " + s.totalSteps() + " steps, this one has "
                        + totalSteps + " (same data, --epochs, --batch-size and --grad-accum are needed to resume)");
            }
            // every field indexes or counts something of this run: a crafted state must not reach past it
            if (s.step() > totalSteps || s.batchIndex() > batches || s.epoch() > totalSteps
                    || s.trainCurve().size() > s.step() || s.evalCurve().size() > s.step() + 1) {
                throw new FinloraException(resumeFrom + ": trainer_state.json (step " + s.step() + ", epoch " + s.epoch() + ", batch_index "
                        + s.batchIndex() + ") does not fit this run (" + totalSteps + " steps, " + batches + " micro-batches per epoch)");
            }
            TrainCheckpoint.restore(resumeFrom, weights.config, adapter, optimizer, o.optimizer());
            step = s.step();
            epoch = s.epoch();
            batchIndex = s.batchIndex();
            microSteps = s.microSteps();
            tokens = s.tokens();
            trainCurve.addAll(s.trainCurve());
            evalCurve.addAll(s.evalCurve());
        }
        int maxT = Math.max(train.maxLength(), this.eval == null ? 0 : this.eval.maxLength());
        // the dropout counter restarts at 0 in a new TrainableLlama; offsetting its seed continues the sequence
        this.model = new TrainableLlama(weights, adapter, o.batchSize(), maxT, activationCheckpointing, o.seed() + microSteps);
    }

    public MemoryPlan memoryPlan() {
        return model.memoryPlan().withOptimizerState(optimizer.stateBytes());
    }

    public int totalSteps() {
        return totalSteps;
    }

    public int stepsPerEpoch() {
        return stepsPerEpoch;
    }

    /** Asks the loop to stop after the current optimizer step and write a checkpoint (e.g. from a Ctrl-C hook). */
    public void requestStop() {
        stopRequested = true;
    }

    /** Waits until run() has returned or thrown; false on timeout. */
    public boolean awaitFinished(long millis) throws InterruptedException {
        return finished.await(millis, TimeUnit.MILLISECONDS);
    }

    public Result run() {
        try {
            return loop();
        } finally {
            finished.countDown();
        }
    }

    private Result loop() {
        long t0 = System.nanoTime();
        tokensAtStart = tokens;
        listener.onStart(memoryPlan(), totalSteps, step);
        int batches = train.batchesPerEpoch(o.batchSize());
        int[] order = train.epochOrder(o.seed(), epoch, o.shuffle());
        Path lastCheckpoint = null;
        List<float[]> grads = model.grads.tensors();
        double lastLoss = trainCurve.isEmpty() ? Double.NaN : trainCurve.getLast()[1];
        model.setTraining(true);
        while (step < totalSteps) {
            if (stopRequested) {
                lastCheckpoint = saveIfPossible();
                return result(lastLoss, true, lastCheckpoint, t0);
            }
            if (batchIndex >= batches) {
                epoch++;
                batchIndex = 0;
                order = train.epochOrder(o.seed(), epoch, o.shuffle());
            }
            long ts = System.nanoTime();
            int groupEnd = Math.min(batches, batchIndex + o.gradAccum());
            List<Batch> group = new ArrayList<>();
            int counted = 0;
            long groupTokens = 0;
            for (int i = batchIndex; i < groupEnd; i++) {
                Batch b = train.batch(order, i, o.batchSize());
                group.add(b);
                counted += b.countTargets();
                for (int len : b.lengths()) groupTokens += len;
            }
            model.zeroGrad();
            double loss = 0;
            long micro = 0;
            for (int i = 0; i < group.size(); i++) {
                Batch b = group.get(i);
                if (b.countTargets() == 0) continue;
                double l = model.forwardBackward(b.tokens(), b.labels(), b.lengths(), b.B(), b.T(), Math.max(1, counted));
                micro++;
                if (!Double.isFinite(l)) {
                    throw nanStop("loss is " + l + " at step " + (step + 1) + " (micro-batch starting at "
                            + train.origin(order, batchIndex + i, o.batchSize()) + ")");
                }
                loss += l;
            }
            double norm = o.maxGradNorm() > 0 ? GradClip.clipByGlobalNorm(grads, o.maxGradNorm()) : GradClip.globalNorm(grads);
            if (!Double.isFinite(norm)) {
                throw nanStop("gradient norm is " + norm + " at step " + (step + 1) + " (micro-batches starting at "
                        + train.origin(order, batchIndex, o.batchSize()) + ")");
            }
            float lr = schedule.lr(step);
            optimizer.step(grads, lr);
            step++;
            batchIndex = groupEnd;
            microSteps += micro;
            tokens += groupTokens;
            lastLoss = loss;
            trainCurve.add(new double[]{step, loss});
            listener.onStep(new TrainerListener.StepMetrics(step, totalSteps, epoch, loss, lr, norm, groupTokens, counted,
                    (System.nanoTime() - ts) / 1e9));
            if (eval != null && ((o.evalEvery() > 0 && step % o.evalEvery() == 0) || step == totalSteps)) {
                double el = evaluate(eval);
                evalCurve.add(new double[]{step, el});
                listener.onEval(step, el);
            }
            if (o.saveEvery() > 0 && step % o.saveEvery() == 0 && checkpointRoot != null) {
                lastCheckpoint = save();
            }
        }
        return result(lastLoss, false, lastCheckpoint, t0);
    }

    private Result result(double lastLoss, boolean early, Path ck, long t0) {
        return new Result(step, totalSteps, lastLoss, List.copyOf(trainCurve), List.copyOf(evalCurve), early, ck,
                (System.nanoTime() - t0) / 1e9, tokens, tokens - tokensAtStart);
    }

    /** A checkpoint of the state before the failed step (parameters untouched), then the error. */
    private FinloraException nanStop(String what) {
        // a corrupt base gives NaN from the first step whatever the learning rate: say so instead of lr advice
        String bad = org.finlora.model.NonFiniteWeights.find(weights);
        if (bad != null) return new FinloraException(what + ": the base model's weights are not finite (" + bad + "); the model file is corrupt");
        Path ck = saveIfPossible();
        return new FinloraException(what + "; training stopped" + (ck == null ? "" : ", last good state saved to " + ck)
                + " (try a lower --lr or --max-grad-norm)");
    }

    /**
     * A checkpoint of the state now (after run() returned), e.g. to keep the trained state safe while
     * the final adapter is written; null without a checkpoint folder.
     */
    public Path saveCheckpoint() {
        return saveIfPossible();
    }

    private Path saveIfPossible() {
        return checkpointRoot == null ? null : save();
    }

    private Path save() {
        TrainCheckpoint.State s = new TrainCheckpoint.State(step, epoch, batchIndex, microSteps, o.seed(), totalSteps, o.optimizer(),
                tokens, trainCurve, evalCurve);
        Path p = TrainCheckpoint.save(checkpointRoot, adapter, optimizer, s);
        listener.onCheckpoint(step, p);
        return p;
    }

    /** Mean loss per counted target token over data (dropout off; the dropout counter is left alone). */
    public double evaluate(TrainData data) {
        model.setTraining(false);
        model.setFixedDropoutMasks(true);
        try {
            int[] order = data.epochOrder(0, 0, false);
            double sum = 0;
            long counted = 0;
            for (int i = 0; i < data.batchesPerEpoch(o.batchSize()); i++) {
                Batch b = data.batch(order, i, o.batchSize());
                int c = b.countTargets();
                if (c == 0) continue;
                sum += model.forward(b.tokens(), b.labels(), b.lengths(), b.B(), b.T(), 1.0, false);
                counted += c;
            }
            return counted == 0 ? Double.NaN : sum / counted;
        } finally {
            model.setFixedDropoutMasks(false);
            model.setTraining(true);
        }
    }
}
