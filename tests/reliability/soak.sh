#!/usr/bin/env bash
# tests/reliability/soak.sh [LIB] [SECONDS] - multi-threaded allocation soak
# (tests/reliability/soak.c) under LD_PRELOAD=LIB for SECONDS (default 60),
# 8 threads, peak RSS limit SOAK_RSS_MIB (default 1024 MiB; the live data is
# capped at 192 MiB). LIB="" tests glibc. SOAK_SEED picks the random seed
# (default: seconds since the epoch, printed so a failure can be replayed).
# Log: build/reliability/soak.log
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
resolve_lib "${@:1:1}"
rel_setup
SECS="${2:-60}"
THREADS="${SOAK_THREADS:-8}"
RSS_MIB="${SOAK_RSS_MIB:-1024}"
SEED="${SOAK_SEED:-$(date +%s)}"
BIN="$RLOGS/bin/soak"
LOG="$RLOGS/soak.log"
fail_details() { [ -s "$LOG" ] && grep -E '^FAIL|caught signal|^soak:   thread|^hakmem: error' "$LOG" | head -n 12 | sed 's/^/    /'; }

if ! cc_build "$BIN" "$REL/soak.c"; then
    fail soak_build "compile error: $RLOGS/build-soak.log"
    finish
fi
echo "# soak: $SECS s, $THREADS threads, seed $SEED (replay: SOAK_SEED=$SEED $0 '${LIB}' $SECS)"
t0="$(now)"
(timeout -k 10 $((SECS * 2 + 120)) "${PRE_ENV[@]}" "$BIN" "$SECS" "$THREADS" "$RSS_MIB" "$SEED" >"$LOG" 2>&1; exit $?) 2>/dev/null
rc=$?
record "soak_${SECS}s" "$t0" "$rc"
grep -E '^soak: (operations|verified|peak|[0-9.]+ s,)' "$LOG" | sed 's/^/    /'
if [ $rc -ne 0 ]; then
    fail "soak_${SECS}s" "$(rc_text $rc) after $(since "$t0") s, seed $SEED; log $LOG"
elif ! banner_ok "$LOG"; then
    fail "soak_${SECS}s" "no 'hakmem: ' banner: hakmem did not serve the program"
else
    pass "soak_${SECS}s ($(since "$t0") s)"
fi
finish
