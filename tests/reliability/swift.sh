#!/usr/bin/env bash
# tests/reliability/swift.sh [LIB] - Swift programs and the Swift toolchain
# under LD_PRELOAD=LIB.
#   swift_app    builds tests/reliability/swift-app (swift build, debug, no
#                preload, scratch build/reliability/swift-app-build) and runs
#                it under LIB: 100 TaskGroup tasks + Dispatch.concurrentPerform
#                + 4 plain threads alongside the tasks,
#                doing dictionaries, strings, class lists, JSONEncoder/Decoder.
#                Its stdout must equal the glibc run's and expected.txt, and
#                the work must have run on more than one thread.
#   swift_build  `swift build` of the same package under LD_PRELOAD=LIB with a
#                fresh scratch path (build/reliability/swift-app-build-preload-debug;
#                SwiftPM, the driver, swift-frontend, clang and the linker run
#                on LIB), then the binary it produced, under LIB, must print
#                the same output.
#   swift_build_release  the same with -c release (optimizer, WMO).
# With hakmem, the "hakmem: " banner must appear (HAKMEM_VERBOSE=1).
# Logs: build/reliability/swift/.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
resolve_lib "$@"
rel_setup
D="$RLOGS/swift"
mkdir -p "$D"
PKG="$REL/swift-app"
SCRATCH="$RLOGS/swift-app-build"
SCRATCH_PRE="$RLOGS/swift-app-build-preload"
fail_details() { [ -n "${2:-}" ] && [ -s "$2" ] && grep -v '^hakmem: ' "$2" | grep -v '^\[' | tail -n 8 | sed 's/^/    /'; }

if ! command -v swift >/dev/null 2>&1; then
    fail swift_setup "swift not on PATH"
    finish
fi
echo "# $(swift --version 2>/dev/null | head -n 1)"

# run_app NAME BIN RUNNER(ref|pre): stdout -> $D/NAME.out, stderr -> $D/NAME.err
run_app() {
    local envc=("${PRE_ENV[@]}") rc
    [ "$3" = ref ] && envc=("${REF_ENV[@]}")
    (timeout -k 5 300 "${envc[@]}" "$2" >"$D/$1.out" 2>"$D/$1.err"; exit $?) 2>/dev/null
    rc=$?
    return $rc
}
check_app() { # NAME: compares $D/NAME.out with the reference and expected.txt
    local n="$1" th
    th="$(sed -n 's/^threads: //p' "$D/$n.err")"
    if ! cmp -s "$D/app.ref.out" "$D/$n.out"; then
        WHY="output differs from the glibc run: $(diff "$D/app.ref.out" "$D/$n.out" | grep -m1 '^>')"
        return 1
    fi
    if [ "${th:-0}" -lt 2 ]; then WHY="the work ran on ${th:-?} thread(s), expected > 1"; return 1; fi
    if ! banner_ok "$D/$n.err"; then WHY="no 'hakmem: ' banner: hakmem did not serve the program"; return 1; fi
    return 0
}

# ---- 1. build normally (fresh, to compare durations), run under glibc and under LIB ----
rm -rf "$SCRATCH"
t0="$(now)"
(cd "$REPO" && timeout -k 5 900 env -u LD_PRELOAD swift build --package-path "$PKG" --scratch-path "$SCRATCH" \
    >"$D/build.log" 2>&1)
rc=$?
record swift.build.glibc "$t0" "$rc"
BIN="$SCRATCH/debug/SwiftApp"
if [ $rc -ne 0 ] || [ ! -x "$BIN" ]; then
    fail swift_app "swift build (no preload) $(rc_text $rc)" "$D/build.log"
    finish
fi
echo "    swift build (glibc): $(since "$t0") s"
t0="$(now)"
run_app app.ref "$BIN" ref
rc=$?
record swift.app.glibc "$t0" "$rc"
if [ $rc -ne 0 ]; then
    fail swift_app "the glibc run failed: $(rc_text $rc)" "$D/app.ref.err"
    finish
fi
if ! cmp -s "$PKG/expected.txt" "$D/app.ref.out"; then
    echo "    note: glibc output differs from swift-app/expected.txt (toolchain change?); comparing with the glibc run only:"
    diff "$PKG/expected.txt" "$D/app.ref.out" | sed 's/^/      /'
fi
echo "    glibc: $(tr '\n' ' ' <"$D/app.ref.out")($(sed -n 's/^threads: /threads /p' "$D/app.ref.err"), $(since "$t0") s)"
if [ -n "$LIB" ]; then
    t0="$(now)"
    run_app app.pre "$BIN" pre
    rc=$?
    record swift.app "$t0" "$rc"
    echo "    $ALLOC_NAME: $(tr '\n' ' ' <"$D/app.pre.out")($(sed -n 's/^threads: /threads /p' "$D/app.pre.err"), $(since "$t0") s)"
    if [ $rc -ne 0 ]; then
        fail swift_app "$(rc_text $rc)" "$D/app.pre.err"
    elif ! check_app app.pre; then
        fail swift_app "$WHY" "$D/app.pre.err"
    else
        pass swift_app
    fi
else
    check_app app.ref && pass swift_app || fail swift_app "$WHY"
fi

# ---- 2. swift build itself under LIB, fresh scratch paths, debug and release ----
for conf in debug release; do
    tname=swift_build
    [ $conf = release ] && tname=swift_build_release
    scratch="$SCRATCH_PRE-$conf"
    rm -rf "$scratch"
    t0="$(now)"
    (cd "$REPO" && timeout -k 10 1200 "${PRE_ENV[@]}" swift build -c $conf --package-path "$PKG" --scratch-path "$scratch" \
        >"$D/build-preload-$conf.log" 2>&1)
    rc=$?
    record "swift.build.$conf" "$t0" "$rc"
    BIN2="$scratch/$conf/SwiftApp"
    nb="$(grep -c '^hakmem: ' "$D/build-preload-$conf.log")"
    echo "    swift build -c $conf under $ALLOC_NAME: $(since "$t0") s, exit $rc, $nb 'hakmem: ' banners (one per process that allocated)"
    if [ $rc -ne 0 ] || [ ! -x "$BIN2" ]; then
        fail $tname "swift build -c $conf under LD_PRELOAD $(rc_text $rc)" "$D/build-preload-$conf.log"
    elif [ "$IS_HAKMEM" = 1 ] && [ "$nb" -lt 2 ]; then
        fail $tname "only $nb 'hakmem: ' banners in the build log: the toolchain did not run on hakmem"
    else
        run_app app.build-$conf "$BIN2" pre
        rc=$?
        if [ $rc -ne 0 ]; then
            fail $tname "the binary built under preload: $(rc_text $rc)" "$D/app.build-$conf.err"
        elif ! check_app app.build-$conf; then
            fail $tname "the binary built under preload: $WHY" "$D/app.build-$conf.err"
        else
            pass "$tname ($(since "$t0") s)"
        fi
    fi
done
finish
