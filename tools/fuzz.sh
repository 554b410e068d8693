#!/usr/bin/env bash
# Deep fuzzing of every parser (the suite CI runs briefly on each build):
#   - ParserFuzzTest: CASES structured mutations per parser, starting at PRNG seed SEED;
#   - CoverageGuidedFuzzTest: Jazzer (libFuzzer) steering the same mutators for JAZZER_SECONDS.
# Findings are saved under finlora-core/target/fuzz-findings (structured) and
# finlora-core/src/test/resources/org/finlora/fuzz/CoverageGuidedFuzzTestInputs (Jazzer; commit them:
# every later run replays them). Counts and times: finlora-core/target/fuzz-report.txt.
#   CASES=100000 JAZZER_SECONDS=1800 SEED=7 tools/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CASES=${CASES:-50000}
JAZZER_SECONDS=${JAZZER_SECONDS:-600}
SEED=${SEED:-$(date +%s)}
echo "fuzz: $CASES cases per parser from seed $SEED, then ${JAZZER_SECONDS}s coverage-guided" >&2
# -Dtest picks the structured suite for the unit-test execution; the coverage-guided execution names its own test.
./mvnw -B -q -pl finlora-core -am test -Dtest=ParserFuzzTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfinlora.fuzz.cases="$CASES" -Dfinlora.fuzz.seed="$SEED" -Dfinlora.jazzer.duration="${JAZZER_SECONDS}s" -Dfinlora.jazzer.hooks=true
cat finlora-core/target/fuzz-report.txt
