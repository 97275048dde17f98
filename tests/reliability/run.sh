#!/usr/bin/env bash
# tests/reliability/run.sh [--long] [LIB] - the whole reliability suite.
#
#   tests/reliability/run.sh              # CI version: soak 60 s, fuzz 60 s (~8 min)
#   tests/reliability/run.sh --long       # soak 600 s, fuzz 600 s, CPython with --compare
#   tests/reliability/run.sh ""           # glibc (validates the tests themselves)
#   RELIABILITY_ONLY="faults soak" tests/reliability/run.sh   # a subset
#
# Runs one suite at a time (never two heavy jobs at once): faults, sqlite,
# redis, soak, fuzz, swift, cpython (pymalloc), cpython-malloc
# (PYTHONMALLOC=malloc; without test_concurrent_futures unless --long). Each prints PASS/FAIL lines and its own
# "N passed, N failed"; this script adds them up and ends with
# "N passed, N failed" (exit status non-zero if any test failed).
# Per-suite logs: build/reliability/run-SUITE.log; durations of every step:
# build/reliability/durations.txt.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
LONG=0
if [ "${1:-}" = --long ]; then LONG=1; shift; fi
resolve_lib "$@"
rel_setup
if [ $LONG = 1 ]; then SOAK_S="${SOAK_SECONDS:-600}"; FUZZ_S="${FUZZ_SECONDS:-600}"; else
    SOAK_S="${SOAK_SECONDS:-60}"; FUZZ_S="${FUZZ_SECONDS:-60}"; fi
CPY_ARGS=()
[ $LONG = 1 ] && [ -n "$LIB" ] && CPY_ARGS=(--compare)

# name : timeout (s) : command
SUITES=(
    "faults:900:$REL/faults.sh"
    "sqlite:600:$REL/sqlite.sh"
    "redis:900:$REL/redis.sh"
    "soak:$((SOAK_S * 2 + 300)):$REL/soak.sh"
    "fuzz:$((FUZZ_S * 2 + 900)):$REL/fuzz/fuzz.sh"
    "swift:2400:$REL/swift.sh"
    "cpython:3600:$REL/cpython.sh"
    "cpython-malloc:3600:$REL/cpython.sh"
)
total_pass=0
total_fail=0
summary=()
t_all="$(now)"
for s in "${SUITES[@]}"; do
    name="${s%%:*}"
    rest="${s#*:}"
    tmo="${rest%%:*}"
    cmd="${rest#*:}"
    if [ -n "${RELIABILITY_ONLY:-}" ] && ! [[ " $RELIABILITY_ONLY " == *" $name "* ]]; then continue; fi
    args=()
    envs=()
    case "$name" in
    soak) args=("$LIB" "$SOAK_S") ;;
    fuzz) args=("$LIB" "$FUZZ_S") ;;
    cpython) args=("${CPY_ARGS[@]}" "$LIB") ;;
    cpython-malloc) # PYTHONMALLOC=malloc; CI: without the slow, mostly idle test_concurrent_futures
        args=(--pymalloc-off "${CPY_ARGS[@]}" "$LIB")
        [ $LONG = 0 ] && envs=(CPY_MODULES="test_threading test_dict test_list test_set test_unicode test_json test_sqlite3 test_pickle test_gc") ;;
    *) args=("$LIB") ;;
    esac
    echo "==== $name"
    log="$RLOGS/run-$name.log"
    t0="$(now)"
    timeout -k 10 "$tmo" env "${envs[@]}" "$cmd" "${args[@]}" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    secs="$(since "$t0")"
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)"
    if [ -n "$line" ]; then
        p="${line%% passed*}"
        f="${line#*passed, }"
        f="${f%% failed*}"
    else
        p=0
        f=1
        echo "FAIL $name (no summary line: $(rc_text $rc))"
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "FAIL $name (exit status $rc)"
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
    summary+=("$(printf '%-15s %3d passed %3d failed %8s s' "$name" "$p" "$f" "$secs")")
    echo "$name-suite ${ALLOC_NAME} $secs $rc $(date -u +%FT%TZ)" >>"$RLOGS/durations.txt"
done
echo "==== summary (${ALLOC_NAME}, $([ $LONG = 1 ] && echo long || echo short), $(since "$t_all") s)"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
