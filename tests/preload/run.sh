#!/usr/bin/env bash
# tests/preload/run.sh [LIB] - black-box API/contract tests of a malloc
# replacement used through LD_PRELOAD.
#
#   tests/preload/run.sh                 # LIB = $HAKMEM_LIB or build/lib/libhakmem.so
#   tests/preload/run.sh /path/lib.so    # any allocator (jemalloc, mimalloc, ...)
#   tests/preload/run.sh ""              # no preload: glibc (validates the tests)
#
# Compiles every program in tests/preload into build/tests/ (without
# preload), runs each under LD_PRELOAD=LIB with EXPECT_LIB=basename(LIB) (the
# programs then assert malloc really comes from LIB), a per-test timeout,
# prints "PASS name" / "FAIL name (reason)" and ends with "N passed, N failed".
# Logs: build/tests/logs/NAME.log. Exit status non-zero if any test failed.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lib.sh"
OUT="$REPO/build/tests"
LOGS="$OUT/logs"
mkdir -p "$OUT" "$LOGS"

CC="${CC:-cc}"
CFLAGS="-std=c11 -O1 -g -pthread -fno-builtin -fPIE -Wall -Wextra -Wno-alloc-size-larger-than -Wno-use-after-free -Wno-unknown-warning-option"
# gcc ignores unknown -Wno-* options unless other warnings are printed; drop
# the clang-only one for gcc to keep logs clean.
"$CC" --version 2>/dev/null | grep -qi clang || CFLAGS="${CFLAGS/ -Wno-unknown-warning-option/}"

fail_details() {
    if [ -n "${2:-}" ] && [ -s "$2" ]; then
        grep -m 15 -E '^FAIL|^child|^note|^[a-z_]+: ' "$2" | sed 's/^/    /'
    fi
}

resolve_lib "$@"
EXPECT="${LIB:+$(basename "$LIB")}"

# name:timeout-seconds:args
TESTS=(
    "api_basic:60:"
    "api_calloc:60:"
    "api_usable:60:"
    "api_align:60:"
    "api_realloc:60:"
    "api_errors:60:"
    "api_extras:60:"
    "large_reuse:60:"
    "large_guard:60:"
    "large_realloc_race:60:${RACE_SECONDS:-3}"
    "stress_mt:60:${STRESS_SECONDS:-3} 8"
    "fork_threads:60:"
    "thread_exit:90:"
    "early_and_dlopen:60:$OUT/libdlhelper.so"
)

# ---- build (never under preload) ----
build() { # src out extra...
    local src="$1" out="$2"
    shift 2
    if [ -x "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$HERE/check.h" ] && [ "$out" -nt "$HERE/run.sh" ]; then
        return 0
    fi
    # compile from inside tests/preload so __FILE__ (in FAIL lines) is short
    (cd "$HERE" && env -u LD_PRELOAD $CC $CFLAGS "$@" "$(basename "$src")" -o "$out" -ldl) \
        >"$LOGS/build-$(basename "$out").log" 2>&1
}
if ! build "$HERE/dl_helper.c" "$OUT/libdlhelper.so" -fPIC -shared; then
    fail build-dl_helper "compile error, see $LOGS/build-libdlhelper.so.log"
fi

for t in "${TESTS[@]}"; do
    name="${t%%:*}"
    rest="${t#*:}"
    tmo="${rest%%:*}"
    args="${rest#*:}"
    bin="$OUT/$name"
    log="$LOGS/$name.log"
    if ! build "$HERE/$name.c" "$bin" -pie; then
        fail "$name" "compile error, see $LOGS/build-$name.log"
        continue
    fi
    # (the subshell keeps bash's "Segmentation fault" job message out of the report)
    # shellcheck disable=SC2086
    if [ -n "$LIB" ]; then
        (timeout -k 5 "$tmo" env LD_PRELOAD="$LIB" EXPECT_LIB="$EXPECT" "$bin" $args >"$log" 2>&1; exit $?) 2>/dev/null
    else
        (timeout -k 5 "$tmo" env -u LD_PRELOAD -u EXPECT_LIB "$bin" $args >"$log" 2>&1; exit $?) 2>/dev/null
    fi
    rc=$?
    if [ $rc -eq 0 ]; then
        pass "$name"
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        fail "$name" "timeout after ${tmo}s" "$log"
    elif [ $rc -gt 128 ]; then
        sig=$((rc - 128))
        fail "$name" "killed by signal $sig ($(kill -l $sig 2>/dev/null || echo '?'))" "$log"
    else
        first="$(grep -m1 '^FAIL' "$log" | cut -c1-200)"
        fail "$name" "exit $rc${first:+: $first}" "$log"
    fi
done
finish
