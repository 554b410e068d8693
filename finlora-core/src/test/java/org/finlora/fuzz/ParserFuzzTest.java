package org.finlora.fuzz;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The fuzz suite CI runs: for every parser, its valid seeds and a few thousand mutations of them
 * (reproducible: case k of a parser draws from PRNG seed k), each held to {@link FuzzHarness}'s
 * contract. Parsers run side by side on all cores. -Dfinlora.fuzz.cases=N sets the cases per
 * parser (tools/fuzz.sh runs many more, -Dfinlora.fuzz.seed=S starts elsewhere); counts and times
 * go to stdout and target/fuzz-report.txt.
 */
class ParserFuzzTest {
    static final int CASES = Integer.getInteger("finlora.fuzz.cases", 2000);
    static final long FIRST_SEED = Long.getLong("finlora.fuzz.seed", 1);

    @TempDir
    Path scratchRoot;

    @Test
    void everyParserSurvivesMutatedInputs() throws Exception {
        List<FuzzTargets.Target> targets = FuzzTargets.all();
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Runtime.getRuntime().availableProcessors()));
        List<Future<String>> results = new ArrayList<>();
        long t0 = System.nanoTime();
        try {
            for (FuzzTargets.Target t : targets) results.add(pool.submit(() -> fuzz(t)));
            List<String> report = new ArrayList<>();
            List<Throwable> findings = new ArrayList<>();
            // a case that blocks (a read that never returns) uses no CPU: a generous wall bound per parser catches it
            long deadline = System.nanoTime() + 120_000_000_000L + CASES * 100_000_000L;
            for (int i = 0; i < results.size(); i++) {
                try {
                    report.add(results.get(i).get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS));
                } catch (java.util.concurrent.ExecutionException e) {
                    findings.add(e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    findings.add(new AssertionError(targets.get(i).name() + ": did not finish in time (a case that blocks?)"));
                }
            }
            report.add(String.format(Locale.ROOT, "fuzz: %d parsers, %d cases each, %.1f s wall", targets.size(), CASES, (System.nanoTime() - t0) / 1e9));
            report.forEach(System.out::println);
            Files.createDirectories(Path.of("target"));
            Files.write(Path.of("target", "fuzz-report.txt"), report);
            if (!findings.isEmpty()) {
                findings.forEach(e -> System.out.println("finding: " + e.getMessage()));
                fail(findings.size() + " parser(s) broke the contract; first: " + findings.getFirst().getMessage(), findings.getFirst());
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private String fuzz(FuzzTargets.Target t) throws Exception {
        Path scratch = Files.createDirectories(scratchRoot.resolve(t.name().replaceAll("[^A-Za-z0-9]", "_")));
        long t0 = System.nanoTime();
        for (byte[] seed : t.seeds()) t.runner().run(seed, scratch);   // the seeds are valid
        // findings saved by earlier runs come first; one that passes now is fixed and removed
        if (Files.isDirectory(FuzzHarness.FINDINGS)) {
            try (var saved = Files.list(FuzzHarness.FINDINGS)) {
                for (Path f : saved.filter(p -> p.getFileName().toString().startsWith(FuzzHarness.findingPrefix(t))).sorted().toList()) {
                    FuzzHarness.run(t, Files.readAllBytes(f), scratch, f.getFileName().toString().replace(".bin", "") + "-replay");
                    Files.delete(f);
                }
            }
        }
        int accepted = t.seeds().size(), rejected = 0;
        for (int k = 0; k < CASES; k++) {
            long seed = FIRST_SEED + k;
            Mutator.Choices c = Mutator.random(seed * 0x9E3779B97F4A7C15L + t.name().hashCode());
            byte[] input = Mutator.mutate(t.seeds().get(c.next(t.seeds().size())), t.json(), t.seeds(), c);
            if (FuzzHarness.run(t, input, scratch, "k" + seed) == FuzzHarness.Outcome.ACCEPTED) accepted++;
            else rejected++;
        }
        return String.format(Locale.ROOT, "fuzz %-26s %6d cases (%d rejected with a FinloraException, %d accepted) in %6.2f s",
                t.name(), CASES + t.seeds().size(), rejected, accepted, (System.nanoTime() - t0) / 1e9);
    }
}
