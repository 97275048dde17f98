#!/usr/bin/env bash
# tests/wrong-use/run.sh - run the wrong-use corpus (one heap misuse per
# program) under several allocators and print a verdict table.
#
#   tests/wrong-use/run.sh [--expect FILE] [--only REGEX] NAME=LIB[:ENV=VALUE[,ENV=VALUE...]] ...
#
#   NAME=LIB        column NAME, run with LD_PRELOAD=LIB; LIB empty = glibc (no preload)
#   :ENV=VALUE,...  extra environment for that column only, e.g.
#                   hakmem-checked=/work/main/build/lib/libhakmem.so:HAKMEM_CHECK=1
#   --only REGEX    run only the programs whose name matches REGEX (grep -E)
#   --expect FILE   TSV "program<TAB>allocator<TAB>expected" (# comments and blank
#                   lines ignored); prints PASS/FAIL per line, then
#                   "N passed, N failed"; exits non-zero on any failure.
#                   Lines for an allocator not given on the command line are
#                   reported as SKIP and not counted.
#
# Every program is built (without preload) into build/wrong-use/bin/, run once
# per allocator with a 10 s timeout and classified:
#   missed       exit 0 with "VERDICT missed"      (the misuse went through)
#   mitigated    exit 0 with "VERDICT mitigated"   (the program saw it neutralised)
#   unsupported  exit 0 with "VERDICT unsupported" (API missing, e.g. free_sized)
#   stopped      killed by a signal or non-zero exit (abort, SIGSEGV, ...), even
#                if a VERDICT line was printed before (e.g. a check at exit)
#   stopped+msg  stopped, and stderr has a line containing "hakmem: error:"
#   hang         still running after 10 s
#   error        build failure, no VERDICT line with exit 0, or malloc was not
#                served by LIB (the program names its malloc in "INFO allocator")
# Expected values: those words, plus "caught" = stopped, stopped+msg or
# mitigated; "stopped" accepts stopped and stopped+msg.
#
# Output: the markdown table on stdout (one row per program, one column per
# allocator, last row "stops N of M": N = stopped/stopped+msg/mitigated,
# M = programs not unsupported), also written to build/wrong-use/table.md;
# per-run details in build/wrong-use/results.tsv
# (program, allocator, verdict, exit status, first stderr line) and logs in
# build/wrong-use/logs/ALLOCATOR/PROGRAM.{out,err}.
set -u

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
OUT="$REPO/build/wrong-use"
BIN="$OUT/bin"
LOGS="$OUT/logs"
TIMEOUT="${WRONG_USE_TIMEOUT:-10}"

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

expect_file=""
only=""
specs=()
while [ $# -gt 0 ]; do
    case "$1" in
        --expect) [ $# -ge 2 ] || usage; expect_file="$2"; shift 2 ;;
        --expect=*) expect_file="${1#--expect=}"; shift ;;
        --only) [ $# -ge 2 ] || usage; only="$2"; shift 2 ;;
        --only=*) only="${1#--only=}"; shift ;;
        -h|--help) usage ;;
        *=*) specs+=("$1"); shift ;;
        *) echo "run.sh: bad argument '$1' (expected NAME=LIB[:ENV=VALUE,...])" >&2; usage ;;
    esac
