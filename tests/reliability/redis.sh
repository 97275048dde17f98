#!/usr/bin/env bash
# tests/reliability/redis.sh [LIB] - redis-server under LD_PRELOAD=LIB.
#
# Installs redis-server and redis-tools (apt-get) if missing. Runs the
# server on 127.0.0.1 on a free port with no persistence (--save ""
# --appendonly no) three times: as shipped (Debian links it with jemalloc),
# with glibc's malloc (LD_PRELOAD=libc.so.6 puts glibc's malloc first), then
# under LIB (skipped when LIB=""). Each time:
#   1. wait until it answers PING (at most 10 s);
#   2. redis-benchmark -n 200000 -c 16 -P 16 -t set,get,lpush,lpop,incr
#      -r 100000 -q (client without preload, 300 s timeout); requests/s are
#      printed for all three (a report, not an assertion);
#   3. data check: FLUSHALL, load 10000 strings + hash/list/set/zset of 10000
#      members + APPENDs + deleted keys with `redis-cli --pipe`
#      (redis_data.py), then DBSIZE, sizes, and 300+ sampled GETs must equal
#      the expected values;
#   4. SHUTDOWN NOSAVE: the server must exit with status 0.
# With hakmem the server's stderr must carry the "hakmem: " banner
# (HAKMEM_VERBOSE=1). Note: Debian's redis-server is linked with jemalloc but
# calls the unprefixed malloc/calloc/realloc/free/malloc_usable_size, which
# LD_PRELOAD binds to LIB (mallctl/nallocx/malloc_stats_print still reach
# jemalloc; INFO's mem_allocator is a compile-time string).
# Logs: build/reliability/redis/.
set -u
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/common.sh"
resolve_lib "$@"
rel_setup
D="$RLOGS/redis"
mkdir -p "$D"
fail_details() { [ -n "${2:-}" ] && [ -s "$2" ] && grep -v '^hakmem: ' "$2" | tail -n 8 | sed 's/^/    /'; }

if ! pkg_install redis-server redis-server redis-tools || ! command -v redis-benchmark >/dev/null; then
    fail redis_setup "redis-server/redis-tools missing and apt-get install failed ($RLOGS/apt-redis-server.log)"
    finish
fi
echo "# $(redis-server --version | cut -d' ' -f1-3)"
ref python3 "$REL/redis_data.py" load >"$D/load.resp"
ref python3 "$REL/redis_data.py" queries >"$D/queries.txt"
ref python3 "$REL/redis_data.py" expected >"$D/expected.txt"

SERVER_PID=""
cleanup() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null; }
trap cleanup EXIT

cli() { timeout 60 env -u LD_PRELOAD redis-cli -h 127.0.0.1 -p "$PORT" "$@"; }

