#!/usr/bin/env bash
# tests/features/run.sh -- the user-facing features beyond malloc:
#   make install layout + pkg-config, the call-site API from C and from Swift (linked
#   directly, not preloaded), HAKMEM_STATS output (parsed and checked), every HAKMEM_*
#   variable (valid, malformed, unknown), and the launcher's flags and exit status.
# Prints PASS/FAIL lines and `N passed, N failed`.
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$HERE/../lib.sh"
OUT="$REPO/build/tests/features"
rm -rf "$OUT"; mkdir -p "$OUT"
PREFIX="$OUT/prefix"

if make -s -C "$REPO" install PREFIX="$PREFIX" >"$OUT/install.log" 2>&1 \
   && [ -f "$PREFIX/lib/libhakmem.so" ] && [ -f "$PREFIX/include/hakmem.h" ] \
   && [ -f "$PREFIX/include/hakmem/module.modulemap" ] && [ -x "$PREFIX/bin/hakmem" ]; then
    pass install
else
    fail install "see $OUT/install.log"; finish
fi
LIB="$PREFIX/lib/libhakmem.so"

# field N of the line starting (after spaces) with $1 in file $2
row() { awk -v k="$1" -v n="$3" '$1 == k {print $n; exit}' "$2"; }

# --- C, linked through pkg-config -------------------------------------------------
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
if cc -O1 -o "$OUT/sites" "$HERE/sites.c" $(pkg-config --cflags --libs hakmem) 2>"$OUT/sites.build" \
   && "$OUT/sites" >"$OUT/sites.out" 2>"$OUT/sites.err"; then
    a=$(row 0x1234 "$OUT/sites.err" 2); f=$(row 0x1234 "$OUT/sites.err" 3); l=$(row 0x1234 "$OUT/sites.err" 4)
    a99=$(row 0x99 "$OUT/sites.err" 2); l99=$(row 0x99 "$OUT/sites.err" 4)
    if [ "$a" = 300 ] && [ "$f" = 100 ] && [ "$l" = $((200 * 5120)) ] && [ "$a99" = 3 ] && [ "$l99" = 0 ]; then
        pass site_api_c
    else
        fail site_api_c "site 0x1234: allocs=$a frees=$f live=$l; site 0x99: allocs=$a99 live=$l99"
    fi
else
    fail site_api_c "build or run failed: $(tail -n 3 "$OUT/sites.build" "$OUT/sites.err" 2>/dev/null | tr '\n' ' ')"
fi

# --- Swift, through the module map ------------------------------------------------
if swiftc -O -I "$PREFIX/include/hakmem" -L "$PREFIX/lib" -Xlinker -rpath -Xlinker "$PREFIX/lib" \
        -o "$OUT/sites-swift" "$HERE/SitesDemo.swift" >"$OUT/swift.build" 2>&1 \
   && "$OUT/sites-swift" >"$OUT/swift.out" 2>"$OUT/swift.err"; then
    a=$(row 0xabc "$OUT/swift.err" 2); f=$(row 0xabc "$OUT/swift.err" 3); l=$(row 0xabc "$OUT/swift.err" 4)
    if [ "$a" = 50 ] && [ "$f" = 20 ] && [ "$l" = $((30 * 208)) ]; then pass site_api_swift
    else fail site_api_swift "site 0xabc: allocs=$a frees=$f live=$l"; fi
else
    fail site_api_swift "build or run failed: $(tail -n 3 "$OUT/swift.build" "$OUT/swift.err" | tr '\n' ' ')"
fi

# --- HAKMEM_STATS=1 on a program with known counts ---------------------------------
cat >"$OUT/known.c" <<'C'
#include <stdlib.h>
#include <pthread.h>
static void *worker(void *arg) { for (int i = 0; i < 500; i++) free(malloc(3000)); return arg; }
int main(void) {
    void *p[1000];
    for (int i = 0; i < 1000; i++) p[i] = malloc(100);
    for (int i = 0; i < 1000; i++) free(p[i]);
    void *big = malloc(5 << 20); free(big);
    pthread_t t; pthread_create(&t, 0, worker, 0); pthread_join(t, 0);
    return 0;
}
C
cc -O1 -pthread -fno-builtin -o "$OUT/known" "$OUT/known.c"
HAKMEM_STATS=1 LD_PRELOAD="$LIB" "$OUT/known" 2>"$OUT/stats.err"
tiny=$(awk '$1 == "Tiny" && $3 == 112 {print $4, $5}' "$OUT/stats.err")
mid=$(awk '$1 == "Mid" && $3 == 3072 {print $4, $5}' "$OUT/stats.err")
large=$(awk '$1 == "Large" {print $4, $5}' "$OUT/stats.err")
threads=$(awk '$1 == "threads:" {print $2, $6}' "$OUT/stats.err")
implicit=$(awk '$1 == "malloc" && $2 == "(implicit)" {print $4; exit}' "$OUT/stats.err")
if [ "${tiny% *}" -ge 1000 ] 2>/dev/null && [ "$mid" = "500 500" ] && [ "$large" = "1 1" ] \
   && [ "${threads% *}" -ge 2 ] 2>/dev/null && [ "${threads#* }" -ge 1 ] 2>/dev/null \
   && [ "${implicit:-0}" -ge 1501 ] 2>/dev/null && grep -q '^totals: allocs ' "$OUT/stats.err"; then
    pass stats_table
