#!/usr/bin/env bash
# run-tests.sh -- every test of the project, in order; used by `make test` and CI.
#   1. swift test: unit tests of the allocator logic, in-process; again under
#      ThreadSanitizer and AddressSanitizer (tests/sanitizers.sh)
#   2. tests/check-lib.sh: libc-only, exact exports, call-free fast paths
#   3. tests/preload/run.sh: API semantics, stress, fork, thread exit under LD_PRELOAD
#      (release, then checked mode: HAKMEM_CHECK=1, then checked mode with statistics)
#   4. tests/programs/run.sh: real programs (python3, gcc, git, coreutils) under LD_PRELOAD
#   5. tests/features/run.sh: install + pkg-config, site API (C, Swift), stats, config
#   6. tests/wrong-use/run.sh: 42 heap-misuse programs, verdicts asserted per mode
#   7. tests/reliability/run.sh: CPython regression tests, redis, sqlite, a Swift app and
#      swift build, OOM/fork/thread-churn/signals, 60 s soak, 60 s fuzz (~10 min;
#      `tests/reliability/run.sh --long` for the 10-minute soak and fuzz)
# Prints one summary line `N passed, N failed` (suites) and exits non-zero on any failure.
set -u
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
lib="$root/build/lib/libhakmem.so"
[ -f "$lib" ] || { echo "run-tests: $lib missing (make lib)" >&2; exit 2; }

passed=0; failed=0; failures=""
suite() {
    local name="$1"; shift
    echo "==== $name"
    if "$@"; then passed=$((passed+1)); else failed=$((failed+1)); failures="$failures $name"; fi
}
suite unit swift test
suite sanitizers tests/sanitizers.sh
suite check-lib tests/check-lib.sh "$lib"
suite preload tests/preload/run.sh "$lib"
suite preload-checked env HAKMEM_CHECK=1 tests/preload/run.sh "$lib"
suite preload-checked-stats env HAKMEM_CHECK=1 HAKMEM_STATS=1 tests/preload/run.sh "$lib"
suite programs tests/programs/run.sh "$lib"
suite features tests/features/run.sh
suite wrong-use tests/wrong-use/run.sh --expect tests/wrong-use/expected.tsv \
    hakmem="$lib" hakmem-checked="$lib:HAKMEM_CHECK=1"
suite reliability tests/reliability/run.sh "$lib"

echo "==== summary"
[ -n "$failures" ] && echo "failed suites:$failures"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