LIBC="$(ldd "$(command -v redis-server)" | awk '/libc\.so\.6/ { print $3 }')"
# run_server WHO: WHO = jemalloc | glibc | lib; benchmark lines in $D/bench.WHO.txt
run_server() {
    local who="$1" envc t0 i rc log="$D/server.$1.log"
    case "$who" in
    jemalloc) envc=("${REF_ENV[@]}") ;;
    glibc) envc=("${REF_ENV[@]}" LD_PRELOAD="$LIBC") ;;
    *) envc=("${PRE_ENV[@]}") ;;
    esac
    PORT="$(free_port)"
    t0="$(now)"
    timeout -k 5 900 "${envc[@]}" redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no \
        --daemonize no --protected-mode yes --dir "$D" --logfile "" >"$log" 2>&1 &
    SERVER_PID=$!
    for i in $(seq 1 100); do
        [ "$(cli PING 2>/dev/null)" = PONG ] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ "$(cli PING 2>/dev/null)" != PONG ]; then
        fail "redis_$who" "server did not answer PING within 10 s (as $ALLOC_NAME if lib)" "$log"
        cleanup
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=""
        return 1
    fi
    local ok=1 why=""
    # 2. benchmark
    local tb
    tb="$(now)"
    timeout -k 5 300 env -u LD_PRELOAD redis-benchmark -h 127.0.0.1 -p "$PORT" -n 200000 -c 16 -P 16 \
        -t set,get,lpush,lpop,incr -r 100000 -q >"$D/bench.$who.out" 2>&1
    rc=$?
    tr '\r' '\n' <"$D/bench.$who.out" | grep -E '^[A-Z_]+.*: [0-9.]+ requests per second' >"$D/bench.$who.txt"
    record "redis.bench.$who" "$tb" "$rc"
    if [ $rc -ne 0 ] || [ "$(wc -l <"$D/bench.$who.txt")" -lt 5 ]; then
        ok=0 why="redis-benchmark $(rc_text $rc), $(wc -l <"$D/bench.$who.txt") of 5 results"
    fi
    # 3. data check
    if [ $ok = 1 ]; then
        cli FLUSHALL >/dev/null
        cli --pipe <"$D/load.resp" >"$D/pipe.$who.out" 2>&1
        if ! grep -q "errors: 0, replies: $(grep -c '^\*' "$D/load.resp")" "$D/pipe.$who.out"; then
            ok=0 why="redis-cli --pipe: $(tail -n 1 "$D/pipe.$who.out")"
        else
            cli <"$D/queries.txt" >"$D/queries.$who.out" 2>&1
            if ! cmp -s "$D/expected.txt" "$D/queries.$who.out"; then
                diff "$D/expected.txt" "$D/queries.$who.out" | cut -c1-200 >"$D/queries.$who.diff"
                ok=0 why="data check: replies differ from the expected values ($D/queries.$who.diff)"
            fi
        fi
        cli INFO memory | tr -d '\r' | grep -E '^(used_memory_human|used_memory_rss_human|mem_allocator):' |
            tr '\n' ' ' >"$D/memory.$who.txt"
    fi
    # 4. shutdown
    cli SHUTDOWN NOSAVE >/dev/null 2>&1
    wait "$SERVER_PID"
    rc=$?
    SERVER_PID=""
    record "redis.server.$who" "$t0" "$rc"
    if [ $ok = 1 ] && [ $rc -ne 0 ]; then ok=0 why="server $(rc_text $rc) after SHUTDOWN NOSAVE"; fi
    echo "    $who: $(tr '\n' ';' <"$D/bench.$who.txt" | sed 's/ requests per second//g; s/, p50=[0-9.]* msec//g') ($(since "$t0") s)"
    [ -s "$D/memory.$who.txt" ] && echo "    $who: $(cat "$D/memory.$who.txt")"
    if [ $ok = 1 ] && [ "$who" = lib ] && ! banner_ok "$log"; then
        ok=0 why="no 'hakmem: ' banner in the server's stderr: hakmem did not serve redis-server"
    fi
    local tname="redis_$who"
    [ "$who" = lib ] && tname="redis_$ALLOC_NAME"
    if [ $ok = 1 ]; then pass "$tname"; else fail "$tname" "$why" "$log"; fi
}

rm -f "$D"/bench.*.txt
run_server jemalloc
run_server glibc
[ -n "$LIB" ] && run_server lib
if [ -s "$D/bench.glibc.txt" ] && [ -s "$D/bench.jemalloc.txt" ]; then
    col() { if [ -s "$D/bench.$1.txt" ]; then sed 's/: / /; s/ requests.*//' "$D/bench.$1.txt" | sort; else sed 's/: .*/ -/' "$D/bench.glibc.txt" | sort; fi; }
    echo "    requests/s     jemalloc      glibc  ${LIB:+$(basename "$LIB")  (vs glibc)}"
    join <(col jemalloc) <(col glibc) | join - <(col lib) |
        awk -v lib="${LIB:+1}" '{ if (lib && $4 != "-") printf "    %-8s %12s %10s %10s  (%+.1f%%)\n", $1, $2, $3, $4, ($4 / $3 - 1) * 100;
                                 else printf "    %-8s %12s %10s\n", $1, $2, $3 }'
fi
finish