done
[ ${#specs[@]} -gt 0 ] || usage
if [ -n "$expect_file" ] && [ ! -f "$expect_file" ]; then
    echo "run.sh: expect file not found: $expect_file" >&2
    exit 2
fi

# ---- allocator specs ----
names=()
declare -A LIBOF ENVOF
for s in "${specs[@]}"; do
    name="${s%%=*}"
    rest="${s#*=}"
    lib="${rest%%:*}"
    envs=""
    [ "$rest" != "$lib" ] && envs="${rest#*:}"
    if [ -z "$name" ] || [[ "$name" == *[[:space:]\|]* ]]; then
        echo "run.sh: bad allocator name in '$s'" >&2
        exit 2
    fi
    if [ -n "$lib" ]; then
        if [ ! -f "$lib" ]; then
            echo "run.sh: $name: library not found: $lib" >&2
            exit 2
        fi
        case "$lib" in /*) ;; *) lib="$(cd "$(dirname "$lib")" && pwd)/$(basename "$lib")" ;; esac
    fi
    names+=("$name")
    LIBOF[$name]="$lib"
    ENVOF[$name]="$envs"
done

mkdir -p "$BIN" "$LOGS"

# ---- build (never under preload) ----
CC="${CC:-cc}"
CXX="${CXX:-c++}"
WARN="-Wall -Wno-free-nonheap-object -Wno-use-after-free -Wno-alloc-size-larger-than \
-Wno-array-bounds -Wno-stringop-overflow -Wno-maybe-uninitialized -Wno-unused-function \
-Wno-unused-result"
CFLAGS_W="-std=gnu11 -O0 -g -fno-builtin -fno-omit-frame-pointer $WARN"
CXXFLAGS_W="-std=gnu++17 -O0 -g -fno-builtin -fno-omit-frame-pointer -fsized-deallocation $WARN -Wno-mismatched-new-delete"

declare -A DESC BUILT
progs=()
# rows grouped by kind of misuse, in this order; unknown prefixes go last
sources=()
for prefix in df_ if_ realloc_ mus_ ovf_ waf_ raf_ zero_ fs_ fas_ cxx_; do
    for src in "$HERE/$prefix"*.c "$HERE/$prefix"*.cc; do [ -f "$src" ] && sources+=("$src"); done
done
for src in "$HERE"/*.c "$HERE"/*.cc; do
    [ -f "$src" ] || continue
    case " ${sources[*]} " in *" $src "*) ;; *) sources+=("$src") ;; esac
done
for src in "${sources[@]}"; do
    [ -f "$src" ] || continue
    base="$(basename "$src")"
    prog="${base%.*}"
    if [ -n "$only" ] && ! grep -qE -- "$only" <<<"$prog"; then continue; fi
    progs+=("$prog")
    DESC[$prog]="$(sed -n "1s/^\/\* *$prog *- *//p" "$src" | sed 's/|/\\|/g')"
    bin="$BIN/$prog"
    if [ -x "$bin" ] && [ "$bin" -nt "$src" ] && [ "$bin" -nt "$HERE/wrong.h" ] && [ "$bin" -nt "$HERE/run.sh" ]; then
        BUILT[$prog]=1
        continue
    fi
    case "$src" in
        *.cc) cmd=("$CXX" $CXXFLAGS_W "$base" -o "$bin" -ldl) ;;
        *) cmd=("$CC" $CFLAGS_W "$base" -o "$bin" -ldl) ;;
    esac
    if (cd "$HERE" && env -u LD_PRELOAD "${cmd[@]}") >"$LOGS/build-$prog.log" 2>&1; then
        BUILT[$prog]=1
    else
        BUILT[$prog]=0
        echo "run.sh: build of $prog failed, see $LOGS/build-$prog.log" >&2
    fi
done
[ ${#progs[@]} -gt 0 ] || { echo "run.sh: no programs" >&2; exit 2; }

# ---- run ----
declare -A RES
results="$OUT/results.tsv"
printf 'program\tallocator\tverdict\texit\tstderr\n' >"$results"

run_one() { # prog name -> sets v, rc
    local prog="$1" name="$2" lib="${LIBOF[$2]}" envs="${ENVOF[$2]}"
    local dir="$LOGS/$name" out err want got
    mkdir -p "$dir"
    out="$dir/$prog.out"
    err="$dir/$prog.err"
    rc=-
    if [ "${BUILT[$prog]}" != 1 ]; then
        v=error
        echo "build failed" >"$err"; : >"$out"
        return
    fi
    local -a envargs=(-u LD_PRELOAD -u MALLOC_CHECK_ -u MALLOC_PERTURB_ -u MALLOC_TOP_PAD_
        -u MALLOC_MMAP_THRESHOLD_ -u GLIBC_TUNABLES -u HAKMEM_CHECK -u MIMALLOC_SECURE
        -u MIMALLOC_DEBUG -u MALLOC_CONF -u TCMALLOC_PAGE_FENCE)
    [ -n "$lib" ] && envargs+=("LD_PRELOAD=$lib")
    if [ -n "$envs" ]; then
        local -a parts
        local e
        IFS=, read -r -a parts <<<"$envs"
        for e in "${parts[@]}"; do [ -n "$e" ] && envargs+=("$e"); done
    fi
    # subshell: no core files, and bash's "Aborted"/"Segmentation fault" job
    # messages stay out of the output
    (ulimit -c 0; timeout -k 2 "$TIMEOUT" env "${envargs[@]}" "$BIN/$prog" >"$out" 2>"$err"; exit $?) 2>/dev/null
    rc=$?
    got="$(sed -n 's/^INFO allocator //p' "$out" | head -n1)"
    if [ -n "$lib" ]; then want="$(basename "$lib")"; else want="libc.so"; fi
    local verdict
    verdict="$(sed -n 's/^VERDICT //p' "$out" | head -n1)"
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        v=hang
    elif [ -z "$got" ]; then
        v=error
        echo "run.sh: no 'INFO allocator' line (program did not start?)" >>"$err"
    elif [[ "$got" != *"$want"* ]]; then
        v=error
        echo "run.sh: malloc served by '$got', expected '$want'" >>"$err"
    elif [ $rc -ne 0 ]; then
        if grep -q 'hakmem: error:' "$err"; then v=stopped+msg; else v=stopped; fi
    else
        case "$verdict" in
            missed|mitigated|unsupported) v="$verdict" ;;
            *) v=error; echo "run.sh: exit 0 without a VERDICT line" >>"$err" ;;
        esac
    fi
}

