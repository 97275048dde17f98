#!/usr/bin/env bash
# tests/reliability/fuzz/fuzz.sh [LIB] [SECONDS] - API fuzzer under LD_PRELOAD=LIB.
#
#   fuzz_regressions  replays every input in tests/reliability/fuzz/regressions/
#                     (crashes found earlier; 5 runs each) and the generated seeds
#   fuzz_SECONDSs     fuzzes for SECONDS (default 60): libFuzzer when a clang
#                     with libFuzzer is found (FUZZ_CC, /opt/swift/usr/bin/clang,
#                     clang), else the seeded stand-alone driver (driver.c; force
#                     it with FUZZ_ENGINE=driver). Prints the execution count.
#                     Every crash/timeout/oom input is copied to regressions/
#                     (commit it: it is replayed on every later run) and fails.
# The corpus persists in build/reliability/fuzz/corpus. LIB="" tests glibc.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/common.sh"
resolve_lib "${@:1:1}"
rel_setup
SECS="${2:-60}"
FZ="$REL/fuzz"
REG="${FUZZ_REGRESSIONS:-$FZ/regressions}" # (override: to test the harness itself)
OUT="$RLOGS/fuzz"
CORPUS="$OUT/corpus"
SEEDS="$OUT/seeds"
ART="$OUT/artifacts"
mkdir -p "$OUT" "$CORPUS" "$SEEDS" "$ART" "$REG"
LOG="$OUT/fuzz.log"
# proof that LIB served the fuzzer: fuzz_malloc prints which object defines
# malloc (dladdr). (hakmem's banner cannot be used: a libFuzzer binary makes its
# first malloc from .preinit_array, before libc sets environ, so hakmem does not
# see HAKMEM_VERBOSE there.)
served_ok() {
    [ -n "$LIB" ] || return 0
    grep -q "^fuzz_malloc: malloc is served by $LIB\$" "$1" ||
        grep -q "^fuzz_malloc: malloc is served by .*$(basename "$LIB")\$" "$1"
}
fail_details() { [ -n "${2:-}" ] && [ -s "$2" ] && grep -E 'FUZZ-FAIL|ERROR|deadly|hakmem: error' "$2" | head -n 8 | sed 's/^/    /'; }

FLAGS=(-std=gnu11 -O1 -g -fno-builtin -pthread -Wall -Wextra)

# ---- engines -------------------------------------------------------------
LIBFUZZER=""
has_libfuzzer() { # CC: can it link -fsanitize=fuzzer?
    local d
    d="$(mktemp -d)"
    echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' >"$d/t.c"
    env -u LD_PRELOAD "$1" -fsanitize=fuzzer "$d/t.c" -o "$d/t" >/dev/null 2>&1
    local rc=$?
    rm -rf "$d"
    return $rc
}
if [ "${FUZZ_ENGINE:-libfuzzer}" != driver ]; then
    for c in ${FUZZ_CC:-} /opt/swift/usr/bin/clang clang; do
        if command -v "$c" >/dev/null 2>&1 && has_libfuzzer "$c"; then LIBFUZZER="$c"; break; fi
    done
    if [ -z "$LIBFUZZER" ] && [ "$(id -u)" = 0 ]; then
        # Debian: clang + the compiler-rt package that carries libFuzzer
        echo "# no clang with libFuzzer: installing clang and libclang-rt-dev (apt-get)"
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-dev ||
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev; } >"$OUT/apt.log" 2>&1
        command -v clang >/dev/null 2>&1 && has_libfuzzer clang && LIBFUZZER=clang
    fi
fi

BIN_DRV="$RLOGS/bin/fuzz_driver"
if ! cc_build "$BIN_DRV" "$FZ/fuzz_malloc.c" "$FZ/driver.c" -- "${FLAGS[@]}"; then
    fail fuzz_build "driver compile error: $RLOGS/build-fuzz_driver.log"
    finish
fi
if [ -n "$LIBFUZZER" ]; then
    BIN_LF="$RLOGS/bin/fuzz_libfuzzer"
    if ! CC="$LIBFUZZER" cc_build "$BIN_LF" "$FZ/fuzz_malloc.c" -- "${FLAGS[@]}" -fsanitize=fuzzer; then
        echo "# libFuzzer build failed ($RLOGS/build-fuzz_libfuzzer.log): using the driver"
        LIBFUZZER=""
    fi
fi
ENGINE="${LIBFUZZER:+libFuzzer ($LIBFUZZER)}"
echo "# engine: ${ENGINE:-stand-alone seeded driver (no libFuzzer)}"

# ---- seeds: one short input per operation, plus mixed ones (deterministic) --
ref python3 - "$SEEDS" <<'PY'
import os, random, sys
d = sys.argv[1]
r = random.Random(20240521)
def stream(ops):
    b = bytearray()
    for op in ops:
        b += bytes([op, r.randrange(32)]) + bytes(r.randrange(256) for _ in range(6))
    return b
for op in range(16):
    body = bytearray([r.randrange(3)])
    for _ in range(4):
        body += stream([0, 4, 6, 1, op, op, 12, op, 8, 10, 11, op, 2, 15, 12])
    open(os.path.join(d, "op%02d" % op), "wb").write(body)
