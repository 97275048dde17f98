#!/usr/bin/env bash
# tests/reliability/cpython.sh [--compare] [--pymalloc-off] [LIB]
#
# CPython's own regression tests (python3 -m test) under LD_PRELOAD=LIB:
#   test_threading test_dict test_list test_set test_unicode test_json
#   test_sqlite3 test_pickle test_gc test_concurrent_futures
# with the real interpreter (`python3 -c 'import sys; print(sys.executable)'`,
# not a pyenv shim), -j2 (CPY_JOBS) and a per-test timeout of 15 min. A module
# missing from that interpreter's test package (this image's pyenv 3.11 lacks
# test_concurrent_futures) is run with Debian's /usr/bin/python3.X of the same
# minor version and its libpython3.X-testsuite package (installed with
# apt-get when missing). PASS only if regrtest prints "Tests result: SUCCESS".
#   --compare       run the same under glibc first (reported, and a failure
#                   there marks the test as not the allocator's fault)
#   --pymalloc-off  PYTHONMALLOC=malloc: every object allocation reaches LIB
# The tests run without HAKMEM_VERBOSE (its banner on stderr would break tests
# that compare a child's stderr); proof that LIB served them: a probe run of
# the same interpreter must print the "hakmem: " banner, and LIB must be in
# /proc/PID/maps of the running regrtest process.
# If a .pth file of the interpreter imports threading at start-up (this
# sandbox's does), test_threading's test_import_from_another_thread cannot
# pass under any allocator and is ignored (-i), with a note.
# Logs and durations: build/reliability/cpython/.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
COMPARE=0
PYMALLOC=""
while [ $# -gt 0 ]; do
    case "$1" in
    --compare) COMPARE=1; shift ;;
    --pymalloc-off) PYMALLOC=malloc; shift ;;
    *) break ;;
    esac
done
resolve_lib "$@"
rel_setup
D="$RLOGS/cpython"
mkdir -p "$D"
JOBS="${CPY_JOBS:-2}"
MODULES="${CPY_MODULES:-test_threading test_dict test_list test_set test_unicode test_json test_sqlite3 test_pickle test_gc test_concurrent_futures}"
fail_details() { [ -n "${2:-}" ] && [ -s "$2" ] && grep -E '^(test .* failed|FAIL|ERROR|[0-9]+ tests? failed|    test_|Tests result|.*crashed|.*Fatal Python)' "$2" | head -n 12 | sed 's/^/    /'; }

PY="$(ref python3 -c 'import sys; print(sys.executable)' 2>/dev/null)"
if [ ! -x "$PY" ]; then
    fail cpython_setup "python3 not found"
    finish
fi
VER="$(ref "$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
echo "# interpreter: $PY ($(ref "$PY" -c 'import platform; print(platform.python_version())'))${PYMALLOC:+, PYTHONMALLOC=$PYMALLOC}"

has_module() { ref "$1" -c "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('test.$2') else 1)" 2>/dev/null; }

MAIN_MODS=""
MISSING=""
if ref "$PY" -c 'import test.support' 2>/dev/null; then
    for m in $MODULES; do
        if has_module "$PY" "$m"; then MAIN_MODS="$MAIN_MODS $m"; else MISSING="$MISSING $m"; fi
    done
else
    MISSING="$MODULES"
fi
DEB_PY=""
DEB_MODS=""
if [ -n "$MISSING" ]; then
    echo "# not in $PY's test package:$MISSING"
    if [ -x "/usr/bin/python$VER" ]; then
        # (Debian's libpython3.X-stdlib ships test.support without the test modules:
        # look for the modules themselves.)
        need_suite=""
        for m in $MISSING; do has_module "/usr/bin/python$VER" "$m" || need_suite=1; done
        if [ -n "$need_suite" ] && [ "$(id -u)" = 0 ]; then
            echo "# installing libpython$VER-testsuite (apt-get)"
            { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "libpython$VER-testsuite"; } \
                >"$RLOGS/apt-testsuite.log" 2>&1
        fi
        for m in $MISSING; do
            if has_module "/usr/bin/python$VER" "$m"; then DEB_MODS="$DEB_MODS $m"; else
                fail "cpython_$m" "module not available in $PY nor in /usr/bin/python$VER (libpython$VER-testsuite)"
            fi
        done
        [ -n "$DEB_MODS" ] && DEB_PY="/usr/bin/python$VER" &&
            echo "# running$DEB_MODS with $DEB_PY ($(ref "$DEB_PY" -c 'import platform; print(platform.python_version())'), Debian libpython$VER-testsuite)"
    else
        for m in $MISSING; do fail "cpython_$m" "not in $PY's test package and no /usr/bin/python$VER"; done
    fi
