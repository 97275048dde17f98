# tests/lib.sh -- shared by the test runners (sourced, not run).
#   resolve_lib "$@"  sets LIB (absolute; "" = no preload) from $1, $HAKMEM_LIB or
#                     build/lib/libhakmem.so, prints which allocator is tested, and
#                     sets IS_HAKMEM (1 when LIB's file name contains "hakmem")
#   pre CMD...        run CMD under the allocator under test (LD_PRELOAD=LIB,
#                     HAKMEM_VERBOSE=1); with LIB="" plain glibc
#   ref CMD...        reference run: no preload, no HAKMEM_* banner
#   pass NAME / fail NAME REASON [LOG]   count and print one result line
#   finish            prints "N passed, N failed" and exits (non-zero on failure)
# A runner may define fail_details NAME LOG to print a few lines of a failure's log.

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
passed=0
failed=0

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
    echo "FAIL $1 ($2)"
    failed=$((failed + 1))
    if declare -F fail_details >/dev/null; then fail_details "$1" "${3:-}"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

resolve_lib() {
    if [ $# -ge 1 ]; then LIB="$1"; else LIB="${HAKMEM_LIB-$REPO/build/lib/libhakmem.so}"; fi
    if [ -n "$LIB" ]; then
        if [ ! -f "$LIB" ]; then
            fail setup "library not found: $LIB"
            finish
        fi
        case "$LIB" in /*) ;; *) LIB="$(cd "$(dirname "$LIB")" && pwd)/$(basename "$LIB")" ;; esac
        echo "# allocator under test: $LIB"
    else
        echo "# no preload: testing the system allocator (glibc)"
    fi
    case "$(basename "${LIB:-none}")" in *hakmem*) IS_HAKMEM=1 ;; *) IS_HAKMEM=0 ;; esac
}

pre() {
    if [ -n "$LIB" ]; then
        env LD_PRELOAD="$LIB" HAKMEM_VERBOSE=1 "$@"
    else
        env -u LD_PRELOAD HAKMEM_VERBOSE=1 "$@"
    fi
}
ref() { env -u LD_PRELOAD -u HAKMEM_VERBOSE "$@"; }