for k in range(8):
    body = bytearray([k]) + bytes(r.randrange(256) for _ in range(128 * (k + 1)))
    open(os.path.join(d, "mixed%d" % k), "wb").write(body)
PY

# ---- replay: regressions and seeds ----------------------------------------
replay() { # name files...
    local name="$1" t0 rc log="$OUT/$1.log"
    shift
    t0="$(now)"
    if [ $# -eq 0 ]; then pass "$name (no inputs)"; return; fi
    if [ -n "$LIBFUZZER" ]; then
        (timeout -k 5 600 "${PRE_ENV[@]}" "$BIN_LF" -runs=5 -timeout=30 "$@" >"$log" 2>&1; exit $?) 2>/dev/null
    else
        rc=0
        for i in 1 2 3 4 5; do
            (timeout -k 5 600 "${PRE_ENV[@]}" "$BIN_DRV" "$@" >>"$log" 2>&1; exit $?) 2>/dev/null || { rc=$?; break; }
        done
        (exit $rc)
    fi
    rc=$?
    record "fuzz.$name" "$t0" "$rc"
    if [ $rc -ne 0 ]; then
        fail "$name" "$(rc_text $rc) replaying $# inputs; log $log" "$log"
    elif ! served_ok "$log"; then
        fail "$name" "malloc was not served by $LIB: $(grep -m1 'served by' "$log")"
    else
        pass "$name ($# inputs x5, $(since "$t0") s)"
    fi
}
mapfile -t regs < <(find "$REG" -maxdepth 1 -type f ! -name 'README*' ! -name '.*' | sort)
: >"$OUT/fuzz_regressions.log"
replay fuzz_regressions "${regs[@]}"
mapfile -t seeds < <(find "$SEEDS" -type f | sort)
: >"$OUT/fuzz_seeds.log"
replay fuzz_seeds "${seeds[@]}"

# ---- fuzz -------------------------------------------------------------------
save_crashes() { # files... -> regressions/
    local f saved=0
    for f in "$@"; do
        [ -s "$f" ] || continue
        cp -n "$f" "$REG/$(basename "$f")"
        echo "    saved $(basename "$f") -> ${REG#$REPO/}/ (replayed on every run from now on)"
        saved=$((saved + 1))
    done
    return $saved
}
t0="$(now)"
stamp="$OUT/.start"
touch "$stamp"
if [ -n "$LIBFUZZER" ]; then
    (cd "$OUT" && timeout -k 10 $((SECS + 180)) "${PRE_ENV[@]}" "$BIN_LF" -max_total_time="$SECS" -max_len=1024 \
        -timeout=30 -rss_limit_mb=3072 -print_final_stats=1 -artifact_prefix="$ART/" -use_value_profile=1 \
        "$CORPUS" "$SEEDS" >"$LOG" 2>&1; exit $?) 2>/dev/null
    rc=$?
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$LOG" | tail -n 1)"
    mapfile -t found < <(find "$ART" -maxdepth 1 -type f -newer "$stamp" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \))
else
    work="$OUT/driver-work"
    mkdir -p "$work"
    seed="${FUZZ_SEED:-$(date +%s)}"
    echo "# driver seed $seed (replay: FUZZ_ENGINE=driver FUZZ_SEED=$seed)"
    (timeout -k 10 $((SECS + 180)) "${PRE_ENV[@]}" "$BIN_DRV" -gen "$SECS" "$seed" "$work" >"$LOG" 2>&1; exit $?) 2>/dev/null
    rc=$?
    execs="$(sed -n 's/^driver: executions \([0-9]*\).*/\1/p' "$LOG")"
    rate=""
    found=()
    if [ $rc -ne 0 ] && [ -s "$work/current" ]; then
        h="$(sha1sum "$work/current" | cut -c1-40)"
        cp "$work/current" "$ART/crash-driver-$h"
        found=("$ART/crash-driver-$h")
    fi
fi
record "fuzz_${SECS}s" "$t0" "$rc"
echo "    executions: ${execs:-?}${rate:+ ($rate/s)}${LIBFUZZER:+, corpus: $(find "$CORPUS" -type f | wc -l) inputs}"
save_crashes "${found[@]}"
nfound=$?
if [ "$nfound" -gt 0 ]; then
    fail "fuzz_${SECS}s" "$nfound crashing input(s) found ($(rc_text $rc)); saved in ${REG#$REPO/}/; log $LOG" "$LOG"
elif [ $rc -ne 0 ]; then
    fail "fuzz_${SECS}s" "$(rc_text $rc) without a saved input; log $LOG" "$LOG"
elif [ -z "${execs:-}" ] || [ "${execs:-0}" -lt 100 ]; then
    fail "fuzz_${SECS}s" "only '${execs:-?}' executions; log $LOG" "$LOG"
elif ! served_ok "$LOG"; then
    fail "fuzz_${SECS}s" "malloc was not served by $LIB: $(grep -m1 'served by' "$LOG")"
else
    pass "fuzz_${SECS}s (${execs} executions, $(since "$t0") s)"
fi
rm -f "$stamp"
finish