status_text() { # rc -> "0", "SIGSEGV", "exit 1", ...
    local rc="$1"
    if [ "$rc" = - ]; then echo -; elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo timeout
    elif [ "$rc" -gt 128 ]; then echo "SIG$(kill -l $((rc - 128)) 2>/dev/null || echo $((rc - 128)))"
    else echo "exit $rc"; fi
}

for prog in "${progs[@]}"; do
    for name in "${names[@]}"; do
        run_one "$prog" "$name"
        RES["$prog|$name"]="$v"
        first="$(grep -v '^run.sh: ' "$LOGS/$name/$prog.err" 2>/dev/null | grep -m1 . | tr '\t' ' ' | cut -c1-160)"
        printf '%s\t%s\t%s\t%s\t%s\n' "$prog" "$name" "$v" "$(status_text "$rc")" "$first" >>"$results"
    done
done

# ---- table ----
table="$OUT/table.md"
{
    printf '| program | misuse |'
    for name in "${names[@]}"; do printf ' %s |' "$name"; done
    printf '\n|---|---|'
    for name in "${names[@]}"; do printf -- '---|'; done
    printf '\n'
    for prog in "${progs[@]}"; do
        printf '| `%s` | %s |' "$prog" "${DESC[$prog]}"
        for name in "${names[@]}"; do printf ' %s |' "${RES["$prog|$name"]}"; done
        printf '\n'
    done
    printf '| **stops** | stopped, stopped+msg or mitigated, of the programs not unsupported |'
    for name in "${names[@]}"; do
        n=0; m=0
        for prog in "${progs[@]}"; do
            case "${RES["$prog|$name"]}" in
                unsupported) ;;
                stopped|stopped+msg|mitigated) n=$((n + 1)); m=$((m + 1)) ;;
                *) m=$((m + 1)) ;;
            esac
        done
        printf ' stops %d of %d |' "$n" "$m"
    done
    printf '\n'
} >"$table"
cat "$table"

# ---- expectations ----
[ -n "$expect_file" ] || exit 0
echo
passed=0
failed=0
declare -A RUN_NAME
for name in "${names[@]}"; do RUN_NAME[$name]=1; done
while IFS=$'\t' read -r e_prog e_name e_exp _; do
    e_prog="${e_prog%$'\r'}"; e_name="${e_name%$'\r'}"; e_exp="${e_exp%$'\r'}"
    case "$e_prog" in ''|'#'*) continue ;; esac
    if [ -z "${RUN_NAME[$e_name]:-}" ]; then
        echo "SKIP $e_prog/$e_name (allocator not run)"
        continue
    fi
    if [ -n "$only" ] && ! grep -qE -- "$only" <<<"$e_prog"; then
        echo "SKIP $e_prog/$e_name (not selected by --only)"
        continue
    fi
    got="${RES["$e_prog|$e_name"]:-none}"
    ok=0
    case "$e_exp" in
        caught) case "$got" in stopped|stopped+msg|mitigated) ok=1 ;; esac ;;
        stopped) case "$got" in stopped|stopped+msg) ok=1 ;; esac ;;
        stopped+msg|mitigated|missed|unsupported|hang) [ "$got" = "$e_exp" ] && ok=1 ;;
        *) echo "FAIL $e_prog/$e_name (bad expected value '$e_exp')"; failed=$((failed + 1)); continue ;;
    esac
    if [ $ok -eq 1 ]; then
        echo "PASS $e_prog/$e_name"
        passed=$((passed + 1))
    else
        echo "FAIL $e_prog/$e_name (expected $e_exp, got $got)"
        failed=$((failed + 1))
    fi
done <"$expect_file"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
