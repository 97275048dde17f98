# tests/reliability/common.sh -- sourced by the reliability scripts (not run).
# Builds on tests/lib.sh (resolve_lib, IS_HAKMEM, pre, ref, pass, fail, finish) and adds:
#   RLOGS            build/reliability/ (all logs of this suite)
#   "${PRE_ENV[@]}" CMD...  pre as an array (for timeout/prlimit ... CMD)
#   "${REF_ENV[@]}" CMD...  the same for ref
#   banner_ok FILE   true unless IS_HAKMEM=1 and FILE lacks a "hakmem: " line
#   now / since T    wall-clock seconds (float) and seconds elapsed since T
#   record NAME T0 RC  append "NAME ALLOCATOR SECONDS RC DATE" to RLOGS/durations.txt
#   timed NAME CMD   run CMD and record it
#   rc_text RC       "exit N" / "timeout" / "signal N (NAME)"
#   cc_build OUT SRC... [-- FLAGS]   compile (never under preload), log in RLOGS
#   pkg_install CMD PKG...   apt-get install PKG... when CMD is missing
# Every loop in this suite is bounded by a count and/or a timeout.

REL="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$REL/../lib.sh"
RLOGS="$REPO/build/reliability"
mkdir -p "$RLOGS"
export LC_ALL=C

# The caller runs resolve_lib first; this sets the derived flags.
rel_setup() {
    if [ -n "$LIB" ]; then PRE_ENV=(env LD_PRELOAD="$LIB" HAKMEM_VERBOSE=1); else PRE_ENV=(env -u LD_PRELOAD HAKMEM_VERBOSE=1); fi
    REF_ENV=(env -u LD_PRELOAD -u HAKMEM_VERBOSE)
    if [ -n "$LIB" ]; then ALLOC_NAME="$(basename "$LIB" .so)"; else ALLOC_NAME=glibc; fi
    export LIB IS_HAKMEM ALLOC_NAME
}
# record NAME T0 RC: one line "NAME ALLOCATOR SECONDS RC DATE" in durations.txt
record() { echo "$1 ${ALLOC_NAME:-?} $(since "$2") $3 $(date -u +%FT%TZ)" >>"$RLOGS/durations.txt"; }

banner_ok() {
    [ "${IS_HAKMEM:-0}" = 1 ] || return 0
    grep -q '^hakmem: ' "$1" 2>/dev/null
}

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

timed() {
    local name="$1" t0 rc
    shift
    t0="$(now)"
    "$@"
    rc=$?
    record "$name" "$t0" "$rc"
    return $rc
}

rc_text() {
    local rc="$1"
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "timeout"
    elif [ "$rc" -gt 128 ]; then
        echo "signal $((rc - 128)) ($(kill -l $((rc - 128)) 2>/dev/null || echo '?'))"
    else
        echo "exit $rc"
    fi
}

CC="${CC:-cc}"
REL_CFLAGS="-std=gnu11 -O2 -g -pthread -fno-builtin -Wall -Wextra -Wno-alloc-size-larger-than -Wno-use-after-free"
# cc_build OUT SRC... [-- EXTRA FLAGS]: rebuilds when a source is newer
cc_build() {
    local out="$1" srcs=() extra=() s newer=0
    shift
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do srcs+=("$1"); shift; done
    [ "${1:-}" = "--" ] && shift
    extra=("$@")
    [ -x "$out" ] || newer=1
    for s in "${srcs[@]}" "$REL/common.sh"; do [ "$s" -nt "$out" ] && newer=1; done
    [ $newer = 0 ] && return 0
    mkdir -p "$(dirname "$out")"
    # shellcheck disable=SC2086
    env -u LD_PRELOAD $CC $REL_CFLAGS "${srcs[@]}" -o "$out" "${extra[@]}" -ldl \
        >"$RLOGS/build-$(basename "$out").log" 2>&1
}

pkg_install() {
    local cmd="$1"
    shift
    command -v "$cmd" >/dev/null 2>&1 && return 0
    echo "# installing $* (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    { apt-get update -qq && apt-get install -y -qq "$@"; } >"$RLOGS/apt-$cmd.log" 2>&1
    command -v "$cmd" >/dev/null 2>&1
}

# free TCP port on 127.0.0.1 (bind to port 0, report what the kernel chose)
free_port() {
    ref python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
