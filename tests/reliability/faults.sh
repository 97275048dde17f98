#!/usr/bin/env bash
# tests/reliability/faults.sh [LIB] - the allocator under adverse conditions
# (tests/reliability/faults.c, built without preload, run under LD_PRELOAD=LIB):
#   faults_oom      memory exhaustion under `ulimit -v` 1 GiB, every API
#   faults_fork     8 threads allocating and forking, 50 children
#   faults_churn    5000 short-lived threads in waves, RSS < 256 MiB
#   faults_signals  SIGALRM/SIGPROF every 100 us during allocation in 4 threads
# LIB="" tests glibc (validates the tests). Logs: build/reliability/faults/.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
resolve_lib "$@"
rel_setup
LOGD="$RLOGS/faults"
mkdir -p "$LOGD"
BIN="$RLOGS/bin/faults"
OOM_LIMIT_KB="${OOM_LIMIT_KB:-1048576}" # 1 GiB of address space

fail_details() { [ -n "${2:-}" ] && [ -s "$2" ] && grep -E '^FAIL|^child|^oom|^faults' "$2" | head -n 12 | sed 's/^/    /'; }

if ! cc_build "$BIN" "$REL/faults.c"; then
    fail faults_build "compile error: $RLOGS/build-faults.log"
    finish
fi

# run_mode NAME TIMEOUT [ULIMIT_KB] -- ARGS
run_mode() {
    local name="$1" tmo="$2" vlim="$3" log="$LOGD/$1.log" t0 rc
    shift 3
    t0="$(now)"
    (
        [ -n "$vlim" ] && ulimit -v "$vlim"
        timeout -k 5 "$tmo" "${PRE_ENV[@]}" "$BIN" "$@" >"$log" 2>&1
        exit $?
    ) 2>/dev/null
    rc=$?
    record "faults.$name" "$t0" "$rc"
    grep -E '^(oom|fork|churn|signals):' "$log" | sed 's/^/    /'
    if [ $rc -ne 0 ]; then
        fail "$name" "$(rc_text $rc) after $(since "$t0") s; log $log" "$log"
    elif ! banner_ok "$log"; then
        fail "$name" "no 'hakmem: ' banner: hakmem did not serve the program" "$log"
    else
        pass "$name ($(since "$t0") s)"
    fi
}

run_mode faults_oom 300 "$OOM_LIMIT_KB" oom
run_mode faults_fork 300 "" fork
run_mode faults_churn 300 "" churn
run_mode faults_signals 120 "" signals 3
finish
