package org.finlora.fuzz;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Coverage-guided fuzzing of every parser with Jazzer (libFuzzer): the fuzzer's bytes choose the
 * parser, the seed and every decision of {@link Mutator}, so coverage feedback steers the same
 * structured mutations the CI suite draws at random, plus raw bytes spliced in. Each execution is
 * held to {@link FuzzHarness}'s contract; a breach is a Jazzer finding (its input is saved under
 * src/test/resources/.../CoverageGuidedFuzzTestInputs/ and replayed by every later run).
 * Without JAZZER_FUZZ this runs the saved inputs only; the coverage-guided-fuzz surefire execution
 * sets it for {@code finlora.jazzer.duration} (tools/fuzz.sh for long runs).
 */
class CoverageGuidedFuzzTest {
    private static List<FuzzTargets.Target> targets;
    private static long[] runs, rejected;
    private static Path scratch;
    private static long t0;

    @BeforeAll
    static void setUp() throws Exception {
        long s0 = System.nanoTime();
        targets = FuzzTargets.all();
        runs = new long[targets.size()];
        rejected = new long[targets.size()];
        scratch = Files.createTempDirectory("finlora-jazzer");
        // load (and let Jazzer instrument) each parser's classes before the allocation bound applies
        for (int i = 0; i < targets.size(); i++) {
            Path dir = Files.createDirectories(scratch.resolve(Integer.toString(i)));
            for (byte[] seed : targets.get(i).seeds()) targets.get(i).runner().run(seed, dir);
            for (byte[] bad : new byte[][]{{}, {'{'}, {0, 1, 2, 3, 4, 5, 6, 7, 8}}) {
                try {
                    targets.get(i).runner().run(bad, dir);
                } catch (org.finlora.FinloraException expected) {
                    // the error paths' classes are loaded too
                }
            }
        }
        t0 = System.nanoTime();
        System.out.printf(Locale.ROOT, "coverage-guided: seeds and warm-up %.1f s%n", (t0 - s0) / 1e9);
    }

    @FuzzTest
    void everyParserSurvivesCoverageGuidedInputs(FuzzedDataProvider data) {
        int which = data.consumeInt(0, targets.size() - 1);
        FuzzTargets.Target t = targets.get(which);
        byte[] seed = t.seeds().get(data.consumeInt(0, t.seeds().size() - 1));
        Mutator.Choices c = bound -> bound <= 1 ? 0 : data.consumeInt(0, bound - 1);
        byte[] input = Mutator.mutate(seed, t.json(), t.seeds(), c);
        byte[] raw = data.consumeRemainingAsBytes();
        if (raw.length > 0 && input.length > 0) {   // splice the fuzzer's own bytes in where it chose
            int at = Math.floorMod(raw[0], input.length);
            byte[] out = java.util.Arrays.copyOf(input, Math.max(input.length, at + raw.length - 1));
            System.arraycopy(raw, 1, out, at, raw.length - 1);
            input = out;
        }
        Path dir = scratch.resolve(Integer.toString(which));
        if (runs[which]++ == 0) System.out.printf(Locale.ROOT, "coverage-guided: first %s case at %.1f s%n", t.name(), (System.nanoTime() - t0) / 1e9);
        if (FuzzHarness.run(t, input, dir, "jazzer") == FuzzHarness.Outcome.REJECTED) rejected[which]++;
    }

    @AfterAll
    static void report() throws Exception {
        List<String> lines = new ArrayList<>();
        long total = 0;
        for (int i = 0; i < targets.size(); i++) {
            total += runs[i];
            lines.add(String.format(Locale.ROOT, "coverage-guided %-26s %6d cases (%d rejected with a FinloraException)", targets.get(i).name(), runs[i], rejected[i]));
        }
        lines.add(String.format(Locale.ROOT, "coverage-guided: %d cases in %.1f s", total, (System.nanoTime() - t0) / 1e9));
        lines.forEach(System.out::println);
        Files.createDirectories(Path.of("target"));
        Files.write(Path.of("target", "fuzz-report.txt"), lines, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }
}