fi

# ignore patterns that fail under every allocator because of the environment
ignore_args() {
    if [ "$(ref "$1" -I -c 'import sys; print("threading" in sys.modules)' 2>/dev/null)" = True ]; then
        echo "# note: $1 -I imports threading at start-up (a .pth file): ignoring test_import_from_another_thread" >&2
        echo "-i test_import_from_another_thread"
    fi
}

# run_suite NAME RUNNER(ref|pre) PY MODS...
run_suite() {
    local name="$1" runner="$2" py="$3" log t0 rc envc ign mapped=0 pid child
    shift 3
    log="$D/$name.$runner.log"
    if [ "$runner" = ref ]; then envc=("${REF_ENV[@]}"); else envc=(env -u HAKMEM_VERBOSE LD_PRELOAD="$LIB"); fi
    [ -z "$LIB" ] && envc=("${REF_ENV[@]}")
    [ -n "$PYMALLOC" ] && envc+=(PYTHONMALLOC="$PYMALLOC")
    ign="$(ignore_args "$py" 2>/dev/null)"
    t0="$(now)"
    # shellcheck disable=SC2086
    (cd "$D" && exec timeout -k 10 2400 "${envc[@]}" "$py" -m test -j"$JOBS" --timeout=900 $ign "$@") >"$log" 2>&1 &
    pid=$!
    if [ "$runner" = pre ] && [ -n "$LIB" ]; then
        # the regrtest main process must have LIB mapped
        for _ in $(seq 1 100); do
            for child in $(pgrep -P "$pid"); do # timeout's child: the regrtest main process
                grep -qF "$LIB" "/proc/$child/maps" 2>/dev/null && mapped=1
            done
            [ $mapped = 1 ] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
    fi
    wait "$pid"
    rc=$?
    record "cpython.$name.$runner" "$t0" "$rc"
    SECS_OF["$name.$runner"]="$(since "$t0")"
    echo "    $name ($runner): $(grep -E '^(Total tests|Tests result|Result):' "$log" | tr '\n' ' ')(${SECS_OF["$name.$runner"]} s)"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then RESULT="timeout after $(since "$t0") s"; return 1; fi
    if ! grep -qE 'Tests result: SUCCESS' "$log"; then
        RESULT="$(grep -E '^Tests result:|^Result:' "$log" | tail -n 1) ($(grep -A3 -E '^[0-9]+ tests? failed' "$log" | tr -s ' \n' ' '))"
        return 1
    fi
    if [ "$runner" = pre ] && [ -n "$LIB" ] && [ $mapped = 0 ]; then
        RESULT="$LIB was not found in /proc/PID/maps of the regrtest process"
        return 1
    fi
    RESULT="SUCCESS"
    return 0
}
declare -A SECS_OF

for py in "$PY" $DEB_PY; do ignore_args "$py" 2>&1 >/dev/null; done

# probe: the interpreter(s) print the banner under LIB
if [ "$IS_HAKMEM" = 1 ]; then
    for py in "$PY" $DEB_PY; do
        pre "$py" -c 'import json; json.dumps(list(range(1000)))' 2>"$D/probe.err" >/dev/null
        if ! grep -q '^hakmem: ' "$D/probe.err"; then
            fail cpython_probe "$py under LD_PRELOAD=$LIB printed no 'hakmem: ' banner"
        fi
    done
fi

suite() { # NAME PY MODS...
    local name="$1" py="$2" glibc_ok=1
    shift 2
    if [ $COMPARE = 1 ] && [ -n "$LIB" ]; then
        if run_suite "$name" ref "$py" "$@"; then
            echo "    $name under glibc: SUCCESS"
        else
            glibc_ok=0
            echo "    $name under glibc: $RESULT"
        fi
    fi
    if run_suite "$name" pre "$py" "$@"; then
        pass "$name (${SECS_OF["$name.pre"]} s${SECS_OF["$name.ref"]+, glibc ${SECS_OF["$name.ref"]} s})"
    else
        fail "$name" "$RESULT$([ $glibc_ok = 0 ] && echo '; also fails under glibc')" "$D/$name.pre.log"
    fi
}

[ -n "$MAIN_MODS" ] && suite "cpython${PYMALLOC:+_pymalloc_off}_$VER" "$PY" $MAIN_MODS
[ -n "$DEB_PY" ] && suite "cpython${PYMALLOC:+_pymalloc_off}_debian_$VER" "$DEB_PY" $DEB_MODS
finish