else
    fail stats_table "tiny(112)='$tiny' mid(3072)='$mid' large='$large' threads='$threads' implicit allocs='$implicit'"
fi
# stats off: nothing printed
LD_PRELOAD="$LIB" "$OUT/known" 2>"$OUT/nostats.err"
[ ! -s "$OUT/nostats.err" ] && pass stats_off_silent || fail stats_off_silent "stderr: $(head -c 200 "$OUT/nostats.err")"

# --- configuration variables -------------------------------------------------------
# hakmem starts lazily, on the first malloc: use a program that allocates (ls).
# hakmem starts lazily, on the first malloc: use a program that allocates (ls).
banner() { env "$@" HAKMEM_VERBOSE=1 LD_PRELOAD="$LIB" ls -d / 2>&1 >/dev/null; }
check_var() {   # name value expected-banner-fragment
    local out; out=$(banner "$1=$2")
    if echo "$out" | grep -q -- "$3" && ! echo "$out" | grep -q warning; then pass "config_$1"
    else fail "config_$1" "banner: $out"; fi
    out=$(banner "$1=12x")
    if echo "$out" | grep -q "warning: ignoring malformed $1" && echo "$out" | grep -q "hakmem: "; then
        pass "config_${1}_malformed"
    else fail "config_${1}_malformed" "got: $out"; fi
}
check_var HAKMEM_PURGE_DELAY_MS 250 "purge delay 250 ms"
check_var HAKMEM_LARGE_CACHE_MB 16 "large cache 16 MiB"
check_var HAKMEM_THREAD_CACHE_KB 512 "thread cache 512 KiB"
check_var HAKMEM_QUARANTINE_MB 8 "quarantine 8 MiB"
check_var HAKMEM_CHECK 1 "checked mode"
check_var HAKMEM_STATS 1 "stats on"
out=$(banner HAKMEM_VERBOSE=0)
echo "$out" | grep -q "hakmem: 0\." && pass config_HAKMEM_VERBOSE || fail config_HAKMEM_VERBOSE "$out"
out=$(HAKMEM_PURGE_DELAY_MS=99999999999 LD_PRELOAD="$LIB" HAKMEM_VERBOSE=1 ls -d / 2>&1 >/dev/null)
echo "$out" | grep -q "malformed HAKMEM_PURGE_DELAY_MS" && echo "$out" | grep -q "purge delay 50 ms" \
    && pass config_out_of_range || fail config_out_of_range "$out"
out=$(HAKMEM_CHEKC=1 LD_PRELOAD="$LIB" ls -d / 2>&1 >/dev/null)
echo "$out" | grep -q "unknown variable HAKMEM_CHEKC" && pass config_unknown_variable || fail config_unknown_variable "$out"

# settings must apply even when the first malloc comes before libc sets environ
cc -O1 -fno-builtin -o "$OUT/preinit" "$HERE/preinit.c"
out=$(HAKMEM_VERBOSE=1 HAKMEM_CHECK=1 LD_PRELOAD="$LIB" "$OUT/preinit" 2>&1)
echo "$out" | grep -q "hakmem: .*checked mode" && pass config_before_environ || fail config_before_environ "got: '$out'"

# --- launcher -----------------------------------------------------------------------
L="$PREFIX/bin/hakmem"
"$L" sh -c 'exit 7'; [ $? = 7 ] && pass launcher_exit_status || fail launcher_exit_status "not 7"
out=$("$L" --stats "$OUT/known" 2>&1); echo "$out" | grep -q '^hakmem stats' && pass launcher_stats || fail launcher_stats "$out"
out=$("$L" --check --verbose ls -d / 2>&1 >/dev/null); echo "$out" | grep -q 'checked mode' && pass launcher_check || fail launcher_check "$out"
out=$("$L" --bogus ls -d / 2>&1 >/dev/null); rc=$?
[ $rc = 2 ] && echo "$out" | grep -q "unknown option" && pass launcher_bad_option || fail launcher_bad_option "rc=$rc $out"

finish
